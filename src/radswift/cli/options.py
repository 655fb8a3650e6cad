"""The options several commands share, declared once (typer `Annotated` aliases).

pfioh and pman (`radswift serve ioh|man`) take the same listening, storage, token and
verbosity flags, pfioh's legacy spelling included (--storeBase, --enableTokenAuth,
--tokenPath); `radswift job manifest` and `radswift job submit` describe the processor
with the same flags. A flag declared here reads the same in every command's --help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# --- the services (cli/serve.py, cli/man.py) ------------------------------------------------
ListenIp = Annotated[str, typer.Option("--ip", help="Address to listen on.")]
StoreBase = Annotated[
    Path, typer.Option("--storeBase", help="Local store directory (without --swift-storage).")
]
SwiftStorage = Annotated[
    bool, typer.Option("--swift-storage", help="Keys in Swift (else in --storeBase).")
]
SwiftCredentials = Annotated[
    Path | None,
    typer.Option(
        "--swift-credentials",
        show_default=False,
        help="Swift credentials file (ChRIS format); default: the ST_*/OS_* environment, "
        "else /etc/swift/swift-credentials.cfg.",
    ),
]
TokenAuth = Annotated[bool, typer.Option("--enableTokenAuth", help="Require a token.")]
TokenPath = Annotated[Path | None, typer.Option("--tokenPath", help="Token file.")]
Verbosity = Annotated[int, typer.Option("--verbosity", "-v", help="0 quiet .. 2 debug.")]

# --- the processor of a job (cli/job.py, cli/job_client.py) ---------------------------------
ProcessorImage = Annotated[str, typer.Option("--image", help="The processor's image.")]
Cpu = Annotated[
    str | None, typer.Option(help="The processor's CPU (request = limit), 1m to 256, e.g. 2000m.")
]
Memory = Annotated[
    str | None, typer.Option(help="The processor's memory (request = limit), 1Mi to 1Ti, e.g. 1Gi.")
]
Gpu = Annotated[
    int, typer.Option(help="NVIDIA GPUs (nvidia.com/gpu limit), 0-16; kubernetes/openshift only.")
]
Workers = Annotated[int, typer.Option(help="Parallel processors (an Indexed Job's pods).")]
Env = Annotated[
    list[str] | None,
    typer.Option("--env", "-e", help="NAME=VALUE for the processor (repeatable)."),
]
