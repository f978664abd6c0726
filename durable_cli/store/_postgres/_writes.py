"""The journal's writes as pieces of one statement: data-modifying CTEs that join `fence`.

Runs, steps (and one use of an injected failure) go in a single `WITH … INSERT … ON CONFLICT`
statement, however many rows, so a journal write is one round trip and one commit. Rows are
passed as `VALUES` lists of plain parameters (arrays cost the client more to send than the
commit itself). A guarded run write leaves a finished run as it is, unless the row already holds
exactly what is being written (this writer's own commit, sent again after its answer was lost).
"""

from __future__ import annotations

from typing import Any

from .._json import dumps
from .._records import TERMINAL_RUN_STATUSES, RunRecord, StepRecord
from ._schema import statuses_sql

__all__ = ["Writes", "run_row", "step_row"]

_TERMINAL = f"({statuses_sql(TERMINAL_RUN_STATUSES)})"
_RUN_COLUMNS = "id, function, status, owner, wake_at, created_at, body"
_FIRST_RUN = "(%s, %s, %s, %s::text, %s::bigint, %s::bigint, %s::json)"
_NEXT_RUN = "(%s, %s, %s, %s, %s, %s, %s)"
_FIRST_STEP = "(%s, %s::integer, %s::json)"
_NEXT_STEP = "(%s, %s, %s)"


def run_row(run: RunRecord) -> tuple[Any, ...]:
    """A run's columns: the indexed fields beside its journal JSON."""
    body = run.to_store()
    return (
        run.id,
        run.function,
        run.status,
        body.get("owner"),
        run.wake_at,
        run.created_at,
        dumps(body),
    )


def step_row(step: StepRecord) -> tuple[Any, ...]:
    """A step's columns."""
    return (step.run_id, step.seq, dumps(step.to_store()))


def _values(first: str, rest: str, rows: list[tuple[Any, ...]], args: list[Any]) -> str:
    for row in rows:
        args.extend(row)
    return ", ".join([first] + [rest] * (len(rows) - 1))


class Writes:
    """The CTEs of one fenced statement, and its parameters, in order."""

    def __init__(self) -> None:
        """Nothing to write yet."""
        self._ctes: list[str] = []
        self.args: list[Any] = []
        self.returns_runs = False

    def runs(self, rows: list[tuple[Any, ...]], *, guard: bool) -> None:
        """Upsert runs (`run_row`s); with `guard`, a finished run stays as it is. The
        statement then returns the ids of the runs written."""
        if not rows:
            return
        values = _values(_FIRST_RUN, _NEXT_RUN, rows, self.args)
        where = f" WHERE r.status NOT IN {_TERMINAL} OR r.body::text = excluded.body::text"
        self._ctes.append(
            f"runs AS (INSERT INTO durable.runs AS r ({_RUN_COLUMNS}) SELECT v.* FROM fence,"
            f" (VALUES {values}) AS v({_RUN_COLUMNS}) ON CONFLICT (id) DO UPDATE SET"
            " status = excluded.status, owner = excluded.owner, wake_at = excluded.wake_at,"
            f" body = excluded.body{where if guard else ''} RETURNING r.id)"
        )
        self.returns_runs = True

    def steps(self, rows: list[tuple[Any, ...]]) -> None:
        """Upsert steps (`step_row`s)."""
        if not rows:
            return
        values = _values(_FIRST_STEP, _NEXT_STEP, rows, self.args)
        self._ctes.append(
            "steps AS (INSERT INTO durable.steps (run_id, seq, body) SELECT v.* FROM fence,"
            f" (VALUES {values}) AS v(run_id, seq, body)"
            " ON CONFLICT (run_id, seq) DO UPDATE SET body = excluded.body)"
        )

    def consume(self, key: str) -> None:
        """Use up one attempt of an injected failure (one that fails every attempt stays)."""
        self._ctes.append(
            "gone AS (DELETE FROM durable.failures f USING fence"
            " WHERE f.key = %s AND f.times BETWEEN 0 AND 1),"
            " fewer AS (UPDATE durable.failures f SET times = f.times - 1 FROM fence"
            " WHERE f.key = %s AND f.times > 1)"
        )
        self.args += [key, key]

    @property
    def ctes(self) -> str:
        """The CTEs, comma-separated, to follow the fence."""
        return ", ".join(self._ctes)

    @property
    def main(self) -> str:
        """The statement's final SELECT: it reads the fence (so it is checked) and returns the
        written runs' ids when `runs` was asked for."""
        if self.returns_runs:
            return "SELECT ok, array(SELECT id FROM runs) FROM fence"
        return "SELECT ok, NULL FROM fence"
