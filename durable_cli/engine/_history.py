"""The rules that match the steps a handler asks for against its run's journal (the history).

One implementation for both places that need them: `durable dev`'s code-change hold (a resumed
run whose code contradicts its journal is held, `Invocation`) and `durable_cli.testing.replay`
(an exported run's current code against its recorded steps, which raises
`NondeterminismError`). The rules:

- a journaled step asked for as another kind contradicts the journal (a step paused in step
  mode has not begun, so it may change);
- the steps asked for must follow the journal's order: a journaled step asked out of turn, or a
  new step asked while journaled ones are still ahead, contradicts it; journaled steps that had
  not settled (retrying, in flight) and that the code no longer asks for are passed over (a
  step renamed while it was retrying);
- a run that ends while settled journaled steps are still ahead contradicts it (the code no
  longer asks for them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..store import StepRecord

__all__ = ["History", "Mismatch"]

SETTLED = ("completed", "failed")


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Where the code contradicts the journal: the journal's step there and the code's ask.

    `position` counts from 1 in the journal's order; `requested` is None when the run ended
    instead of asking for the journaled step; `asked` is every (id, kind) the code asked for,
    in order, up to and including the one that contradicts.
    """

    position: int
    recorded: tuple[str, str]
    requested: tuple[str, str] | None
    new: bool  # the step asked for is not in the journal at all
    asked: tuple[tuple[str, str], ...]
    ended_with: str | None = None  # the error the run ended with, when it ended raising

    @property
    def kind_changed(self) -> bool:
        """Whether the code asks for the journaled step itself, as another kind."""
        return self.requested is not None and self.requested[0] == self.recorded[0]

    def reason(self) -> str:
        """The one line a held run shows ("code changed: ...")."""
        rid, rkind = self.recorded
        if self.requested is None:
            raised = f" (raising {self.ended_with})" if self.ended_with else ""
            return (
                f"code changed: the run ended{raised} without asking for step {self.position}"
                f" {rid!r}, which the journal has"
            )
        qid, qkind = self.requested
        if self.kind_changed:
            return f"code changed: step {qid!r} was a {rkind!r} step and is now a {qkind!r} step"
        asks = "would run new step" if self.new else "asks for"
        return (
            f"code changed: at step {self.position} the code {asks} {qid!r}"
            f" where the journal has {rid!r}"
        )

    def detail(self) -> dict[str, Any]:
        """The facts as JSON: the journal's step and kind, the code's, the position, the order."""
        qid, qkind = self.requested or (None, None)
        return {
            "journal_step": self.recorded[0],
            "code_step": qid,
            "position": self.position,
            "journal_kind": self.recorded[1],
            "code_kind": qkind,
            "code_order": [list(pair) for pair in self.asked],
            "ended_with": self.ended_with,
        }


class History:
    """A run's journal in order, and how far through it the code has come."""

    __slots__ = ("asked", "order", "ordered", "pos")

    def __init__(self, journal: Iterable[StepRecord], *, ordered: bool = True) -> None:
        """Follow `journal` (any order: sorted here); `ordered=False` checks kinds only
        (a run let go on after a hold: its steps are matched by id)."""
        self.order = sorted(journal, key=lambda s: s.seq)
        self.ordered = ordered
        self.pos = 0  # how far through the journal's order the code has come
        self.asked: list[tuple[str, str]] = []

    def ask(self, sid: str, kind: str, rec: StepRecord | None) -> Mismatch | None:
        """The code asks for step `sid` of `kind` (`rec`: the journal's step of that id)."""
        self.asked.append((sid, kind))
        if rec is not None and rec.kind != kind and rec.status != "paused":
            return self._mismatch(self._index(rec), (sid, kind), new=False)
        if not self.ordered:
            return None
        order, pos = self.order, self.pos
        while pos < len(order) and order[pos].id != sid and order[pos].status not in SETTLED:
            pos += 1
        if pos >= len(order) or order[pos].id == sid:
            self.pos = pos + 1
            return None
        return self._mismatch(pos, (sid, kind), new=rec is None)

    def unasked(self, ended_with: str | None = None) -> Mismatch | None:
        """At the run's end (raising `ended_with`, if given): the first settled journaled step
        the code never asked for."""
        if not self.ordered:
            return None
        for pos in range(self.pos, len(self.order)):
            if self.order[pos].status in SETTLED:
                rec = self.order[pos]
                asked = tuple(self.asked)
                return Mismatch(pos + 1, (rec.id, rec.kind), None, False, asked, ended_with)
        return None

    def _index(self, rec: StepRecord) -> int:
        for pos, step in enumerate(self.order):
            if step is rec or step.id == rec.id:
                return pos
        return min(self.pos, len(self.order) - 1)  # not journaled before this call: here

    def _mismatch(self, pos: int, requested: tuple[str, str] | None, *, new: bool) -> Mismatch:
        rec = self.order[pos]
        return Mismatch(pos + 1, (rec.id, rec.kind), requested, new, tuple(self.asked))
