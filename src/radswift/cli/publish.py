"""`radswift publish get|put|build-emissary`: the radswift containers of a job pod.

    radswift publish get [KEY] [--dir /share/incoming]        the init container
    radswift publish put [KEY] [--dir /share/outgoing] [--wait kubernetes|exitfile|none]
                         [--deadline SECONDS] [--layout objects|bundle]
                                                              the publish container
    radswift publish build-emissary OUT                        used by the image build

`python -m radswift.cli.publish get|put` runs the same commands without importing the
rest of the CLI (the services pull in FastAPI): a faster start for job pods.

Configuration comes from the pod's environment (radswift.publisher.config lists every
variable); options win. Outside a pod, set RADSWIFT_SHARE: /share is used by default only
where it exists, in a container, or with KUBERNETES_SERVICE_HOST set. Exit codes:
radswift.publisher.get and .put say what each means.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from radswift.cli.app import run_app
from radswift.cli.summary import human_size, plural, summary_line
from radswift.podcontract.emissary import build_emissary
from radswift.publisher.config import PublisherConfig, require_share
from radswift.publisher.get import run_get
from radswift.publisher.put import run_put
from radswift.publisher.wait import strategy_for
from radswift.publisher.wait.signals import InterruptibleWait
from radswift.store import ObjectStore, open_store

app = typer.Typer(
    help="The publisher: fetch a job's input before, publish its output after the processor."
    " Configured by the pod's environment: RADSWIFT_KEY, RADSWIFT_SHARE (the shared volume;"
    " default /share, inside a pod only), RADSWIFT_WAIT, RADSWIFT_CREDENTIALS_FILE or the"
    " ST_*/OS_* variables, RADSWIFT_OUTPUT_LAYOUT (radswift.publisher.config lists them all).",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help, as every radswift command (cli/main.py)
)

KeyArg = Annotated[
    str | None,
    typer.Argument(help="The job key (else RADSWIFT_KEY or SWIFT_KEY).", show_default=False),
]


def _store_opener(config: PublisherConfig) -> Callable[[], ObjectStore]:
    def opener() -> ObjectStore:
        return open_store(
            config.store_url,
            environ=os.environ,
            credentials_file=config.credentials_file,
            retries=config.retries,
        )

    return opener


def _say(message: str) -> None:
    typer.echo(f"radswift publish: {message}", err=True)


@app.command()
def get(
    key: KeyArg = None,
    dir: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to put the input (default $RADSWIFT_SHARE/incoming)."),
    ] = None,
) -> None:
    """Fetch the key's input/ into $RADSWIFT_SHARE/incoming and prepare the share (init
    container). RADSWIFT_SHARE defaults to /share inside a pod; set it elsewhere.

    The wait strategy matters to get only for `exitfile` (install the emissary)."""
    require_share(os.environ)
    config = PublisherConfig.from_env(
        os.environ, key=key, incoming=dir, wait=os.environ.get("RADSWIFT_WAIT") or "none"
    )
    if config.is_uploader:
        _say(f"fetching {config.key}/input/ into {config.incoming}")
    else:
        _say(f"worker {config.worker}: waiting for worker 0 to fetch the input")
    result = run_get(config, _store_opener(config))
    line = summary_line(
        files=result.files, directories=0, nbytes=result.bytes, seconds=result.seconds
    )
    _say(f"{result.role} {line}")


@app.command()
def put(
    key: KeyArg = None,
    dir: Annotated[
        Path | None,
        typer.Option("--dir", help="What to publish (default $RADSWIFT_SHARE/outgoing)."),
    ] = None,
    wait: Annotated[
        str | None,
        typer.Option(
            "--wait", help="kubernetes | exitfile | none (else RADSWIFT_WAIT).", show_default=False
        ),
    ] = None,
    deadline: Annotated[
        float | None,
        typer.Option(
            "--deadline", help="Give up waiting after SECONDS (else RADSWIFT_DEADLINE_SECONDS)."
        ),
    ] = None,
    kube_host: Annotated[
        str | None, typer.Option("--kube-host", help="API server URL (else in-cluster config).")
    ] = None,
    kube_token_file: Annotated[
        Path | None,
        typer.Option("--kube-token-file", help="Bearer token file (else the service account's)."),
    ] = None,
    kube_ca_file: Annotated[
        Path | None, typer.Option("--kube-ca-file", help="CA bundle of the API server.")
    ] = None,
    kubeconfig: Annotated[
        Path | None,
        typer.Option("--kubeconfig", help="Use a kubeconfig instead of in-cluster config."),
    ] = None,
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            help="objects (one per file) | bundle (one tar object) (else RADSWIFT_OUTPUT_LAYOUT,"
            " else objects).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Wait for the processor, then upload $RADSWIFT_SHARE/outgoing to output/ (publish
    container). RADSWIFT_SHARE defaults to /share inside a pod; set it elsewhere."""
    require_share(os.environ)
    config = PublisherConfig.from_env(
        os.environ,
        key=key,
        outgoing=dir,
        wait=wait,
        deadline_seconds=deadline,
        kube_host=kube_host,
        kube_token_file=kube_token_file,
        kube_ca_file=kube_ca_file,
        kubeconfig=kubeconfig,
        output_layout=layout,
    )
    strategy = InterruptibleWait(strategy_for(config))
    who = "the processors" if config.is_uploader and config.workers > 1 else "the processor"
    _say(f"waiting for {who} ({strategy.name})")
    result = run_put(config, _store_opener(config), strategy)
    if result.uploaded:
        _say(
            f"published {plural(result.files, 'file')}, {human_size(result.bytes)} to"
            f" {config.key}/output/"
            f" ({result.layout or config.output_layout})"
        )
    else:
        _say(f"worker {config.worker}: processor done, worker 0 published the outputs")


@app.command("build-emissary")
def build_emissary_command(
    out: Annotated[Path, typer.Argument(help="Where to write the static binary.")],
) -> None:
    """Compile the exit-code wrapper (emissary.c) statically with gcc."""
    path = build_emissary(out)
    typer.echo(str(path))


def main() -> None:
    """Entry point of `python -m radswift.cli.publish`."""
    sys.exit(run_app(app))


if __name__ == "__main__":
    main()
