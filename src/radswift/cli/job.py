"""`radswift job manifest`: a job's Kubernetes/OpenShift objects as YAML.

    radswift job manifest --platform openshift --jid study-42 --image quay.io/fnndsc/pl-x:1 \\
        --radswift-image quay.io/me/radswift:1 \\
        --cpu 2000m --memory 4Gi --workers 2 -- pl-x /share/incoming /share/outgoing

prints the objects in apply order (`| kubectl apply -f -`). The Swift credentials are
never part of it: create the Secret once per namespace with
`kubectl create secret generic swift-credentials --from-file=swift-credentials.cfg`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from radswift.cli.options import Cpu, Env, Gpu, Memory, ProcessorImage, Workers
from radswift.errors import InvalidInput
from radswift.jobs.spec import (
    DEFAULT_ACTIVE_DEADLINE_SECONDS,
    DEFAULT_CREDENTIALS_SECRET,
    DEFAULT_NAMESPACE,
    DEFAULT_SERVICE_ACCOUNT,
    DEFAULT_TTL_SECONDS_AFTER_FINISHED,
    JobSpec,
    OutputLayout,
    Platform,
    WaitStrategy,
)

app = typer.Typer(
    help="Jobs: run them through pman (submit, status, logs, list, cancel, rm), or print their"
    " Kubernetes and OpenShift manifests.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def manifest(
    jid: Annotated[str, typer.Option("--jid", help="The job id: the Swift key holding input/.")],
    image: ProcessorImage,
    command: Annotated[
        list[str] | None, typer.Argument(help="The processor's command and arguments, after --.")
    ] = None,
    platform: Annotated[Platform, typer.Option(help="Where the manifests go.")] = (
        Platform.KUBERNETES
    ),
    cpu: Cpu = None,
    memory: Memory = None,
    gpu: Gpu = 0,
    workers: Workers = 1,
    namespace: Annotated[str, typer.Option(help="The namespace.")] = DEFAULT_NAMESPACE,
    wait: Annotated[
        WaitStrategy, typer.Option(help="How publish learns that the processor finished.")
    ] = WaitStrategy.KUBERNETES,
    output_layout: Annotated[
        OutputLayout,
        typer.Option(help="How publish stores the outputs: one object per file, or one tar."),
    ] = OutputLayout.OBJECTS,
    env: Env = None,
    radswift_image: Annotated[
        str | None,
        typer.Option(
            help="The image of the get and publish containers, as the cluster pulls it"
            " (required: build and push it as deploy/README.md says).",
            show_default=False,
        ),
    ] = None,
    credentials_secret: Annotated[
        str, typer.Option(help="The Secret holding swift-credentials.cfg.")
    ] = DEFAULT_CREDENTIALS_SECRET,
    service_account: Annotated[
        str, typer.Option(help="The publisher's service account.")
    ] = DEFAULT_SERVICE_ACCOUNT,
    active_deadline: Annotated[
        int, typer.Option(help="Seconds before the Job is stopped.")
    ] = DEFAULT_ACTIVE_DEADLINE_SECONDS,
    ttl: Annotated[
        int, typer.Option(help="Seconds a finished Job is kept.")
    ] = DEFAULT_TTL_SECONDS_AFTER_FINISHED,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Print the Job, its RBAC and (for N workers) its shared claim as multi-document YAML."""
    from radswift.jobs.manifests import manifests, to_yaml  # the kubernetes models load slowly

    if not radswift_image:
        raise InvalidInput(NO_RADSWIFT_IMAGE)
    spec = JobSpec(
        jid=jid,
        image=image,
        command=command or (),
        cpu=cpu,
        memory=memory,
        gpu=gpu,
        workers=workers,
        namespace=namespace,
        env=parse_env(env or []),
        wait=wait,
        radswift_image=radswift_image,
        credentials_secret=credentials_secret,
        service_account=service_account,
        active_deadline_seconds=active_deadline,
        ttl_seconds_after_finished=ttl,
        platform=platform,
        output_layout=output_layout,
    )
    text = to_yaml(manifests(spec))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


NO_RADSWIFT_IMAGE = (
    "--radswift-image is required: the job's get and publish containers run radswift's"
    " image, which no cluster can pull from this machine. Build it with"
    " deploy/scripts/build-image.sh --base docker.io/library/python:3.11-slim-bookworm"
    " -t REGISTRY/radswift:TAG, push it (podman push REGISTRY/radswift:TAG) and pass"
    " --radswift-image REGISTRY/radswift:TAG (see deploy/README.md); for a local"
    " `podman kube play`, name an image of `podman images localhost/radswift`"
)
"""Why a manifest needs --radswift-image: the default image exists only on this machine."""


def parse_env(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE pairs as a dict; InvalidInput for a pair without '='."""
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--env {pair!r}: expected NAME=VALUE")
        env[name] = value
    return env


def _register_client() -> None:
    """submit, status, logs, list, cancel, rm: the pman client (cli/job_client.py); run:
    a whole task through pman and pfioh (cli/job_run.py)."""
    from radswift.cli.job_client import register
    from radswift.cli.job_run import run

    register(app)
    app.command("run")(run)


_register_client()
