"""`pfioh`: the file IO service (see issue: pfioh). Until it lands this only prints help."""

from __future__ import annotations

import sys


def main() -> None:
    print("pfioh: the radswift file IO service is not built yet; see `radswift --help`.")
    sys.exit(0 if "--help" in sys.argv or "-h" in sys.argv else 2)
