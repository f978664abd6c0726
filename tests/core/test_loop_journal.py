"""`async def` handlers: their runs' journal writes share commits, yet no step starts before the
step before it is committed, and a failed shared commit leaves each of its runs resumable."""

from __future__ import annotations

import asyncio

import durable_cli as durable
from durable_cli.engine import actions
from durable_cli.errors import StateError
from durable_cli.store import open_store

RUNS = 12


def _counting(store, fail_first_with_steps: bool = False) -> list[tuple[int, int]]:
    """Record (runs, steps) of every `save_runs` call; optionally fail the first with steps."""
    calls: list[tuple[int, int]] = []
    real = store.save_runs

    def save_runs(runs, steps=()):
        steps = list(steps)
        calls.append((len(runs), len(steps)))
        if fail_first_with_steps and steps and sum(1 for _, s in calls if s) == 1:
            raise StateError("no space left on device")
        return real(runs, steps)

    store.save_runs = save_runs
    return calls


def test_async_runs_share_commits_and_each_step_is_committed_before_the_next(
    harness, store, tmp_path
):
    other = open_store(str(tmp_path / "state"), create=False)  # a second connection: on disk?
    unseen: list[int] = []

    async def first(i):
        await asyncio.sleep(0)
        return i

    async def second(i):
        journaled = [
            s
            for run in other.list_runs()
            for s in other.load_steps(run.id)
            if s.id == "first" and s.output == i and s.status == "completed"
        ]
        if not journaled:
            unseen.append(i)
        return i * 10

    @durable.function(id="pair", trigger="go")
    async def pair(event, step):
        a = await step.run("first", first, event.data["i"])
        return await step.run("second", second, a)

    calls = _counting(store)
    harness.run(pair, events=[("go", {"i": i}) for i in range(RUNS)])
    other.close()
    runs = harness.runs()
    assert [r.status for r in runs] == ["completed"] * RUNS
    assert sorted(r.output for r in runs) == [i * 10 for i in range(RUNS)]
    assert unseen == []  # every `second` ran after its `first` was committed
    step_writes = sum(steps for _, steps in calls)
    assert step_writes == 2 * RUNS
    assert max(steps for _, steps in calls) > 1  # steps of several runs in one commit
    assert len([c for c in calls if c[1]]) < step_writes


def test_a_failed_shared_commit_leaves_its_runs_resumable(harness, store):
    executed: list[int] = []

    async def work(i):
        executed.append(i)
        return i + 1

    @durable.function(id="one", trigger="go")
    async def one(event, step):
        return await step.run("work", work, event.data["i"])

    calls = _counting(store, fail_first_with_steps=True)
    harness.run(one, events=[("go", {"i": i}) for i in range(4)])
    runs = harness.runs()
    assert [r.status for r in runs] == ["completed"] * 4
    assert sorted(r.output for r in runs) == [1, 2, 3, 4]
    failed = next(steps for _, steps in calls if steps)
    assert failed > 1  # the commit that failed carried several runs' steps
    # those steps ran again (their results were never committed); the others ran once
    assert len(executed) == 4 + failed
    errors = [c for c in harness.changes if c.kind == "error"]
    assert len(errors) == failed and all("no space left" in (c.error or "") for c in errors)
    for run in runs:
        (rec,) = store.load_steps(run.id)
        assert rec.status == "completed" and rec.output == run.output


def test_an_async_run_cancelled_from_outside_as_it_ends_stays_cancelled(harness, store):
    async def last():
        (run,) = store.list_runs()
        actions.cancel_run(store, run.id)  # as `durable cancel` in another terminal would
        return "done"

    @durable.function(id="late", trigger="go")
    async def late(event, step):
        return await step.run("last", last)

    harness.run(late, events=[("go", {})])
    (run,) = harness.runs()
    assert run.status == "cancelled" and run.output is None  # the end write was refused
    (rec,) = store.load_steps(run.id)
    assert (rec.id, rec.status, rec.output) == ("last", "completed", "done")
    assert not [c for c in harness.changes if c.kind == "run" and c.status == "completed"]
