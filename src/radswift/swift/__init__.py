"""radswift.swift: the only code that speaks Swift.

    credentials.py  SwiftCredentials from ST_*/OS_* variables or the ChRIS INI file
    auth.py         Authenticators: v1 tempauth, Keystone v3 (keystoneauth1), pre-authenticated
    http.py         the urllib3 pool, URL quoting, connection-error wording
    retry.py        RetryPolicy and the one retry loop
    transport.py    authenticated requests through that loop; HTTP status -> radswift errors
    body.py         upload bodies hashed once and rewound for every retry
    slo.py          static large object manifests and bulk-delete results
    objects.py      object headers and listing entries <-> ObjectInfo; Content-Range
    client.py       SwiftClient: one method per Swift operation
    reader.py       ObjectStream: a streamed GET resumed with Range + If-Match under the policy

radswift.store.swift adapts SwiftClient to the ObjectStore interface; nothing outside
this package imports urllib3 or http.client, or knows a Swift header or status code.
"""
