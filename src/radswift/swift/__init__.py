"""radswift.swift."""
