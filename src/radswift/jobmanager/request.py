"""What a client submits: one strict, validated `JobRequest`, the job's document of record.

The registry stores `request.document()` (every field, defaults filled in) and its
`spec_hash()`: submitting a jid again with the same document is the same job; with
another document it is a conflict. Every front end (the REST API, the ChRIS pman
shape, the legacy protocol) maps its input onto this one model, so validation lives
here once: unknown fields, a hostile jid, limits that are not quantities or are out of
bounds are refused before anything is registered.

Bounds a research platform accepts (one processor, one node): memory from 1 MiB to
1 TiB (`MIN_MEMORY`..`MAX_MEMORY`), CPU from 1m to 256 cores (`MAX_CPU_MILLIS`, i.e.
'256' or '256000m'), at most 16 GPUs and 64 workers. Whether a backend can give what
is asked (GPUs on the local backend: no) is the backend's `check`, also before
registering.

The processor's command follows the ChRIS plugin convention, as pman builds it:
`entrypoint + args + [/share/incoming (ds plugins only)] + [/share/outgoing]`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from radswift.jobs.quantity import cpu_millis, memory_bytes
from radswift.jobs.spec import JobSpec, OutputLayout, WaitStrategy

INCOMING = "/share/incoming"
OUTGOING = "/share/outgoing"
MAX_WORKERS = 64
MAX_GPUS = 16
MAX_ARGS = 1000
MAX_TEXT = 4096
MAX_ENV = 256
MAX_ENV_NAME = 256
MIN_MEMORY = 2**20  # 1 MiB: no processor starts in less
MAX_MEMORY = 2**40  # 1 TiB
MAX_CPU_MILLIS = 256_000  # 256 cores
MEMORY_HELP = "Memory, e.g. '512Mi' or '2Gi': from 1Mi to 1Ti."
CPU_HELP = "CPU, e.g. '500m' or '2': from 1m to 256 (256000m)."

_JID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_AUID = re.compile(r"^[A-Za-z0-9._@+-]{0,128}$")
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$")
_CPU = re.compile(r"^(?:[0-9]+m|[0-9]+(?:\.[0-9]{1,3})?)$")
_MEMORY = re.compile(r"^[0-9]+(?:Ki|Mi|Gi|Ti|k|M|G|T)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

PluginType = Literal["ds", "fs", "ts"]


def _text(value: str, what: str) -> str:
    if len(value) > MAX_TEXT or "\x00" in value:
        raise ValueError(f"{what} must be at most {MAX_TEXT} characters, without NUL")
    return value


class JobRequest(BaseModel):
    """A job as submitted (JSON body of `POST /api/v1/jobs`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    jid: str = Field(description="The job id: letters, digits, '.', '_', '-' (at most 128).")
    image: str = Field(description="The processor's image.")
    entrypoint: list[str] = Field(
        min_length=1, max_length=64, description="The plugin's executable and fixed arguments."
    )
    args: list[str] = Field(default_factory=list, max_length=MAX_ARGS)
    env: dict[str, str] = Field(
        default_factory=dict,
        max_length=256,
        description="The processor's environment (no secrets).",
    )
    cpu_limit: str | None = Field(default=None, description=CPU_HELP)
    memory_limit: str | None = Field(default=None, description=MEMORY_HELP)
    gpu_limit: int = Field(
        default=0,
        ge=0,
        le=MAX_GPUS,
        description="NVIDIA GPUs (0-16); a backend without GPUs (local, podman) refuses"
        " more than 0 with a 422.",
    )
    number_of_workers: int = Field(default=1, ge=1, le=MAX_WORKERS)
    auid: str = Field(default="", description="Who submitted the job (ChRIS user id).")
    type: PluginType = Field(
        default="ds",
        description="ds: reads /share/incoming; fs: makes"
        " data (a key without input/ is fine); ts: a topology plugin.",
    )
    input_key: str | None = Field(
        default=None, description="The Swift key holding input/ (default: jid)."
    )
    output_layout: Literal["objects", "bundle"] = "objects"
    raw_command: bool = Field(
        default=False,
        description="entrypoint + args are the whole command line (the legacy protocol's"
        " `cmd`): no /share/incoming or /share/outgoing is appended.",
    )

    @field_validator("jid", "input_key")
    @classmethod
    def _check_jid(cls, value: str | None) -> str | None:
        if value is not None and not _JID.fullmatch(value):
            raise ValueError(
                "use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @field_validator("auid")
    @classmethod
    def _check_auid(cls, value: str) -> str:
        if not _AUID.fullmatch(value):
            raise ValueError("use at most 128 letters, digits or ._@+-")
        return value

    @field_validator("image")
    @classmethod
    def _check_image(cls, value: str) -> str:
        if not _IMAGE.fullmatch(value):
            raise ValueError("not an image reference")
        return value

    @field_validator("cpu_limit")
    @classmethod
    def _check_cpu(cls, value: str | None) -> str | None:
        if value is not None and not (
            _CPU.fullmatch(value) and 1 <= _amount(cpu_millis, value) <= MAX_CPU_MILLIS
        ):
            raise ValueError(CPU_HELP)
        return value

    @field_validator("memory_limit")
    @classmethod
    def _check_memory(cls, value: str | None) -> str | None:
        if value is not None and not (
            _MEMORY.fullmatch(value) and MIN_MEMORY <= _amount(memory_bytes, value) <= MAX_MEMORY
        ):
            raise ValueError(MEMORY_HELP)
        return value

    @field_validator("entrypoint", "args")
    @classmethod
    def _check_words(cls, value: list[str]) -> list[str]:
        return [_text(word, "every argument") for word in value]

    @field_validator("env")
    @classmethod
    def _check_env(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_ENV:
            raise ValueError(f"at most {MAX_ENV} variables")
        for name, text in value.items():
            if len(name) > MAX_ENV_NAME or _CONTROL.search(name):
                raise ValueError(f"variable names are printable, at most {MAX_ENV_NAME} long")
            _text(text, f"env {name}")
        return value

    @property
    def key(self) -> str:
        """The Swift key the job reads input/ from and publishes output/ to."""
        return self.input_key or self.jid

    def document(self) -> dict[str, Any]:
        """Every field, defaults filled in: what the registry keeps and hashes."""
        doc = self.model_dump(mode="json")
        doc["input_key"] = self.key
        return doc

    def spec_hash(self) -> str:
        """Equal for equal documents: a resubmission of the same job."""
        text = json.dumps(self.document(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def command(self) -> list[str]:
        """The processor's command line, as ChRIS pman builds it."""
        if self.raw_command:
            return [*self.entrypoint, *self.args]
        tail = [INCOMING, OUTGOING] if self.type == "ds" else [OUTGOING]
        return [*self.entrypoint, *self.args, *tail]

    def to_spec(
        self, *, store: str | None = None, wait: WaitStrategy = WaitStrategy.EXITFILE
    ) -> JobSpec:
        """The JobSpec a backend runs (InvalidInput where it refuses a value, e.g. env)."""
        return JobSpec(
            jid=self.jid,
            key=self.key,
            image=self.image,
            command=self.command(),
            cpu=self.cpu_limit,
            memory=self.memory_limit,
            gpu=self.gpu_limit,
            workers=self.number_of_workers,
            env=self.env,
            wait=wait,
            store=store,
            output_layout=OutputLayout(self.output_layout),
            allow_empty_input=self.type != "ds",
        )


def _amount(read: Callable[[str], int], quantity: str) -> int:
    """The quantity's number, -1 for one too long to read (out of bounds either way)."""
    try:
        return read(quantity)
    except ValueError:
        return -1
