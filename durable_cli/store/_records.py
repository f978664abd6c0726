"""The journal's records: runs, steps and their attempts, as plain JSON-able dataclasses."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "RUN_STATUSES",
    "STEP_STATUSES",
    "TERMINAL_RUN_STATUSES",
    "TIMER_STATUSES",
    "Attempt",
    "RunRecord",
    "StepRecord",
]

RUN_STATUSES = (
    "queued",
    "running",
    "paused",
    "retrying",
    "sleeping",
    "waiting",
    "completed",
    "failed",
    "cancelled",
)
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled"})
ACTIVE_RUN_STATUSES = frozenset(RUN_STATUSES) - TERMINAL_RUN_STATUSES
# the statuses of a run that waits for a due time (retry backoff, sleep, wait timeout)
TIMER_STATUSES = frozenset({"retrying", "sleeping", "waiting"})
STEP_STATUSES = ("running", "retrying", "completed", "failed", "paused")


@dataclass(slots=True)
class Attempt:
    """One attempt of a step: when it ran and how it ended."""

    started_at: int
    ended_at: int | None = None
    error: dict[str, Any] | None = None
    injected: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "error": self.error,
            "injected": self.injected,
        }

    def to_store(self) -> dict[str, Any]:
        """The journal form: `to_dict` without the fields at their defaults."""
        d: dict[str, Any] = {"started_at": self.started_at}
        if self.ended_at is not None:
            d["ended_at"] = self.ended_at
        if self.error is not None:
            d["error"] = self.error
        if self.injected:
            d["injected"] = True
        return d


@dataclass(slots=True)
class StepRecord:
    """A step in a run's journal, with every attempt it made."""

    run_id: str
    id: str
    seq: int
    kind: str = "run"
    status: str = "running"
    output: Any = None
    error: dict[str, Any] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    started_at: int | None = None
    ended_at: int | None = None
    copied_from: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    stored: bool = field(default=False, compare=False, repr=False)  # in the journal already?

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what `durable show --json` lists per step)."""
        return {
            "id": self.id,
            "seq": self.seq,
            "kind": self.kind,
            "status": self.status,
            "attempts": len(self.attempts),
            "output": self.output,
            "error": self.error,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "attempt_log": [a.to_dict() for a in self.attempts],
            "copied_from": self.copied_from,
            "meta": self.meta,
        }

    def to_store(self) -> dict[str, Any]:
        """The journal form: `to_dict` and the run id, without the fields at their defaults
        (`from_store` restores them). Every step is encoded once or more; JSON encoding is a
        good part of a journaled step's cost, and much of it went on nulls."""
        d: dict[str, Any] = {
            "run_id": self.run_id,
            "id": self.id,
            "seq": self.seq,
            "status": self.status,
        }
        if self.kind != "run":
            d["kind"] = self.kind
        for name in _STEP_OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                d[name] = value
        if self.attempts:
            d["attempt_log"] = [a.to_store() for a in self.attempts]
        if self.meta:
            d["meta"] = self.meta
        return d

    @classmethod
    def from_store(cls, raw: dict[str, Any]) -> StepRecord:
        """Rebuild from the journal form."""
        return cls(
            run_id=raw["run_id"],
            id=raw["id"],
            seq=raw["seq"],
            kind=raw.get("kind", "run"),
            status=raw["status"],
            output=raw.get("output"),
            error=raw.get("error"),
            attempts=[Attempt(**a) for a in raw.get("attempt_log", ())],
            started_at=raw.get("started_at"),
            ended_at=raw.get("ended_at"),
            copied_from=raw.get("copied_from"),
            meta=raw.get("meta") or {},
            stored=True,
        )


@dataclass(slots=True)
class RunRecord:
    """A run: one invocation of a function for one event."""

    id: str
    function: str
    event: dict[str, Any]
    status: str = "queued"
    output: Any = None
    error: dict[str, Any] | None = None
    replay_of: str | None = None
    created_at: int = 0
    started_at: int | None = None
    ended_at: int | None = None
    wake_at: int | None = None
    reason: str | None = None
    step_mode: bool = False
    grants: int = 0
    parent: dict[str, Any] | None = None
    children: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None  # the runner executing it (none while it waits or is done)

    @property
    def finished(self) -> bool:
        """True once completed, failed or cancelled."""
        return self.status in TERMINAL_RUN_STATUSES

    def may_go(self, now_ms: int) -> bool:
        """Whether the journal lets the run execute now (it waits on nothing): what a runner
        checks before it claims a run it does not hold."""
        if self.status in ("queued", "running"):
            return True
        if self.status == "paused":
            return self.grants > 0 or bool(self.meta.get("resume"))
        return self.status in TIMER_STATUSES and self.wake_at is not None and self.wake_at <= now_ms

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what `durable runs --json` lists)."""
        # shallow on purpose: dataclasses.asdict deep-copies, which costs more than the commit
        return {name: getattr(self, name) for name in _RUN_FIELD_ORDER}

    def to_store(self) -> dict[str, Any]:
        """The journal form: `to_dict` without the fields at their defaults (`from_dict`
        restores them); a run is encoded three times or more."""
        d: dict[str, Any] = {
            "id": self.id,
            "function": self.function,
            "event": self.event,
            "status": self.status,
            "created_at": self.created_at,
        }
        for name, default in _RUN_OPTIONAL:
            value = getattr(self, name)
            if value is not default and value != default:
                d[name] = value
        if "owner" in d and self.status not in _OWNED:
            # a run that waits, or is done, belongs to no runner until one claims it again
            del d["owner"]
        return d

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunRecord:
        """Rebuild from the JSON form."""
        known = {k: v for k, v in raw.items() if k in _RUN_FIELDS}
        return cls(**known)


_RUN_FIELD_ORDER = tuple(RunRecord.__dataclass_fields__)
_RUN_FIELDS = frozenset(_RUN_FIELD_ORDER)
_RUN_OPTIONAL = tuple(
    (f.name, f.default_factory() if f.default is MISSING else f.default)  # type: ignore[misc]
    for f in fields(RunRecord)
    if f.name not in ("id", "function", "event", "status", "created_at")
)
_OWNED = frozenset({"queued", "running"})
_STEP_OPTIONAL = ("output", "error", "started_at", "ended_at", "copied_from")
