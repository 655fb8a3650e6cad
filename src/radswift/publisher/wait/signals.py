"""Stop waiting on SIGTERM, so that put still publishes within the pod's grace period.

When a Job hits activeDeadlineSeconds, or the pod is deleted, the kubelet sends
SIGTERM to every container and kills them after the grace period (30 s by default).
A publish container that only waited would lose everything the processor wrote; with
this wrapper the wait ends with WaitInterrupted, put uploads what is there and
records `interrupted`. Only the wait is interruptible: afterwards SIGTERM is ignored
so that the upload can finish (the kubelet's SIGKILL at the end of the grace period
still ends it); SIGINT gets its previous handler back.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from types import FrameType

from radswift.publisher.wait.base import Deadline, ProcessorOutcome, WaitInterrupted, WaitStrategy

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class InterruptibleWait:
    """Wraps a strategy; SIGTERM/SIGINT during its wait raise WaitInterrupted.

    Installs handlers, so it must run in the main thread (the CLI's)."""

    def __init__(self, inner: WaitStrategy, *, ignore_sigterm_after: bool = True) -> None:
        self._inner = inner
        self._ignore_after = ignore_sigterm_after

    @property
    def name(self) -> str:
        return self._inner.name

    def wait(
        self, workers: Sequence[int], deadline: Deadline, found: dict[int, ProcessorOutcome]
    ) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            raise WaitInterrupted(f"stopped by {signal.Signals(signum).name} while waiting")

        previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
        try:
            # A launcher may start publish with these blocked (radswift.jobs.local_run), so
            # that one sent before the handlers existed is pending, not fatal: deliver it now.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            self._inner.wait(workers, deadline, found)
        finally:
            for sig in STOP_SIGNALS:
                keep_going = self._ignore_after and sig == signal.SIGTERM
                signal.signal(sig, signal.SIG_IGN if keep_going else previous[sig])
