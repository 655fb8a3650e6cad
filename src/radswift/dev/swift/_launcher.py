"""Run one Swift server (or build the rings) inside the Swift venv, never reading /etc/swift.

This file is executed as a script by the Swift venv's Python; it does not import radswift
(which is not installed there). Swift reads `/etc/swift/swift.conf` at import time, whatever
`swift_dir` says, and some daemons ignore `swift_dir`: so before any server module is
imported we point `SWIFT_CONF_FILE` at our own directory and reload the constraints and
storage policies that were parsed from the default path. Swift logs to syslog, and there is
no /dev/log here: its syslog handler is replaced by a file handler on the log file we are
given.

    python _launcher.py SWIFT_DIR LOG_FILE server KIND CONF  # proxy|account|container|object
    python _launcher.py SWIFT_DIR LOG_FILE daemon container-updater CONF
    python _launcher.py SWIFT_DIR LOG_FILE rings HOST ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

PART_POWER = 6
DEVICE = "d1"


def _point_swift_at(swift_dir: str, log_file: str) -> None:
    """Make Swift read swift.conf from `swift_dir` and log into `log_file`."""
    from swift.common import utils  # type: ignore[import-not-found]
    from swift.common.utils import logs  # type: ignore[import-not-found]

    utils.SWIFT_CONF_FILE = str(Path(swift_dir) / "swift.conf")
    from swift.common import constraints, storage_policy

    constraints.reload_constraints()
    storage_policy.reload_storage_policies()

    def file_handler(*_args: Any, **_kwargs: Any) -> logging.Handler:
        return logging.FileHandler(log_file)

    logs.ThreadSafeSysLogHandler = file_handler


def _build_rings(swift_dir: str, host: str, ports: dict[str, int]) -> None:
    """One replica, one device, part power 6: the smallest ring Swift accepts."""
    from swift.common.ring import RingBuilder  # type: ignore[import-not-found]

    for kind, port in ports.items():
        builder = RingBuilder(PART_POWER, 1, 1)
        builder.add_dev(
            {
                "id": 0,
                "region": 1,
                "zone": 1,
                "ip": host,
                "port": port,
                "replication_ip": host,
                "replication_port": port,
                "device": DEVICE,
                "weight": 100.0,
                "meta": "",
            }
        )
        builder.rebalance()
        builder.save(str(Path(swift_dir) / f"{kind}.builder"))
        builder.get_ring().save(str(Path(swift_dir) / f"{kind}.ring.gz"))


def main(argv: list[str]) -> int:
    swift_dir, log_file, mode, *rest = argv
    _point_swift_at(swift_dir, log_file)
    if mode == "rings":
        host, account, container, obj = rest
        ports = {"account": int(account), "container": int(container), "object": int(obj)}
        _build_rings(swift_dir, host, ports)
        return 0
    kind, conf = rest
    if mode == "server":
        from swift.common.wsgi import run_wsgi  # type: ignore[import-not-found]

        return int(run_wsgi(conf, f"{kind}-server"))
    if mode == "daemon" and kind == "container-updater":
        from swift.common.daemon import run_daemon  # type: ignore[import-not-found]
        from swift.container.updater import ContainerUpdater  # type: ignore[import-not-found]

        run_daemon(ContainerUpdater, conf)
        return 0
    print(f"unknown launch mode {mode} {kind}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
