"""The job pod's contract between the job backends (jobs/, pman) and the publisher.

    env.py     the publisher's environment: names, defaults, `PodEnv.to_env` / `from_env`,
               the wait strategy
    share.py   the shared volume: every file under /share, who writes it, and when
    emissary   the exit-code wrapper of the `exitfile` strategy (emissary.c; built by the
               image and the local backend, installed into /share by `publish get`)

Both sides import this package; neither imports the other.
"""

from radswift.podcontract.env import PodEnv, WaitStrategy

__all__ = ["PodEnv", "WaitStrategy"]
