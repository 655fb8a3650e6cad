"""Serve Keystone's WSGI application with waitress, inside the Keystone venv.

Executed as a script by the Keystone venv's Python; it does not import radswift (which is
not installed there). Keystone is given its config file directly (what its own
`keystone.server.wsgi` would find in OS_KEYSTONE_CONFIG_FILES), so the environment is
neither read nor written here; oslo.config parses `sys.argv` when the application
initializes: a WSGI server's own arguments would make it exit with "unrecognized
arguments", so argv is emptied first.

    python _launcher.py CONF HOST PORT THREADS
"""

from __future__ import annotations

import importlib
import sys
import warnings


def main(argv: list[str]) -> int:
    conf, host, port, threads = argv
    sys.argv = sys.argv[:1]
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # Imported by name: neither exists in radswift's own environment (nor its type checker's).
    flask_core = importlib.import_module("keystone.server.flask.core")
    application = flask_core.initialize_application(name="public", config_files=[conf])
    waitress = importlib.import_module("waitress")
    waitress.serve(application, host=host, port=int(port), threads=int(threads), ident="keystone")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
