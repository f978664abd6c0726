"""The event a run was started by."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Event"]


@dataclass(frozen=True, slots=True)
class Event:
    """An event: `.id`, `.name`, `.data` (a dict) and `.ts` (epoch milliseconds)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    ts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in the journal and in `--json` output."""
        return {"id": self.id, "name": self.name, "data": self.data, "ts": self.ts}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        """Rebuild from the JSON form."""
        return cls(
            name=raw["name"], data=raw.get("data") or {}, id=raw.get("id", ""), ts=raw.get("ts", 0)
        )
