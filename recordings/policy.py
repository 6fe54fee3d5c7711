"""Recording policy, sans IO: whether a call is recorded, under which product, where its file
goes and how long it is kept.

Invariants:
- Precedence is queue rule, then product rule, then the default; retention is the product's,
  else the default's (retention is a property of the product's regulation, not of a queue).
- ``record: percent`` samples by a hash of the call id, so the decision for a call is the same
  on every replay and every process (no random state).
- Stored paths are relative to the base directory and made of safe characters only; reading
  one back goes through ``resolve_inside``, which refuses anything outside the base directory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RecordMode = Literal["always", "never", "percent"]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_FIELDS = ("date", "year", "month", "day", "product", "queue", "agent", "call_id")
UNKNOWN_PRODUCT = "unknown"


class Rule(BaseModel):
    """A partial policy; unset fields fall through to the next level."""

    model_config = ConfigDict(extra="forbid")

    record: RecordMode | None = None
    percent: float | None = Field(None, ge=0, le=100)
    retention_days: int | None = Field(None, ge=1)
    product: str | None = None  # queues only: the product their calls belong to

    @model_validator(mode="after")
    def _percent_needs_value(self) -> Rule:
        if self.record == "percent" and self.percent is None:
            raise ValueError("record: percent needs a percent (0-100)")
        return self


class DefaultRule(Rule):
    record: RecordMode | None = "always"
    retention_days: int | None = Field(3650, ge=1)


class RecordingConfig(BaseModel):
    """``config/recording.yaml``."""

    model_config = ConfigDict(extra="forbid")

    # The same directory twice: as Asterisk names it (inside its chroot or container) for
    # MixMonitor, and as this host reaches it for hashing, serving and purging.
    asterisk_dir: str
    host_dir: Path
    path_template: str = "{date}/{product}/{call_id}.wav"
    format: Literal["wav"] = "wav"  # mixed mono 8 kHz PCM: plays everywhere, hashes stably
    default: DefaultRule = DefaultRule(
        record="always", percent=None, retention_days=3650, product=None
    )
    products: dict[str, Rule] = Field(default_factory=dict)
    queues: dict[str, Rule] = Field(default_factory=dict)
    # After the caller hangs up, MixMonitor closes the file on its own thread: wait this long
    # at most for its size to settle before hashing.
    settle_timeout_s: float = Field(5.0, gt=0)

    @field_validator("asterisk_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not PurePosixPath(value).is_absolute():
            raise ValueError("asterisk_dir must be an absolute path")
        return value.rstrip("/") or "/"

    @field_validator("path_template")
    @classmethod
    def _template(cls, value: str) -> str:
        sample = {name: "x" for name in _FIELDS}
        try:
            rendered = value.format(**sample)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"path_template may use only {{{'}, {'.join(_FIELDS)}}}") from exc
        path = PurePosixPath(rendered)
        if "{call_id}" not in value:
            raise ValueError("path_template must contain {call_id} (one file per call)")
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("path_template must be relative and must not contain '..'")
        if not rendered.endswith(".wav"):
            raise ValueError("path_template must end with .wav (the mix format)")
        return value

    @model_validator(mode="after")
    def _products_of_queues_known(self) -> RecordingConfig:
        for queue_id, rule in self.queues.items():
            if rule.retention_days is not None:
                raise ValueError(
                    f"queues.{queue_id}: retention_days belongs to the product, not the queue"
                )
        return self


@dataclass(frozen=True, slots=True)
class Decision:
    record: bool
    product: str
    why: str  # which rule decided, for logs and audit


def product_of(config: RecordingConfig, queue: str | None, product: str | None) -> str:
    rule = config.queues.get(queue or "")
    return (rule.product if rule and rule.product else None) or product or UNKNOWN_PRODUCT


def decide(
    config: RecordingConfig, call_id: str, queue: str | None, product: str | None
) -> Decision:
    chosen = product_of(config, queue, product)
    for label, rule in (
        (f"queue {queue}", config.queues.get(queue or "")),
        (f"product {chosen}", config.products.get(chosen)),
        ("default", config.default),
    ):
        if rule is None or rule.record is None:
            continue
        if rule.record == "percent":
            sampled = sample_bucket(call_id) < (rule.percent or 0.0) * 100
            return Decision(sampled, chosen, f"{label}: {rule.percent}% sample")
        return Decision(rule.record == "always", chosen, f"{label}: {rule.record}")
    return Decision(True, chosen, "built-in: always")  # pragma: no cover - default has record


def sample_bucket(call_id: str) -> int:
    """0..9999, stable for a call id."""
    digest = hashlib.sha256(call_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000


def retention_days(config: RecordingConfig, product: str | None) -> int:
    rule = config.products.get(product or UNKNOWN_PRODUCT)
    if rule is not None and rule.retention_days is not None:
        return rule.retention_days
    return config.default.retention_days or 3650


def safe_part(value: str | None) -> str:
    """A path component made of ``[A-Za-z0-9._-]`` only, never ``.``/``..`` nor empty."""
    cleaned = _UNSAFE.sub("_", value or "")
    return cleaned if cleaned.strip(".") else UNKNOWN_PRODUCT if not cleaned else "_" + cleaned


def relative_path(
    config: RecordingConfig,
    *,
    call_id: str,
    product: str,
    started: datetime,
    queue: str | None = None,
    agent: str | None = None,
) -> str:
    values = {
        "date": started.strftime("%Y-%m-%d"),
        "year": started.strftime("%Y"),
        "month": started.strftime("%m"),
        "day": started.strftime("%d"),
        "product": safe_part(product),
        "queue": safe_part(queue),
        "agent": safe_part(agent),
        "call_id": safe_part(call_id),
    }
    return config.path_template.format(**values)


def asterisk_path(config: RecordingConfig, relative: str) -> str:
    return str(PurePosixPath(config.asterisk_dir) / relative)


class PathOutsideBase(ValueError):
    """A stored path that would leave the recordings directory."""


def resolve_inside(base: Path, relative: str) -> Path:
    """The host path of a stored relative path; raises PathOutsideBase for ``..``, absolute
    paths or symlinks that lead out of ``base``."""
    if PurePosixPath(relative).is_absolute():
        raise PathOutsideBase(relative)
    root = base.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root:
        raise PathOutsideBase(relative)
    return target
