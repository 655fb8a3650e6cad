"""Reaching the Kubernetes API, and turning its refusals into radswift errors.

`configuration` builds the client's configuration from a kubeconfig file (out of a
cluster; the path is passed in, only `radswift.cli` reads KUBECONFIG) or from the pod's
service account (in-cluster: the token is re-read at each request, as bound tokens
rotate). `api_error` is the one place that reads an `ApiException` or a connection
failure and says, in words an operator can act on, what the cluster refused:

    403 with "exceeded quota"  JobError(reason="QuotaExceeded")
    403                        ConfigError(reason="Forbidden"): which verb on which resource,
                               and for whom, so the Role can be fixed
    401                        ConfigError(reason="Unauthorized"): the token or kubeconfig
    404                        NotFound
    409                        Conflict (callers of create treat it as "already there")
    422 / 400                  InvalidInput(reason="Invalid"): the cluster's own message
    connection refused, DNS,   StorageUnavailable(reason="KubernetesUnreachable"): HTTP 503
    timeouts, 5xx              for a service, as for an unreachable store

The token never appears in a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from radswift.errors import (
    ConfigError,
    Conflict,
    InvalidInput,
    JobError,
    NotFound,
    RadswiftError,
    StorageUnavailable,
)
from radswift.publisher.config import SERVICE_ACCOUNT_DIR, KubeConnection
from radswift.publisher.wait.kubernetes import api_configuration

IN_CLUSTER_HOST = "https://kubernetes.default.svc"
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = (CONNECT_TIMEOUT, 30.0)
"""(connect, read) seconds for every request that is not a watch or a followed log."""


def configuration(kubeconfig: Path | None = None, host: str | None = None) -> k8s.Configuration:
    """The client configuration: the kubeconfig when given, else in-cluster service account.

    In a pod the API is at `host` (default kubernetes.default.svc) with the service
    account's token and CA; a missing token file means "not in a cluster", said plainly.
    """
    if kubeconfig is None:
        token = SERVICE_ACCOUNT_DIR / "token"
        if host is None and not token.exists():
            raise ConfigError(
                "no Kubernetes configuration: not in a pod (no service-account token at "
                f"{token}) and no kubeconfig given (--kubeconfig or KUBECONFIG)"
            )
        connection = KubeConnection(host=host or IN_CLUSTER_HOST)
    else:
        if not kubeconfig.is_file():
            raise ConfigError(f"the kubeconfig {kubeconfig} does not exist")
        connection = KubeConnection(host="", kubeconfig=kubeconfig)
    try:
        cfg = api_configuration(connection)
    except RadswiftError:
        raise
    except Exception as exc:  # the kubeconfig loader raises its own ConfigException, or YAML's
        raise ConfigError(f"cannot use the kubeconfig {kubeconfig}: {exc}") from None
    cfg.retries = 1  # ours: the informers back off; a user's request fails fast
    return cfg


def api_error(exc: BaseException, verb: str, resource: str, namespace: str) -> RadswiftError:
    """The radswift error for a failed `verb` on `resource` (e.g. "create", "jobs.batch")."""
    where = f"{resource} in namespace {namespace!r}"
    if not isinstance(exc, ApiException):
        what = type(exc).__name__
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            what = f"{type(exc.reason).__name__}: {exc.reason}"
        return StorageUnavailable(
            f"cannot reach the Kubernetes API to {verb} {where} ({what})",
            reason="KubernetesUnreachable",
        )
    message = _status_message(exc)
    status = exc.status or 0
    if status == 403 and "exceeded quota" in message:
        return JobError(
            f"the namespace's quota refused to {verb} {where}: {message}", reason="QuotaExceeded"
        )
    if status == 403:
        return ConfigError(
            f"the Kubernetes API forbids pman to {verb} {where} (RBAC): give its service "
            f"account a Role with verb {verb!r} on {resource!r} ({message})",
            reason="Forbidden",
        )
    if status == 401:
        return ConfigError(
            f"the Kubernetes API did not accept pman's credentials to {verb} {where} "
            "(expired token or wrong kubeconfig)",
            reason="Unauthorized",
        )
    if status == 404:
        return NotFound(f"no such object: {verb} {where}: {message}", status=404)
    if status == 409:
        return Conflict(f"{verb} {where}: {message}", status=409)
    if status in (400, 422):
        return InvalidInput(
            f"the cluster refused the {resource} as invalid: {message}", reason="Invalid"
        )
    return StorageUnavailable(
        f"the Kubernetes API failed to {verb} {where} (HTTP {status}): {message}",
        reason="KubernetesUnavailable",
        status=status,
    )


def _status_message(exc: ApiException) -> str:
    """The `message` of the Status body the API server sends with every error."""
    try:
        body: Any = json.loads(exc.body or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:500]
    return str(exc.reason or f"HTTP {exc.status}")
