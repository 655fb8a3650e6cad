"""radswift's HTTP services: thin ASGI shells over the library.

- `radswift.services.ioh`: pfioh, file IO (push a tree to a key's input/, pull its
  output/), REST API plus the legacy pfioh protocol; run by `pfioh` / `radswift serve ioh`.
"""
