"""The publisher's get and put run inside the job service's own process (local backend).

A Python process per step costs a second of CPU start-up (0.3-3 s of wall time on a busy
two-core machine) for a few milliseconds of work on a small job; without isolation the
separate processes buy nothing, since get and put are radswift's own code with the
service's own rights. So they can run as functions in the job's driver thread, with the
very configuration (the step's environment) their processes would get, and their output
in the same log file. Put then runs once the processor has ended (no polling: the
exit-code file is there already). These steps cannot be signalled; a cancel stops the
processor, and put publishes what exists. After a restart they are simply run again.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import IO

from radswift.errors import RadswiftError
from radswift.publisher.config import PublisherConfig
from radswift.publisher.get import run_get
from radswift.publisher.put import run_put
from radswift.publisher.wait import strategy_for
from radswift.store import ObjectStore, open_store


def run_in_process(step: str, env: Mapping[str, str], log: IO[bytes]) -> int:
    """Run `get` or `publish` (put) as the step's process would; its exit code."""

    def say(message: str) -> None:
        log.write(f"radswift publish: {message}\n".encode())
        log.flush()

    try:
        if step == "get":
            config = PublisherConfig.from_env(env, wait=env.get("RADSWIFT_WAIT") or "none")
            say(f"fetching {config.key}/input/ into {config.incoming}")
            got = run_get(config, _opener(config, env))
            say(f"{got.role} {got.files} files, {got.bytes} bytes in {got.seconds:.1f} s")
            return 0
        config = PublisherConfig.from_env(env)
        put = run_put(config, _opener(config, env), strategy_for(config))
        say(f"published {put.files} files, {put.bytes} bytes to {config.key}/output/"
            f" ({put.layout or config.output_layout})")  # fmt: skip
        return 0
    except RadswiftError as err:
        say(f"error: {err.message}")
        return err.exit_code
    except Exception:  # a bug must fail the step, not the job service
        log.write(traceback.format_exc().encode())
        return 1


def _opener(config: PublisherConfig, env: Mapping[str, str]) -> Callable[[], ObjectStore]:
    def opener() -> ObjectStore:
        return open_store(
            config.store_url,
            environ=env,
            credentials_file=config.credentials_file,
            retries=config.retries,
        )

    return opener
