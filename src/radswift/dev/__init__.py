"""Developer tools, grouped as the `radswift dev` command groups them.

A real local Swift (`dev.swift`) and Keystone (`dev.keystone`) for tests and demos,
synthetic DICOM studies (`dev.samples`), and the end-to-end demo (`dev.demo`). Nothing
that serves users imports this package.
"""
