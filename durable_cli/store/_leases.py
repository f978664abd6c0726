"""Run ownership on the embedded store: runners, leases, fenced writes and due-time claims.

Keys (beside the journal's, see `_diskcache`):

    rn/<runner id>                 a live runner: {"token", "pid", "host", "until"}, tag = token
    tm/<due ms>/<run id>           a suspended run's due time (retry, sleep, wait timeout)
    cc/<limit key>/<run id>        a concurrency slot held by a run: the holder's runner id
    fw/<limit key>/<ms>/<id>       a flow window's entry (throttle starts, rate-limited events)

A run names its owner (`RunRecord.owner`); a runner's lease is its `rn/` row, renewed while it
works. A runner's row holds for all the runs it owns, so renewing costs one write however many
runs it holds. A run is taken from a runner only by revoking that runner's row (its lease ran
out, or its process is gone), and every write a runner makes is fenced by that row: the
group-committed upsert carries `WHERE EXISTS (my token)`, and each transaction checks it once
after BEGIN; the token itself lives in a table of its own (`_fence` says why). A runner that
was paused past its lease therefore can't write beside the run's new owner: its next write
raises `LeaseLost`.

Suspended runs have no owner; their due time is claimed like an event, by whichever runner
comes first, in a transaction that re-checks the run, so a timer fires once.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from ._records import TIMER_STATUSES, RunRecord
from ._rows import Rows, after

__all__ = ["Leases", "timer_key"]

_HOST = socket.gethostname()
_DUE = "SELECT key FROM Cache WHERE key >= 'tm/' AND key <= ? AND raw = 1 ORDER BY key LIMIT ?"


def timer_key(run: RunRecord) -> str | None:
    """The due-time index row of a suspended run, if it has one."""
    if run.wake_at is None or run.status not in TIMER_STATUSES:
        return None
    return f"tm/{run.wake_at:013d}/{run.id}"


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _process_gone(entry: dict[str, Any]) -> bool:
    """A runner on this machine whose process no longer exists is dead now, lease or not."""
    if entry.get("host") != _HOST or not isinstance(entry.get("pid"), int):
        return False
    if entry["pid"] == os.getpid():
        return False
    try:
        os.kill(entry["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class Leases:
    """The store's side of run ownership; its `Rows` carry the fence it sets."""

    def __init__(self, rows: Rows) -> None:
        """Work on the journal's rows."""
        self._rows = rows
        self.runner_id: str | None = None
        self._token: str | None = None

    # -- this runner --------------------------------------------------------------------------
    def register(self, runner_id: str, lease_ms: int) -> None:
        """Become a runner: write my lease row; from now on every write is fenced by it."""
        rows = self._rows
        token = f"{runner_id}:{time.monotonic_ns()}"
        with rows.transaction(fenced=False):
            rows.put(f"rn/{runner_id}", self._entry(token, lease_ms), tag=token)
            rows.set_fence_token(f"rn/{runner_id}", token)
        rows.fence_table_made()
        self.runner_id, self._token = runner_id, token
        rows.fence = (f"rn/{runner_id}", token)

    def renew(self, lease_ms: int) -> bool:
        """Push my lease's end further; False when it was revoked (then nothing is written)."""
        rows, token = self._rows, self._token
        if token is None:
            return False
        with rows.transaction(fenced=False):
            if not rows.holds_fence():
                return False
            rows.put(f"rn/{self.runner_id}", self._entry(token, lease_ms), tag=token)
        return True

    def release(self) -> None:
        """Stop being a runner: my row goes, so my runs are anyone's at once."""
        rows = self._rows
        if self._token is not None:
            with rows.transaction(fenced=False):
                if rows.holds_fence():
                    rows.delete(f"rn/{self.runner_id}")
                    rows.drop_fence_token(f"rn/{self.runner_id}")
        rows.fence = None
        self.runner_id = self._token = None

    def _entry(self, token: str, lease_ms: int) -> dict[str, Any]:
        return {"token": token, "pid": os.getpid(), "host": _HOST, "until": _wall_ms() + lease_ms}

    # -- every runner ------------------------------------------------------------------------
    def runners(self) -> dict[str, dict[str, Any]]:
        """Every runner row, live or not, with `live` set by its lease and process."""
        now = _wall_ms()
        found = {}
        for key, entry in self._rows.scan("rn/"):
            live = key[3:] == self.runner_id or (
                entry.get("until", 0) >= now and not _process_gone(entry)
            )
            found[key[3:]] = {**entry, "live": live}
        return found

    def _live_ids(self) -> set[str]:
        """Inside a transaction: revoke every dead runner's row; the ids of the live ones."""
        rows, live = self._rows, set()
        for runner_id, entry in self.runners().items():
            if entry["live"]:
                live.add(runner_id)
            else:
                rows.delete(f"rn/{runner_id}")
                rows.drop_fence_token(f"rn/{runner_id}")
        return live

    def take_over(self, statuses: Iterable[str], limit: int | None = None) -> list[RunRecord]:
        """Revoke dead runners and make theirs (and unowned runs in `statuses`) mine."""
        rows, me = self._rows, self.runner_id
        taken: list[RunRecord] = []
        with rows.transaction():
            live = self._live_ids()
            for key, holder in list(rows.scan("cc/")):
                if holder not in live:
                    rows.delete(key)  # a dead runner's concurrency slot
            for _, raw in rows.scan("run/", tag=set(statuses)):
                run = RunRecord.from_dict(raw)
                if run.owner == me or run.owner in live:
                    continue
                run.owner = me
                rows.put(f"run/{run.id}", run.to_store(), tag=run.status)
                taken.append(run)
                if limit is not None and len(taken) >= limit:
                    break
        return taken

    def claim(self, run_id: str, now_ms: int) -> RunRecord | None:
        """Make a run that may go now mine, unless a live runner holds it (None then)."""
        rows, me = self._rows, self.runner_id
        with rows.transaction():
            raw = rows.get(f"run/{run_id}")
            if raw is None:
                return None
            run = RunRecord.from_dict(raw)
            if run.finished or run.owner == me:
                return run
            if not run.may_go(now_ms):
                return None
            if run.owner is not None and run.owner in self._live_ids():
                return None
            run.owner = me
            rows.put(f"run/{run.id}", run.to_store(), tag=run.status)
        return run

    def due(self, now_ms: int, limit: int = 256) -> list[tuple[int, str]]:
        """Due-time index rows up to `now_ms`, earliest first: (due ms, run id)."""
        keys = self._rows.keys(_DUE, (f"tm/{now_ms:013d}0", limit))
        return [(int(key[3:16]), key[17:]) for key in keys]

    def upcoming(self) -> list[tuple[int, str]]:
        """Every due-time index row: (due ms, run id)."""
        return [(int(key[3:16]), key[17:]) for key, _ in self._rows.scan("tm/")]

    def claim_due(self, now_ms: int, limit: int = 256) -> list[RunRecord]:
        """Take the runs whose due time has come (each by one runner only), removing the
        index rows they were found by; stale rows (the run moved on) just go."""
        rows, me = self._rows, self.runner_id
        claimed: list[RunRecord] = []
        with rows.transaction():
            found = self.due(now_ms, limit)
            if not found:
                return claimed
            runs = rows.get_many([f"run/{run_id}" for _, run_id in found])
            live: set[str] | None = None
            for at, run_id in found:
                rows.delete(f"tm/{at:013d}/{run_id}")
                raw = runs.get(f"run/{run_id}")
                if raw is None:
                    continue
                run = RunRecord.from_dict(raw)
                if run.finished or run.wake_at != at or not run.may_go(now_ms):
                    continue
                if run.owner is not None and run.owner != me:
                    live = self._live_ids() if live is None else live
                    if run.owner in live:
                        continue
                run.owner = me
                rows.put(f"run/{run.id}", run.to_store(), tag=run.status)
                claimed.append(run)
        return claimed

    # -- flow control across runners ---------------------------------------------------------
    def take_slot(self, key: str, run_id: str, limit: int) -> bool:
        """Hold one of `limit` concurrency slots of `key` for a run (True if it has one now)."""
        rows, prefix = self._rows, f"cc/{key}/"
        with rows.transaction():
            if rows.get(prefix + run_id) is not None:
                return True
            if rows.count(prefix) >= limit:
                return False
            rows.put(prefix + run_id, self.runner_id, new=True)
        return True

    def free_slot(self, key: str, run_id: str) -> None:
        """Give a run's concurrency slot back."""
        rows = self._rows
        with rows.transaction():
            rows.delete(f"cc/{key}/{run_id}")

    def window(self, key: str, entry_id: str, now_ms: int, period_ms: int, limit: int) -> int:
        """Count an entry into a sliding window of `period_ms`; 0 when it fits (and is
        recorded), else the epoch ms at which the window's oldest entry leaves it."""
        rows, prefix = self._rows, f"fw/{key}/"
        with rows.transaction():
            oldest = f"{prefix}{now_ms - period_ms + 1:013d}"
            rows.delete_inline_range(prefix, oldest)
            held = rows.keys(
                "SELECT key FROM Cache WHERE key >= ? AND key < ? AND raw = 1 ORDER BY key LIMIT ?",
                (prefix, after(prefix), limit),
            )
            if len(held) >= limit:
                return int(held[0][len(prefix) : len(prefix) + 13]) + period_ms
            rows.put(f"{prefix}{now_ms:013d}/{entry_id}", 0, new=True)
        return 0
