"""pman: a thin ASGI shell over radswift.jobmanager (REST API, ChRIS pman shape, metrics)."""

from radswift.services.man.app import create_app
from radswift.services.man.settings import ManSettings

__all__ = ["ManSettings", "create_app"]
