"""The legacy pfioh wire protocol (pfurl 2.3 and pfcon speak it), beside the REST API.

POST /api/v1/cmd (Mode: control, a JSON message) or Mode: file (a multipart form with
`d_msg`, `filename` and the zip in `local`); GET /api/v1/cmd?action=...&meta=<literal>.
Actions: hello, pushPath, pullPath, ls, rmtree, internalctl. A pushed zip is unpacked
as a stream into one object per file under the key's `input/`; a pull answers the zip
of the key's `output/` in a correct HTTP response (chunked), not the 2.2 server's
HTTP/1.0 reply with JSON appended. Every location resolves to a key (a container): a
`remote.path` is reduced to one validated name and never reaches outside the store.
"""

from radswift.services.ioh.legacy.routes import router

__all__ = ["router"]
