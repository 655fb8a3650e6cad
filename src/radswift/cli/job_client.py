"""`radswift job submit|status|logs|list|cancel|rm --pman URL`: the pman client commands.

pman's URL comes from --pman or $RADSWIFT_PMAN, the token from --token or
$RADSWIFT_PMAN_TOKEN (read here, the composition root). Output is for humans unless
--json is given (one JSON document, for scripts).
"""

from __future__ import annotations

import json
import os
import time
from typing import Annotated, Any

import typer

from radswift.cli.job import parse_env
from radswift.cli.options import Cpu, Env, Gpu, Memory, ProcessorImage, Workers
from radswift.errors import InvalidInput
from radswift.service_clients.pman import ManClient

PMAN_ENV = "RADSWIFT_PMAN"
TOKEN_ENV = "RADSWIFT_PMAN_TOKEN"  # noqa: S105 (a variable name, not a secret)
FINISHED = ("finishedSuccessfully", "finishedWithError")
WATCH_INTERVAL = 1.0

PmanOption = Annotated[
    str | None,
    typer.Option("--pman", help=f"pman's URL (default: ${PMAN_ENV}).", show_default=False),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", help=f"Bearer token (default: ${TOKEN_ENV}).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]
Jid = Annotated[str, typer.Argument(help="The job id.")]


def register(app: typer.Typer) -> None:
    for name, command in (("submit", submit), ("status", status), ("logs", logs),
                          ("list", list_jobs), ("cancel", cancel), ("rm", remove)):  # fmt: skip
        app.command(name)(command)


def submit(
    jid: Annotated[str, typer.Option("--jid", help="The job id (and key, by default).")],
    image: ProcessorImage,
    command: Annotated[
        list[str], typer.Argument(help="After --: the plugin's executable and its arguments.")
    ],
    pman: PmanOption = None,
    token: TokenOption = None,
    kind: Annotated[str, typer.Option("--type", help="ds | fs | ts (ChRIS plugin type).")] = "ds",
    input_key: Annotated[str | None, typer.Option(help="The key holding input/.")] = None,
    cpu: Cpu = None,
    memory: Memory = None,
    gpu: Gpu = 0,
    workers: Workers = 1,
    auid: Annotated[str, typer.Option(help="Who submits (ChRIS user).")] = "",
    env: Env = None,
    output_layout: Annotated[str, typer.Option(help="objects | bundle.")] = "objects",
    as_json: JsonOption = False,
) -> None:
    """Submit a job: the plugin runs between get and publish on pman's backend."""
    document: dict[str, Any] = {
        "jid": jid, "image": image, "entrypoint": command[:1], "args": command[1:],
        "type": kind, "cpu_limit": cpu, "memory_limit": memory, "gpu_limit": gpu,
        "number_of_workers": workers, "auid": auid, "env": parse_env(env or []),
        "input_key": input_key, "output_layout": output_layout,
    }  # fmt: skip
    with _client(pman, token) as client:
        job, created = client.submit(document)
    if as_json:
        typer.echo(json.dumps(job))
        return
    verb = "submitted" if created else "already submitted (the same spec)"
    typer.echo(f"{jid}: {verb}; {job['status']}")


def status(
    jid: Jid,
    pman: PmanOption = None,
    token: TokenOption = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Follow until it ends.")] = False,
    as_json: JsonOption = False,
) -> None:
    """A job's state, why it failed, and what it published."""
    with _client(pman, token) as client:
        if watch and not as_json:
            _watch(client, jid)
            return
        job = client.job(jid)
    typer.echo(json.dumps(job) if as_json else "\n".join(describe(job)))


def logs(
    jid: Jid,
    pman: PmanOption = None,
    token: TokenOption = None,
    step: Annotated[str, typer.Option(help="get | processor | publish.")] = "processor",
    tail: Annotated[int | None, typer.Option(help="Last N lines (default 200).")] = None,
    full: Annotated[bool, typer.Option("--full", help="The whole log.")] = False,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Until the step ends.")] = False,
) -> None:
    """One step's output."""
    with _client(pman, token) as client:
        if follow:
            for chunk in client.follow(jid, step, tail=tail):
                typer.echo(chunk, nl=False)
            return
        typer.echo(client.logs(jid, step, tail=tail, full=full), nl=False)


