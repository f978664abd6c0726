"""The helper and `durable dev` agree: same workflows, same injected failures, same timelines.

`run_function(fail={"step": N})` goes through the testing helper's interceptor on virtual
time; `durable fail ... --times N` goes through the journal's injected failures and the real
`durable dev` on the wall clock. Both must journal the same steps, statuses and attempts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from durable_cli.engine import load_file
from durable_cli.testing import RunResult, run_function

WORKFLOWS = Path(__file__).parent / "workflows" / "agree_flows.py"
DURABLE = str(Path(sys.executable).with_name("durable"))

# function id -> (event name, data, injected failures: step id -> attempts to fail)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, int]]] = {
    "agree-sync": ("agree/sync", {"x": 5}, {"fetch": 1, "item:1": 2}),
    "agree-async": ("agree/async", {"x": 1}, {"fetch": 1}),
}


def durable_cmd(*args: str, state: Path, cwd: Path) -> str:
    done = subprocess.run(
        [DURABLE, *args, "--state-dir", str(state)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"durable {' '.join(args)}: {done.stderr}"
    return done.stdout


def timeline_of_show(detail: dict[str, Any]) -> dict[str, Any]:
    error = detail["error"] or {}
    return {
        "status": detail["status"],
        "output": detail["output"],
        "error": (error.get("type"), (error.get("cause") or {}).get("type")),
        "steps": [
            (
                s["id"],
                s["kind"],
                s["status"],
                s["attempts"],
                [a["error"] and a["error"]["type"] for a in s["attempt_log"]],
            )
            for s in detail["steps"]
        ],
    }


def timeline_of_result(result: RunResult) -> dict[str, Any]:
    error = result.error
    return {
        "status": result.status,
        "output": result.output,
        "error": (
            error and error.type,
            error and error.cause and error.cause.type,
        ),
        "steps": [
            (s.id, s.kind, s.status, s.attempts, [e and e.type for e in s.errors])
            for s in result.steps.values()
        ],
    }


@pytest.fixture(scope="module")
def dev_timelines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run both workflows through `durable send`, `durable fail` and `durable dev`."""
    work = tmp_path_factory.mktemp("agree")
    state = work / "state"
    flows = work / "agree_flows.py"
    shutil.copy(WORKFLOWS, flows)
    for function_id, (name, data, failures) in CASES.items():
        durable_cmd("send", name, "--data", json.dumps(data), state=state, cwd=work)
        for step_id, times in failures.items():
            durable_cmd(
                "fail", step_id, "--function", function_id, "--times", str(times),
                state=state, cwd=work,
            )  # fmt: skip
    durable_cmd(
        "dev", str(flows), "--until-idle", "--headless", "--no-watch", state=state, cwd=work
    )
    runs = json.loads(durable_cmd("runs", "--json", state=state, cwd=work))
    assert sorted(r["function"] for r in runs) == sorted(CASES)
    timelines = {}
    for run in runs:
        detail = json.loads(durable_cmd("show", run["id"], "--json", state=state, cwd=work))
        timelines[run["function"]] = timeline_of_show(detail)
    return timelines


@pytest.mark.parametrize("function_id", sorted(CASES))
def test_run_function_and_durable_dev_give_the_same_timeline(
    function_id: str, dev_timelines: dict[str, dict[str, Any]]
) -> None:
    _, functions = load_file(str(WORKFLOWS))
    fn = next(f for f in functions if f.id == function_id)
    _, data, failures = CASES[function_id]

    result = run_function(fn, data, fail=failures)

    assert timeline_of_result(result) == dev_timelines[function_id]


def test_the_compared_timelines_exercise_retries_and_failures(
    dev_timelines: dict[str, dict[str, Any]],
) -> None:
    sync = dev_timelines["agree-sync"]
    assert sync["status"] == "completed"
    assert sync["output"] == 10 + (0 + 2 + 4)
    assert ("item:1", "run", "completed", 3, ["InjectedFailure", "InjectedFailure", None]) in (
        sync["steps"]
    )
    assert ("flaky", "run", "failed", 3, ["RuntimeError"] * 3) in sync["steps"]
    assert dev_timelines["agree-async"]["error"] == ("StepError", "RuntimeError")
