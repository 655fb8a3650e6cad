"""Bearer-token auth for pfioh, compatible with the legacy token files.

Token file formats (as the original pfioh read them):
- an INI file with an `[AUTH TOKENS]` section: every value of that section is a token;
- otherwise, one token per non-blank line (`#` starts a comment line).

Decision, the same for the REST API and the legacy protocol: a request without a usable
`Authorization: Bearer <token>` header (missing, or another scheme) is 400, a wrong token
is 401 (the legacy behaviour). The scheme is case-insensitive (pfurl sends `bearer`).
Tokens are compared in constant time against every accepted token, so timing says
nothing about which one nearly matched. /healthz is always open.
"""

from __future__ import annotations

import configparser
import hmac
from pathlib import Path

from radswift.errors import AuthorizationError, ConfigError, InvalidInput

AUTH_SECTION = "AUTH TOKENS"
OPEN_PATHS = frozenset({"/healthz"})


def load_tokens(path: Path) -> frozenset[str]:
    """The tokens a token file accepts. ConfigError if unreadable or empty (never quotes it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the token file {path}: {type(exc).__name__}") from None
    tokens = _tokens_from_ini(text) if f"[{AUTH_SECTION}]" in text else _tokens_from_lines(text)
    if not tokens:
        raise ConfigError(f"the token file {path} holds no token")
    return tokens


def _tokens_from_ini(text: str) -> frozenset[str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        raise ConfigError("the token file is not a valid INI file") from None
    return frozenset(v.strip() for v in parser[AUTH_SECTION].values() if v.strip())


def _tokens_from_lines(text: str) -> frozenset[str]:
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_authorization(header: str | None, tokens: frozenset[str]) -> None:
    """Accept, or raise InvalidInput (400: no bearer token) or AuthorizationError (401)."""
    if not header:
        raise InvalidInput(
            "this service needs an Authorization: Bearer <token> header", reason="missing_token"
        )
    scheme, _, presented = header.strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise InvalidInput(
            "the Authorization header must be 'Bearer <token>'", reason="missing_token"
        )
    wanted = presented.encode("utf-8")
    matched = False
    for token in tokens:  # no early exit: the time taken does not depend on which matched
        matched |= hmac.compare_digest(wanted, token.encode("utf-8"))
    if not matched:
        raise AuthorizationError("the token is not valid", reason="invalid_token")