def list_jobs(
    pman: PmanOption = None,
    token: TokenOption = None,
    state: Annotated[str | None, typer.Option("--status", help="Only jobs in this state.")] = None,
    auid: Annotated[str | None, typer.Option(help="Only this user's jobs.")] = None,
    since: Annotated[str | None, typer.Option(help="Created since (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="Page size.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Jobs, newest first."""
    with _client(pman, token) as client:
        page = client.jobs(status=state, auid=auid, since=since, limit=limit, offset=offset)
    if as_json:
        typer.echo(json.dumps(page))
        return
    for job in page["jobs"]:
        typer.echo(f"{job['jid']:<40} {job['status']:<22} {job['created_at']}  {_why(job)}")
    shown = len(page["jobs"])
    typer.echo(f"{shown} of {page['total']} job(s)" + (f" from {offset}" if offset else ""))


def cancel(jid: Jid, pman: PmanOption = None, token: TokenOption = None,
           as_json: JsonOption = False) -> None:  # fmt: skip
    """Stop a job; what its processor wrote is still published."""
    with _client(pman, token) as client:
        job = client.cancel(jid)
    typer.echo(json.dumps(job) if as_json else f"{jid}: cancel asked; {job['status']}")


def remove(
    jid: Jid,
    pman: PmanOption = None,
    token: TokenOption = None,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete the key's objects.")] = False,
) -> None:
    """Forget a job and delete what its backend left (--purge: its key too)."""
    with _client(pman, token) as client:
        client.remove(jid, purge=purge)
    typer.echo(f"{jid}: removed" + (" with its key" if purge else ""))


def describe(job: dict[str, Any]) -> list[str]:
    """A job for humans: one fact per line."""
    lines = [f"{job['jid']}: {job['status']}" + (" (queued)" if job.get("queued") else "")]
    why = _why(job)
    if why:
        lines.append(f"  failed: {why}")
    for name in ("created_at", "started_at", "finished_at"):
        if job.get(name):
            lines.append(f"  {name.replace('_at', ''):<9} {job[name]}")
    steps = job.get("steps") or {}
    if steps:
        parts = [f"{s} {v.get('state')}" + (f" ({v['exit_code']})" if v.get("exit_code")
                 is not None else "") for s, v in steps.items()]  # fmt: skip
        lines.append("  steps:    " + ", ".join(parts))
    output = job.get("output")
    if output:
        lines.append(
            f"  output:   {output.get('files', 0)} file(s), {output.get('bytes', 0)} "
            f"bytes, layout {output.get('layout')} ({job.get('publisher_state')})"
        )
    if job.get("detail") and job["status"] == "finishedWithError":
        lines.append("  detail:   " + job["detail"].strip().replace("\n", "\n            "))
    return lines


def _why(job: dict[str, Any]) -> str:
    if job.get("status") != "finishedWithError":
        return ""
    step = job.get("failed_step")
    return f"{step}: {job.get('reason')}" if step else str(job.get("reason") or "")


def _watch(client: ManClient, jid: str) -> None:
    """A live view of one job until it finishes."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    job = client.job(jid)
    with Live(Text("\n".join(describe(job))), console=Console(), auto_refresh=False) as live:
        while job["status"] not in FINISHED:
            time.sleep(WATCH_INTERVAL)
            job = client.job(jid)
            live.update(Text("\n".join(describe(job))), refresh=True)


def _client(url: str | None, token: str | None) -> ManClient:
    found = url or os.environ.get(PMAN_ENV)
    if not found:
        raise InvalidInput(f"say where pman is: --pman URL or ${PMAN_ENV}")
    return ManClient(found, token=token or os.environ.get(TOKEN_ENV) or None)
