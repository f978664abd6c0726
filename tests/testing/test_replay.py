"""`testing.replay`: current code against an exported run, calling none of its steps."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from replay_support import exported, exported_midway

import durable_cli as durable
from durable_cli.errors import InputError
from durable_cli.testing import ReplayResult, replay, run_function


def flow(*steps: str, calls: list[str] | None = None, fail: str | None = None) -> durable.Function:
    """`job`: a `step.run` per name (a name ending in '~' is a minute-long `step.sleep`)."""
    seen = calls if calls is not None else []

    def make(name: str):
        def call() -> str:
            seen.append(name)
            if name == fail:
                raise RuntimeError("not yet")
            return name.upper()

        return call

    @durable.function(id="job", trigger="go", retries=5, backoff=60)
    def job(event: durable.Event, step: durable.Step) -> list[str | None]:
        out: list[str | None] = []
        for name in steps:
            if name.endswith("~"):
                step.sleep(name[:-1], 60)
                out.append(None)
            else:
                out.append(step.run(name, make(name)))
        return out

    return job


def test_unchanged_code_replays_without_calling_any_step(tmp_path: Path) -> None:
    history = exported(flow("a", "b", "c~", "d"), fail={"b": 1})
    path = tmp_path / "run.json"
    path.write_text(json.dumps(history))
    calls: list[str] = []

    for source in (history, path, str(path)):
        result = replay(flow("a", "b", "c~", "d", calls=calls), source)

        assert isinstance(result, ReplayResult)
        assert result.status == "completed" and not result.history_ended
        assert result.output == ["A", "B", None, "D"] == history["run"]["output"]
        assert result.step_ids == ["a", "b", "c", "d"]
        assert {sid: s.calls for sid, s in result.steps.items()} == dict.fromkeys("abcd", 0)
        assert result.steps["b"].attempts == 2  # as recorded: the failed attempt and the retry
        assert result.stopped_at is None
    assert calls == []


def _mismatch(history: dict, *steps: str) -> durable.NondeterminismError:
    calls: list[str] = []
    with pytest.raises(durable.NondeterminismError) as caught:
        replay(flow(*steps, calls=calls), history)
    assert calls == []  # nothing ran, not even the steps before the mismatch
    return caught.value


def test_an_inserted_step_names_both_ids_and_the_position() -> None:
    err = _mismatch(exported(flow("a", "b", "c")), "a", "x", "b", "c")

    assert (err.position, err.recorded, err.requested) == (2, ("b", "run"), ("x", "run"))
    assert str(err) == (
        "job: nondeterminism at step 2: the history recorded 'b' (run),"
        " the code requested 'x' (run)"
    )
    assert err.recorded_order == [("a", "run"), ("b", "run"), ("c", "run")]
    assert err.requested_order == [("a", "run"), ("x", "run")]


def test_a_removed_step_names_both_ids() -> None:
    err = _mismatch(exported(flow("a", "b", "c")), "a", "c")

    assert (err.position, err.recorded, err.requested) == (2, ("b", "run"), ("c", "run"))
    assert "'b'" in str(err) and "'c'" in str(err)


def test_a_removed_last_step_is_a_recorded_step_never_asked_for() -> None:
    err = _mismatch(exported(flow("a", "b", "c")), "a", "b")

    assert (err.position, err.recorded, err.requested) == (3, ("c", "run"), None)
    assert str(err) == (
        "job: nondeterminism at step 3: the history recorded 'c' (run),"
        " the run ended without asking for it"
    )


def test_two_swapped_steps_name_both_ids() -> None:
    err = _mismatch(exported(flow("a", "b", "c")), "a", "c", "b")

    assert (err.position, err.recorded, err.requested) == (2, ("b", "run"), ("c", "run"))


def test_a_step_whose_kind_changed_names_both_kinds() -> None:
    err = _mismatch(exported(flow("a", "b", "c")), "a", "b~", "c")

    assert (err.position, err.recorded, err.requested) == (2, ("b", "run"), ("b", "sleep"))
    assert "'b' (run)" in str(err) and "'b' (sleep)" in str(err)


def test_the_side_by_side_orders_mark_the_step_that_differs() -> None:
    err = _mismatch(exported(flow("a", "b", "c")), "a", "x")

    assert err.side_by_side().splitlines() == [
        "step  recorded  requested",
        "   1  a (run)   a (run)",
        "   2  b (run)   x (run)  <- differs",
        "   3  c (run)",
    ]


def test_a_run_exported_midway_stops_where_its_history_ends() -> None:
    history = exported_midway(flow("a", "b~", "c"))  # sleeping in b when exported
    assert [s["status"] for s in history["steps"]] == ["completed", "running"]
    calls: list[str] = []

    result = replay(flow("a", "b~", "c", calls=calls), history)

    assert result.history_ended and result.status == "paused"
    assert (result.stopped_at, result.stopped_position) == ("b", 2)
    assert result.reason == "history ended: step 2 'b' (sleep) is running in the history"
    assert result.steps["a"].calls == 0 and calls == []


def test_a_midway_run_whose_code_goes_past_a_retrying_step_stops_at_the_new_step() -> None:
    # recorded: a done, b retrying; the code renamed b (as dev allows while it retries)
    history = exported_midway(flow("a", "b", "c", fail="b"))
    assert [s["status"] for s in history["steps"]] == ["completed", "retrying"]

    result = replay(flow("a", "b2", "c"), history)

    assert result.history_ended and result.stopped_at == "b2"
    assert "'b2' (run) is not in the history" in (result.reason or "")


def test_a_recorded_failure_comes_back_as_the_step_error() -> None:
    @durable.function(id="careful", trigger="go", retries=0)
    def careful(event: durable.Event, step: durable.Step) -> str:
        try:
            step.run("flaky", lambda: 1 / 0)
        except durable.StepError as exc:
            kind = exc.error_type
            return step.run("fallback", lambda: f"recovered from {kind}")
        return "no error"

    history = exported(careful)

    result = replay(careful, history)

    assert result.status == "completed" and result.output == "recovered from ZeroDivisionError"
    assert result.steps["flaky"].status == "failed" and result.steps["flaky"].calls == 0


def test_an_async_handler_replays_too() -> None:
    calls: list[str] = []

    @durable.function(id="async-job", trigger="go")
    async def job(event: durable.Event, step: durable.Step) -> list[int]:
        async def one() -> int:
            calls.append("one")
            return 1

        first = await step.run("one", one)
        await step.sleep("pause", 5)
        return [first, await step.run("two", lambda: calls.append("two") or 2)]

    history = exported(job)
    calls.clear()

    result = replay(job, history)

    assert result.output == [1, 2] and calls == []


def test_replay_inside_a_running_event_loop() -> None:
    history = exported(flow("a"))

    async def in_a_test() -> ReplayResult:
        return replay(flow("a"), history)

    assert asyncio.run(in_a_test()).output == ["A"]


def test_a_history_of_another_function_or_format_is_refused() -> None:
    history = exported(flow("a"))
    other = run_function(flow("a"))  # the same code, to compare against

    @durable.function(id="other", trigger="go")
    def not_job(event: durable.Event, step: durable.Step) -> None:
        return None

    with pytest.raises(InputError, match="the history is a run of 'job', not of 'other'"):
        replay(not_job, history)
    with pytest.raises(InputError, match="version 2: this durable reads version 1"):
        replay(flow("a"), {**history, "version": 2})
    with pytest.raises(InputError, match="not an exported run"):
        replay(flow("a"), {"format": "something-else"})
    with pytest.raises(TypeError):
        replay(lambda e, s: None, history)  # type: ignore[arg-type]
    assert other.status == "completed"


def test_a_history_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("{not json")

    with pytest.raises(InputError, match=r"run\.json: not an exported run \(not JSON"):
        replay(flow("a"), path)
    with pytest.raises(InputError, match="can't read the exported run"):
        replay(flow("a"), tmp_path / "missing.json")


def test_a_file_written_by_durable_export_replays(tmp_path: Path) -> None:
    state = tmp_path / "state"
    recorded = run_function(flow("a", "b~", "c"), fail={"c": 1}, state_dir=state)
    out = tmp_path / "histories" / "run.json"
    out.parent.mkdir()
    durable_cmd = Path(sys.executable).with_name("durable")

    done = subprocess.run(
        [str(durable_cmd), "export", recorded.id, "--output", str(out), "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    result = replay(flow("a", "b~", "c"), out)
    assert result.status == "completed" and result.output == recorded.output
    assert [s.calls for s in result.steps.values()] == [0, 0, 0]
    with pytest.raises(durable.NondeterminismError, match="recorded 'c' \\(run\\)"):
        replay(flow("a", "b~"), out)
