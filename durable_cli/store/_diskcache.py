"""The embedded store: one diskcache `Cache` (SQLite, WAL) in the state dir, JSON values only.

Keys are strings laid out so that SQLite's key index answers every query as a range scan:

    meta/schema                    {"version": N}
    ev/<event id>                  the event
    q/<ts ms>/<event id>           queued event (removed in the transaction that creates its runs)
    en/<len>:<name>/<ts ms>/<id>   event name index, written with the event (`latest_event`)
    run/<run id>                   the run, tagged with its status
    fn/<function id>/<run id>      function index, written once when the run is created
    st/<run id>/<seq>              one step of a run's journal, in execution order
    fail/<scope>/<step id>         an injected failure (scope: run:<id> or fn:<id>)
    flag/...                       small settings (step mode for a function, waits, …)
    rn/, tm/, cc/, fw/             runners' leases, due times, flow control: see `_leases`

Opening (checks, atomic creation) is in `_open`, row access in `_rows`, run and step writes in
`_runwrites` (the group commit's fast path in `_group`), the runner lock and wake FIFO in
`_runner`, error handling in `_guard`: every public method retries while another process holds
the database and turns storage errors (disk full, damage, permissions) into a `StateError`
naming the state dir.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._checkpoint import Checkpointer
from ._files import DB, SCHEMA_VERSION
from ._group import GroupCommit
from ._guard import STORAGE_ERRORS, guarded, retry_busy, translate
from ._leases import Leases
from ._open import open_journal
from ._records import RunRecord, StepRecord
from ._rows import Rows, after
from ._runner import RunnerFiles
from ._runwrites import RunWrites
from ._send import NAMES_INDEXED, event_key, name_key, name_prefix, queue_key

__all__ = ["DB", "SCHEMA_VERSION", "DiskcacheStore", "open_store"]

_FIRST_KEY = "SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1 LIMIT 1"
_LAST_KEY = "SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1 ORDER BY key DESC LIMIT 1"


def open_store(path: str, *, create: bool = True, durability: str | None = None) -> DiskcacheStore:
    """Open (creating if asked) the state dir at `path`.

    `durability="normal"` (SQLite WAL, synchronous=NORMAL) survives a crash of any process;
    `"full"` also fsyncs every commit (and value file), so a power cut loses nothing committed.
    Given, it is recorded in the state dir; None (the default) uses the recorded level, so
    every process writing there commits alike.
    """
    return DiskcacheStore(path, create=create, durability=durability)


class DiskcacheStore:
    """`Store` on diskcache: see the module docstring for the key layout.

    Its collaborators: `rows` (the table, transactions), `writes` (runs and steps), `group`
    (the shared journal statement), `checkpoints` (the WAL copied back off the writers'
    thread), `leases` (run ownership) and `runner_files` (the runner lock, the wake FIFO)."""

    def __init__(self, path: str, *, create: bool = True, durability: str | None = None) -> None:
        """Open the state dir, refusing (untouched) one that is damaged or of another version."""
        self.path = os.path.abspath(path)
        cache = retry_busy(
            self.path, lambda: open_journal(self.path, create=create, durability=durability)
        )
        self.durability = cache.durability  # "normal" or "full"
        self.rows = rows = Rows(cache, self.path)
        self.leases = Leases(rows)  # run ownership: who may write which run
        # the runner's busy writers leave WAL checkpoints to a thread of their own
        self.checkpoints = Checkpointer(lambda: cache.connection, cache.close)
        self.group = GroupCommit(
            lambda: cache.connection, self.checkpoints.nudge, lambda: rows.fence
        )
        self.writes = RunWrites(rows, self.group)
        self.runner_files = RunnerFiles(self.path)
        self._names_indexed = False  # every event has its name index row (`latest_event`)

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        """Whether this thread is inside `batch()`."""
        return self.rows.in_transaction

    def close(self) -> None:
        """Release connections, the runner lock and the wake pipe."""
        self.checkpoints.close()
        self.rows.cache.close()
        self.runner_files.close()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """A transaction: everything written inside commits together (nesting is fine)."""
        try:
            with self.rows.transaction():
                yield
        except STORAGE_ERRORS as exc:  # the COMMIT itself (disk full, I/O error)
            raise translate(exc, self.path) from None

    def _scan(self, prefix: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        return self.rows.scan(prefix, **kwargs)

    # -- events -----------------------------------------------------------------------------
    @guarded
    def put_event(self, event: dict[str, Any], *, queue: bool = True) -> bool:
        """Record (and queue) an event; False when an event with that id exists already."""
        rows = self.rows
        key = event_key(event["id"])
        with rows.transaction():
            if rows.get(key) is not None:
                return False
            rows.put(key, event, new=True)
            rows.put(name_key(event), 0, new=True)
            if queue:
                rows.put(queue_key(event), event["id"], new=True)
        return True

    @guarded
    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """One event by id."""
        return self.rows.get(event_key(event_id))

    @guarded
    def latest_event(self, name: str) -> dict[str, Any] | None:
        """The newest event named `name` (by time, then id), or None."""
        if not self._names_indexed:
            self._index_names()
        prefix = name_prefix(name)
        newest = self.rows.keys(_LAST_KEY, (prefix, after(prefix)))
        if not newest:
            return None
        return self.rows.get(event_key(newest[0][len(prefix) + 14 :]))  # past "<ts ms>/"

    def _index_names(self) -> None:
        """Give every event its name index row, once per journal (one made before the index
        was kept has none for its older events)."""
        rows = self.rows
        if rows.get(NAMES_INDEXED) is None:
            with rows.transaction(fenced=False):  # an index of what is there: no runner's write
                if rows.get(NAMES_INDEXED) is None:
                    for _, event in rows.scan("ev/"):
                        rows.put(name_key(event), 0)
                    rows.put(NAMES_INDEXED, 1)
        self._names_indexed = True

    @guarded
    def queued_count(self) -> int:
        """How many events wait in the queue."""
        return self.rows.count("q/")

    @guarded
    def has_queued(self) -> bool:
        """Whether any event waits in the queue (cheaper than counting them)."""
        return bool(self.rows.keys(_FIRST_KEY, ("q/", "q0")))

    @guarded
    def claim_events(
        self,
        plan: Callable[[dict[str, Any]], list[RunRecord]],
        limit: int = 256,
        *,
        reads_runs: bool = True,
    ) -> list[RunRecord]:
        """Dequeue events and create the runs `plan` makes for each, in one transaction.

        Each event's runs are written before the next event is planned, as a plan may read
        runs (to cancel them, those of this batch included); `reads_runs=False` promises it
        doesn't, and the batch's runs are written in one statement.
        """
        rows, writes = self.rows, self.writes
        created: list[RunRecord] = []
        with rows.transaction():
            claimed = list(rows.scan("q/", limit=limit))
            events = rows.get_many([event_key(event_id) for _, event_id in claimed])
            for _, event_id in claimed:
                event = events.get(event_key(event_id))
                if event is not None:
                    runs = plan(event)
                    if reads_runs:
                        writes.insert_runs(runs)
                    created += runs
            if not reads_runs:
                writes.insert_runs(created)
            if claimed:
                # the first keys of the queue, and the write lock held since the scan: one
                # range delete takes exactly these (queue rows hold an id, never a value file)
                rows.cache.sql(
                    "DELETE FROM Cache WHERE key >= 'q/' AND key <= ? AND raw = 1",
                    (claimed[-1][0],),
                )
        return created

    # -- runs -------------------------------------------------------------------------------
    @guarded
    def create_runs(self, runs: Iterable[RunRecord], steps: Iterable[StepRecord] = ()) -> None:
        """Create runs (and pre-journaled steps) atomically."""
        writes = self.writes
        with self.rows.transaction():
            for run in runs:
                writes.put_run(run, new=True)
            for step in steps:
                writes.put_step(step)

    @guarded
    def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        raw = self.rows.get(f"run/{run_id}")
        return None if raw is None else RunRecord.from_dict(raw)

    @guarded
    def get_runs(self, run_ids: list[str]) -> dict[str, RunRecord]:
        """The runs of these ids that exist, by id, in one read."""
        found = self.rows.get_many([f"run/{run_id}" for run_id in run_ids])
        return {key[4:]: RunRecord.from_dict(raw) for key, raw in found.items()}

    def resolve_run_id(self, text: str) -> str | None:
        """The run id that `text` uniquely starts or ends (case-insensitive), if any."""
        ids, total = self.match_run_ids(text, 1)
        return ids[0] if total == 1 else None

    @guarded
    def match_run_ids(self, text: str, limit: int) -> tuple[list[str], int]:
        """The newest `limit` run ids that `text` starts (case-insensitive), else ends (ids of one
        millisecond share 25 characters, so the TUI shows the end), and how many match in all."""
        text = text.strip().upper()
        if not text or "/" in text:
            return [], 0
        where = "FROM Cache WHERE key >= ? AND key < ? AND raw = 1"
        args: tuple[Any, ...] = (f"run/{text}", after(f"run/{text}"))
        total = self.rows.count(f"run/{text}")
        if not total and len(text) >= 4:
            where += " AND substr(key, -?) = ?"
            args = ("run/", "run0", len(text), text)
            (total,) = self.rows.keys(f"SELECT COUNT(*) {where}", args)  # one row: the count
        if not total:
            return [], 0
        found = self.rows.keys(f"SELECT key {where} ORDER BY key DESC LIMIT ?", (*args, limit))
        return [key[4:] for key in found], total

    @guarded
    def save_run(self, run: RunRecord, *, guard: bool = True) -> bool:
        """Write a run; with `guard`, a finished run on disk is never overwritten (False)."""
        if guard and not self.rows.in_transaction:
            return self.writes.save_runs([run], ())[0]
        return self.writes.save_run(run, guard)

    @guarded
    def save_runs(self, runs: list[RunRecord], steps: Iterable[StepRecord] = ()) -> list[bool]:
        """`save_run` (guarded) for several runs, and `save_step` for several steps, committed
        together; for each run, False when it was left as it was."""
        return self.writes.save_runs(runs, steps)

    def list_runs(
        self,
        *,
        function: str | None = None,
        status: str | Iterable[str] | None = None,
        limit: int | None = None,
        before: str | None = None,
    ) -> Iterator[RunRecord]:
        """Runs newest first, filtered, streamed (never all loaded at once)."""
        statuses = {status} if isinstance(status, str) else set(status) if status else None
        count = 0
        if function is None:
            start = f"run/{before}" if before else None
            for _, raw in self._scan("run/", reverse=True, tag=statuses, start_after=start):
                if statuses and raw["status"] not in statuses:
                    continue
                yield RunRecord.from_dict(raw)
                count += 1
                if limit is not None and count >= limit:
                    return
            return
        prefix = f"fn/{function}/"
        start = f"{prefix}{before}" if before else None
        for key, _ in self._scan(prefix, reverse=True, start_after=start):
            raw = self.get_run(key[len(prefix) :])
            if raw is None or (statuses and raw.status not in statuses):
                continue
            yield raw
            count += 1
            if limit is not None and count >= limit:
                return

    @guarded
    def count_runs(self, function: str | None = None) -> int:
        """Number of runs (of one function)."""
        rows = self.rows
        return rows.count("run/") if function is None else rows.count(f"fn/{function}/")

    # -- steps ------------------------------------------------------------------------------
    @guarded
    def load_steps(self, run_id: str) -> list[StepRecord]:
        """A run's journal in execution order (one read)."""
        return [StepRecord.from_store(raw) for _, raw in self._scan(f"st/{run_id}/")]

    @guarded
    def save_step(
        self, step: StepRecord, *, run: RunRecord | None = None, consume: str | None = None
    ) -> None:
        """Commit a step (and optionally its run, and one use of an injected failure) at once.

        The run is guarded like `save_run`'s: one cancelled (or ended) meanwhile stays so."""
        if consume is None and not self.rows.in_transaction:
            # the hot path, shared with concurrent writers; a retry's or a hold's run too
            self.save_runs([] if run is None else [run], [step])
            return
        with self.rows.transaction():
            self.writes.put_step(step)
            if run is not None:
                self.writes.save_run(run, True)
            if consume is not None:
                self._consume_failure(consume)

    # -- injected failures and flags --------------------------------------------------------
    @guarded
    def add_failure(self, key: str, times: int, message: str) -> None:
        """Fail the next `times` attempts (-1: every attempt) matching `key`."""
        rows = self.rows
        with rows.transaction():
            if times == 0:
                rows.delete(f"fail/{key}")
            else:
                rows.put(f"fail/{key}", {"times": times, "message": message})

    def _consume_failure(self, key: str) -> None:
        rows = self.rows
        entry = rows.get(f"fail/{key}")
        if entry is None or entry["times"] < 0:
            return
        if entry["times"] <= 1:
            rows.delete(f"fail/{key}")
        else:
            entry["times"] -= 1
            rows.put(f"fail/{key}", entry)

    @guarded
    def failures(self) -> dict[str, dict[str, Any]]:
        """All pending injected failures by key."""
        return {key[5:]: value for key, value in self._scan("fail/")}

    @guarded
    def set_flag(self, key: str, value: Any) -> None:
        """Set (or, with None, clear) a small flag."""
        rows = self.rows
        with rows.transaction():  # a transaction of its own, fenced like every runner's write
            if value is None:
                rows.delete(f"flag/{key}")
            else:
                rows.put(f"flag/{key}", value)

    @guarded
    def get_flag(self, key: str) -> Any:
        """One flag by its exact key (None when unset)."""
        return self.rows.get(f"flag/{key}")

    @guarded
    def flags(self, prefix: str) -> dict[str, Any]:
        """Flags whose key starts with `prefix`."""
        return {key[5:]: value for key, value in self._scan(f"flag/{prefix}")}

    @guarded
    def has_flags(self, prefix: str) -> bool:
        """Whether any flag's key starts with `prefix` (cheaper than reading them)."""
        return bool(self.rows.keys(_FIRST_KEY, (f"flag/{prefix}", after(f"flag/{prefix}"))))

    # -- runner coordination ----------------------------------------------------------------
    def lock_runner(self) -> None:
        """Become the only runner here; raises StateLockedError naming the holder."""
        self.runner_files.lock()

    def notify(self) -> None:
        """Poke a live runner through the wake FIFO; silently nothing when none listens."""
        self.runner_files.notify()

    def wake_fd(self) -> int | None:
        """The wake FIFO, open for reading (the runner); None where FIFOs aren't supported."""
        return self.runner_files.wake_fd()

    def drain_wake(self) -> None:
        """Consume pending notifications."""
        self.runner_files.drain()
