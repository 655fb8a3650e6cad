"""Wait strategies: how `publish put` learns that the processor(s) ended.

`strategy_for(config)` picks one by name; the kubernetes client is imported only
when the kubernetes strategy is used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from radswift.errors import ConfigError
from radswift.podcontract.env import WaitStrategy as PodWait
from radswift.publisher.wait.base import Deadline, NoWait, ProcessorOutcome, Waiter, WaitStrategy

if TYPE_CHECKING:
    from radswift.publisher.config import PublisherConfig

__all__ = [
    "Deadline",
    "NoWait",
    "ProcessorOutcome",
    "WaitStrategy",
    "Waiter",
    "strategy_for",
]


def strategy_for(config: PublisherConfig) -> Waiter:
    """The strategy `config.wait` names, configured for this pod."""
    if config.wait == PodWait.NONE:
        return NoWait()
    if config.wait == PodWait.EXITFILE:
        from radswift.publisher.wait.exitfile import ExitFileWait

        return ExitFileWait(config.share, indexed=config.index is not None)
    from radswift.publisher.wait.kubernetes import KubernetesWait

    config.check_wait()
    if config.kube is None or config.namespace is None or config.pod_name is None:
        raise ConfigError("the kubernetes wait strategy is not configured")  # check_wait said so
    return KubernetesWait(
        config.kube,
        namespace=config.namespace,
        pod_name=config.pod_name,
        own_worker=config.worker,
        job_name=config.job_name,
        container=config.processor_container,
    )
