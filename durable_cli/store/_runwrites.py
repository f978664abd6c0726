"""How runs and steps reach the embedded store's rows: the group commit's fast path, and the long
way (a transaction that reads first and handles value files).

The fast path is every step a runner journals: guarded writes shared with concurrent writers
(`_group`), where a run's status lives in the tag column, so SQLite checks "not finished"
without decoding anything. A record too large for its row, or a row the upsert left alone (a
finished run; a step whose old row names a value file), goes the long way.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._group import GroupCommit, Row, upsert_rows
from ._leases import timer_key
from ._records import TERMINAL_RUN_STATUSES, RunRecord, StepRecord
from ._rows import Rows

__all__ = ["RunWrites"]

_ZERO = b"0"  # the row value of an index entry (JSON 0), as `inline(0)` makes it


class RunWrites:
    """Writes runs (with their function index and due-time rows) and steps."""

    def __init__(self, rows: Rows, group: GroupCommit) -> None:
        """Write through `rows` (transactions) and `group` (the shared statement)."""
        self._rows = rows
        self._group = group
        self._inline = rows.cache.disk.inline  # a record as its row's bytes (None: too large)

    def put_run(self, run: RunRecord, *, new: bool = False) -> None:
        """Inside a transaction: a run's row, its function index (`new`) and its due time."""
        rows = self._rows
        rows.put(f"run/{run.id}", run.to_store(), tag=run.status, new=new)
        if new:
            rows.put(f"fn/{run.function}/{run.id}", 0, new=True)
        due = timer_key(run)
        if due is not None:
            rows.put(due, 0)

    def insert_runs(self, runs: list[RunRecord]) -> None:
        """Inside a transaction: `put_run(run, new=True)` for each, in one statement."""
        inline = self._inline
        rows: list[Row] = []
        for run in runs:
            blob = inline(run.to_store())
            if blob is None:  # too large for its row: a value file, the long way
                self.put_run(run, new=True)
                continue
            rows.append((f"run/{run.id}", run.status, blob))
            rows.append((f"fn/{run.function}/{run.id}", None, _ZERO))
        if rows:
            upsert_rows(self._rows.cache.connection, rows)

    def put_step(self, step: StepRecord) -> None:
        """Inside a transaction: a step's row."""
        self._rows.put(f"st/{step.run_id}/{step.seq:06d}", step.to_store(), new=not step.stored)
        step.stored = True

    def save_run(self, run: RunRecord, guard: bool) -> bool:
        """The long way, in a transaction: reads the row first (with `guard`, a finished run is
        left as it is: False), handles value files."""
        rows = self._rows
        with rows.transaction():
            if guard:
                current = rows.get(f"run/{run.id}")
                if current is not None and current["status"] in TERMINAL_RUN_STATUSES:
                    return False
            self.put_run(run)
        return True

    def save_runs(self, runs: list[RunRecord], steps: Iterable[StepRecord]) -> list[bool]:
        """Guarded run writes and step writes committed together; for each run, False when it
        was left as it was. Outside a transaction, through the group commit."""
        if self._rows.in_transaction:
            for step in steps:
                self.put_step(step)
            return [self.save_run(run, True) for run in runs]
        inline = self._inline
        blobs = [inline(run.to_store()) for run in runs]
        rows = [
            (f"run/{run.id}", run.status, blob)
            for run, blob in zip(runs, blobs, strict=True)
            if blob is not None
        ]
        steps = list(steps)
        step_blobs = [inline(step.to_store()) for step in steps]
        rows += [
            (f"st/{step.run_id}/{step.seq:06d}", None, blob)
            for step, blob in zip(steps, step_blobs, strict=True)
            if blob is not None
        ]
        dues = [key for key in map(timer_key, runs) if key is not None]
        written = iter(
            self._group.write_rows(rows + [(k, None, _ZERO) for k in dues]) if rows else ()
        )
        saved = [
            (blob is not None and next(written)) or self.save_run(run, True)
            for run, blob in zip(runs, blobs, strict=True)
        ]
        for step, blob in zip(steps, step_blobs, strict=True):
            if blob is None or not next(written):
                self.put_step(step)  # a value file to write, or an old one to remove
            step.stored = True
        return saved
