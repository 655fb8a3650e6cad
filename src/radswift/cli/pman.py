"""`pman`: the process manager (see issue: pman). Until it lands this only prints help."""

from __future__ import annotations

import sys


def main() -> None:
    print("pman: the radswift process manager is not built yet; see `radswift --help`.")
    sys.exit(0 if "--help" in sys.argv or "-h" in sys.argv else 2)
