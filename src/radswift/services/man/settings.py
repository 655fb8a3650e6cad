"""What a pman instance is configured with: one frozen value built by the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from radswift import __version__

DEFAULT_IP = "127.0.0.1"
DEFAULT_PORT = 5010
DEFAULT_LOG_TAIL = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ManSettings:
    """tokens: accepted bearer tokens, None when token auth is off; backend: its name
    (reported by /healthz and the ChRIS shape's `container_env`); storage: swift | local."""

    tokens: frozenset[str] | None = None
    backend: str = "local"
    storage: str = "local"
    log_tail: int = DEFAULT_LOG_TAIL
    name: str = "pman"
    version: str = __version__

    def __repr__(self) -> str:
        tokens = "off" if self.tokens is None else f"{len(self.tokens)} token(s)"
        return f"ManSettings(auth={tokens}, backend={self.backend}, storage={self.storage})"
