"""pfioh, the file IO service: a thin HTTP shell (FastAPI on uvicorn) over the core
operations in `radswift.services.ioh.core`, which know nothing of HTTP.

    app = create_app(store, IohSettings(tokens=frozenset({"s3cret"})))
"""

from radswift.services.ioh.app import create_app
from radswift.services.ioh.settings import IohSettings, Tuning

__all__ = ["IohSettings", "Tuning", "create_app"]
