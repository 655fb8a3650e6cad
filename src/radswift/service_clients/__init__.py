"""Clients of radswift's services."""
