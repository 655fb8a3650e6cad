"""Running many small jobs on a few threads, with no per-item thread or future.

`run_workers` starts `workers` threads that pull items from one shared iterator: the
cheapest way to keep per-file overhead low for thousands of small files. The jobs
report their own per-file failures; an exception escaping a job is fatal (the store
is unreachable, credentials were rejected): the other threads stop taking new
items and the exception is re-raised in the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def run_workers(job: Callable[[T], None], items: Sequence[T], workers: int) -> None:
    """Call `job(item)` for every item on up to `workers` threads; re-raise the first escape."""
    if workers <= 1 or len(items) == 1:
        for item in items:  # no thread needed; also lets a profiler see the work
            job(item)
        return
    source = iter(items)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop() -> None:
        while not stop.is_set():
            with lock:
                item = next(source, _END)
            if item is _END:
                return
            try:
                job(item)  # type: ignore[arg-type]
            except BaseException as exc:
                errors.append(exc)
                stop.set()
                return

    threads = [
        threading.Thread(target=loop, name=f"radswift-transfer-{i}", daemon=True)
        for i in range(min(workers, len(items)))
    ]  # (no items: no threads)
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        raise
    if errors:
        raise errors[0]


_END = object()
