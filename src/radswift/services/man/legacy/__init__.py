"""The legacy pman 2.2 protocol (pfurl 2.3 and pfcon 2.x speak it), beside the REST API.

A thin layer mapping messages onto the JobManager, as pfioh's legacy shell maps its own
onto the transfer core:

messages.py  parsing a message safely; `run` mapped onto JobRequest (cmd -> entrypoint/type)
actions.py   hello, run, status, done, delete, search, info, get over the manager
replies.py   the original's reply shapes, built from job records
routes.py    POST /api/v1/cmd(/), GET /api/v1/<jid>[/<field>...]

`GET /api/v1/` itself stays the ChRIS pman 3-6 shape (server facts), not the original's
list of job roots. Not served: `quit` (no remote shutdown), `DBctl` (the registry is
SQLite and always on disk), `fileiosetup`. pfcon reads `d_ret.l_status` of `status`
until every entry contains "finished"; the states are radswift's, spelled as the
original spelled them.
"""

from radswift.services.man.legacy.routes import commands, tree

__all__ = ["commands", "tree"]
