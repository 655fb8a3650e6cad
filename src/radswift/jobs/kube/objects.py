"""What pman puts into the cluster for one job: the existing manifests, marked as its own.

The Job is `radswift.jobs.manifests.job(spec)` with, on the Job and its pod template:

    label       app.kubernetes.io/managed-by=radswift-pman   (pman lists its own by it)
    label       radswift.io/jid=<jid as a label value>
    annotation  radswift.io/jid            the jid exactly (a label value cannot hold every key)
    annotation  radswift.io/key            the Swift key of input/, output/ and the status object
    annotation  radswift.io/spec-hash      the registry's hash of the spec
    annotation  radswift.io/submitted      the submit document, JSON (no secret: a JobSpec
                                           refuses secret-looking env, credentials are a Secret)

A multi-worker job also gets its ReadWriteMany claim (`<job>-share`), owned by the Job
(ownerReferences), so the garbage collector deletes it with the Job, also when
ttlSecondsAfterFinished does. The publisher's ServiceAccount, Role and RoleBinding are
NOT created per job: deploy/ creates them once per namespace (pman's own Role may not
grant RBAC objects: that would let it escalate).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from radswift.errors import InvalidInput
from radswift.jobs.manifests import Manifest, job, serialize, share_claim
from radswift.jobs.podtemplate import JID_ANNOTATION
from radswift.jobs.spec import JobSpec

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "radswift-pman"
SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
KEY_ANNOTATION = "radswift.io/key"
SPEC_HASH_ANNOTATION = "radswift.io/spec-hash"
SUBMITTED_ANNOTATION = "radswift.io/submitted"
MAX_SUBMITTED_BYTES = 128 * 1024
"""The API server caps all annotations of an object at 256 KiB together."""


def job_body(
    spec: JobSpec, *, submitted: Mapping[str, Any] | None, spec_hash: str | None
) -> Manifest:
    """The Job to create, labelled and annotated as pman's."""
    body: Manifest = serialize(job(spec))
    annotations = {JID_ANNOTATION: spec.jid, KEY_ANNOTATION: storage_key(spec)}
    if spec_hash:
        annotations[SPEC_HASH_ANNOTATION] = spec_hash
    if submitted is not None:
        document = json.dumps(submitted, separators=(",", ":"), sort_keys=True)
        if len(document.encode()) > MAX_SUBMITTED_BYTES:
            raise InvalidInput(f"the submit document is larger than {MAX_SUBMITTED_BYTES} bytes")
        annotations[SUBMITTED_ANNOTATION] = document
    for meta in (body["metadata"], body["spec"]["template"]["metadata"]):
        meta.setdefault("labels", {})[MANAGED_BY_LABEL] = MANAGED_BY
        meta.setdefault("annotations", {}).update(annotations)
    return body


def claim_body(spec: JobSpec, job_name: str, job_uid: str) -> Manifest:
    """The shared /share claim of a multi-worker job, owned by its Job."""
    body: Manifest = serialize(share_claim(spec))
    body["metadata"].setdefault("labels", {})[MANAGED_BY_LABEL] = MANAGED_BY
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": job_name,
            "uid": job_uid,
            "blockOwnerDeletion": True,
        }
    ]
    return body


def storage_key(spec: JobSpec) -> str:
    """The key the job's publisher writes to: `JobSpec.storage_key` where the spec has one
    (a job may read another key than its jid), else the jid."""
    key = getattr(spec, "storage_key", None)
    return key if isinstance(key, str) else spec.jid


def key_of(obj: Any) -> str | None:
    """The Swift key a Job of pman's publishes to (its status object's key)."""
    annotations = obj.metadata.annotations or {}
    return annotations.get(KEY_ANNOTATION) or annotations.get(JID_ANNOTATION)


def jid_of(obj: Any) -> str | None:
    """The jid a Job (or pod) of pman's carries in its annotation."""
    return (obj.metadata.annotations or {}).get(JID_ANNOTATION)


def submitted_of(obj: Any) -> dict[str, Any] | None:
    """The submit document a Job was created from, if pman recorded one and it is readable."""
    raw = (obj.metadata.annotations or {}).get(SUBMITTED_ANNOTATION)
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def spec_hash_of(obj: Any) -> str | None:
    return (obj.metadata.annotations or {}).get(SPEC_HASH_ANNOTATION)


def job_name_of(pod: Any) -> str | None:
    """The Job a pod belongs to (the Job controller labels its pods with it)."""
    labels = pod.metadata.labels or {}
    return labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")
