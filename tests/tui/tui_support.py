"""Shared pieces of the TUI tests: a small workflow, a seeded journal, and waiting in a Pilot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import until
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from durable_cli.engine import Engine, PendingFailure
from durable_cli.store import Attempt, RunRecord, StepRecord, Store
from durable_cli.tui.app import DurableApp

WORKFLOW = """
import durable_cli as durable

CALLS = []


def work(name, value):
    CALLS.append(name)
    return {"step": name, "value": value}


@durable.function(id="pipeline", trigger="test/go", retries=2, backoff=0.05)
def pipeline(event, step):
    a = step.run("one", work, "one", event.data.get("n", 0))
    b = step.run("two", work, "two", a["value"] + 1)
    c = step.run("three", work, "three", b["value"] + 1)
    return {"total": c["value"]}


@durable.function(id="napper", trigger="test/nap")
def napper(event, step):
    step.sleep("nap", 600)
    return "awake"


@durable.function(id="waiter", trigger="test/ask")
def waiter(event, step):
    answer = step.wait_for_event(
        "wait-answer", event="test/answer", timeout=3 * 86400, match="data.key"
    )
    return None if answer is None else answer.data
"""


def write_workflow(folder: Path) -> Path:
    """The test workflow file, in `folder`."""
    path = folder / "workflow.py"
    path.write_text(WORKFLOW)
    return path


def calls(engine: Engine) -> list[str]:
    """The step callables the test workflow really ran, in order."""
    fn = engine.registry.get("pipeline")
    assert fn is not None
    return fn.handler.__globals__["CALLS"]


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], Any], what: str, timeout: float = 30.0
) -> Any:
    """Let the app run until `condition()` is truthy (returned); fail after `timeout` seconds."""
    return await until(condition, timeout, what, pause=pilot.pause)


async def registered_failures(pilot: Pilot[Any], engine: Engine) -> list[PendingFailure]:
    """The pending injected failures, once there are any.

    A dialog's answer reaches its screen's callback after the dialog has closed, so a failure
    chosen in the fail dialog is registered a moment after the main screen is back."""
    return await wait_for(pilot, engine.pending_failures, "the failure to be registered")


def shown(widget: Widget) -> str:
    """The text `widget` paints on screen now (border and padding included), line by line."""
    width, height = widget.outer_size
    lines = widget.render_lines(Region(0, 0, width, height))
    return "\n".join(strip.text.rstrip() for strip in lines)


# -- a journal with fixed ids and times, for snapshots and screenshots ------------------------
T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC
FN = "process-uploaded-document"


def a_run(run_id: str, status: str, **fields: Any) -> RunRecord:
    """A run of FN started at T0 (its event named after its id), to store as it is."""
    event = {"id": f"ev-{run_id[-5:]}", "name": "api/document.uploaded", "data": {}, "ts": T0}
    return RunRecord(
        id=run_id, function=FN, event=event, status=status, created_at=T0, started_at=T0, **fields
    )


EVENT = {
    "id": "01KDVRJ0000000000000EVENT1",
    "name": "api/document.uploaded",
    "data": {"filename": "quarterly-report.pdf", "document_id": "doc-1042", "user_id": "user-7"},
    "ts": T0,
}
STEPS = (
    "validate-upload",
    "summarize-content",
    "classify-document",
    "save-results",
    "notify-success",
)
OUTPUTS = {
    "validate-upload": {"is_valid": True, "errors": []},
    "summarize-content": "Revenue grew 12% quarter over quarter. (23 words, ref 5be1f2a7)",
    "classify-document": "finance",
    "save-results": {"saved": "doc-1042"},
    "notify-success": {"sent_to": "user-7", "message_id": "msg-1"},
}
TIMEOUT = {
    "type": "LLMTimeout",
    "message": "model did not answer within 30s (call 1)",
    "traceback": (
        "Traceback (most recent call last):\n"
        '  File "examples/document_pipeline.py", line 90, in classify\n'
        '    return fake_llm("classify", summary, f"classify:{filename}")\n'
        "LLMTimeout: model did not answer within 30s (call 1)\n"
    ),
}
TOOK = {
    "validate-upload": 4,
    "summarize-content": 820,
    "classify-document": 1_350,
    "save-results": 12,
    "notify-success": 45,
}


def _step(run_id: str, seq: int, at: int, status: str = "completed", **extra: Any) -> StepRecord:
    sid = STEPS[seq]
    took = TOOK[sid]
    attempts = [Attempt(started_at=at, ended_at=at + took)]
    if sid == "classify-document":  # the first call times out; the retry succeeds
        attempts = [
            Attempt(started_at=at, ended_at=at + 300, error=TIMEOUT),
            Attempt(started_at=at + 1_300, ended_at=at + took),
        ]
    rec = StepRecord(
        run_id,
        sid,
        seq,
        status=status,
        output=OUTPUTS[sid],
        attempts=attempts,
        started_at=at,
        ended_at=at + took,
        **extra,
    )
    return rec


def seed_journal(store: Store) -> dict[str, str]:
    """Three runs: two completed (one a replay) and one paused in step mode after a retry."""
    done = RunRecord(
        id="01KDVRJ00000000000000RUN01",
        function=FN,
        event=EVENT,
        status="completed",
        output={"label": "finance"},
        created_at=T0,
        started_at=T0 + 5,
        ended_at=T0 + 2_300,
    )
    steps, at = [], T0 + 5
    for seq in range(5):
        steps.append(_step(done.id, seq, at))
        at += TOOK[STEPS[seq]] + 10
    replay = RunRecord(
        id="01KDVRJ00000000000000RUN02",
        function=FN,
        event=EVENT,
        status="completed",
        output={"label": "finance"},
        replay_of=done.id,
        created_at=T0 + 60_000,
        started_at=T0 + 60_005,
        ended_at=T0 + 61_500,
        meta={"replay_from": "classify-document"},
    )
    at = T0 + 60_005
    for seq in range(5):
        copied = {"copied_from": done.id} if seq < 2 else {}
        steps.append(_step(replay.id, seq, at, **copied))
        at += TOOK[STEPS[seq]] + 10
    paused = RunRecord(
        id="01KDVRJ00000000000000RUN03",
        function=FN,
        event=EVENT,
        status="paused",
        created_at=T0 + 120_000,
        started_at=T0 + 120_005,
        step_mode=True,
        reason="step mode: paused before 'classify-document'",
    )
    at = T0 + 120_005
    for seq in range(2):
        steps.append(_step(paused.id, seq, at))
        at += TOOK[STEPS[seq]] + 10
    steps.append(
        StepRecord(
            paused.id,
            "classify-document",
            2,
            status="paused",
            error=TIMEOUT,
            started_at=at,
            attempts=[Attempt(started_at=at, ended_at=at + 300, error=TIMEOUT, injected=False)],
        )
    )
    store.create_runs([done, replay, paused], steps)
    return {"done": done.id, "replay": replay.id, "paused": paused.id}


def seed_more_runs(store: Store, count: int) -> list[str]:
    """`count` more completed runs of the pipeline, newer than the seeded ones; their ids."""
    runs = [
        RunRecord(
            id=f"01KDVRJ00000000000000RUN{n:02d}",
            function=FN,
            event=EVENT,
            status="completed",
            output={"label": "finance"},
            created_at=T0 + 130_000 + n,
            started_at=T0 + 130_000 + n,
            ended_at=T0 + 131_000 + n,
        )
        for n in range(4, 4 + count)
    ]
    store.create_runs(runs)
    return [r.id for r in runs]


# a reload that failed, with a message longer than an 80-column line
LOAD_ERROR = {
    "file": "examples/document_pipeline.py",
    "line": 42,
    "message": (
        "ImportError: cannot import name 'summarize_quarterly_report' from 'report_helpers' "
        "(examples/report_helpers.py)"
    ),
}


def demo_app(engine: Engine) -> DurableApp:
    """The app over the seeded journal; serve=False: nothing runs, so what it shows depends
    only on the journal."""
    return DurableApp(engine, paths=["examples/document_pipeline.py"], serve=False)


async def settled(pilot: Pilot[Any], timeout: float = 30.0) -> None:
    """Wait until the main screen has nothing to read and has applied what it read (a result
    it applies may ask for another read: it is settled when a pause leaves none asked for)."""
    main = pilot.app.main
    for _ in range(100):
        await wait_for(pilot, lambda: not main.reading, "the journal reads", timeout)
        await pilot.pause()
        if not main.reading:
            return
    raise AssertionError("the screen kept reading")
