"""HTTP clients of radswift's own services: `pfioh.IohClient` (`radswift push/pull`) and
`pman.ManClient` (`radswift job ...`), on httpx.

Not to be confused with Swift's client, `radswift.swift.client`: these speak to pfioh and
pman, never to Swift.
"""
