"""Typed values across a crash: the real `durable dev` is killed inside a step, started again, and
the replayed typed steps come back as their types (the journal holds only their JSON)."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_support import Project

WORKFLOW = textwrap.dedent(
    """
    from __future__ import annotations

    import json, os, signal
    from pathlib import Path

    from typed_values import Item, make_item, make_items, make_point, maybe_item

    import durable_cli as durable

    HERE = Path(__file__).parent


    def crash_once():
        marker = HERE / "killed-once"
        if not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)  # the runner dies with four typed steps done
        return "survived"


    @durable.function(id="typed", trigger="t/go")
    def typed(event, step):
        values = [
            step.run("item", make_item),
            step.run("point", make_point),
            step.run("items", make_items),
            step.run("nothing", maybe_item, False),
            step.run("given", lambda: {"name": "given", "qty": 4}, output_type=Item),
        ]
        seen = [type(v).__name__ for v in values] + [type(values[2][0]).__name__]
        with open(HERE / "seen.jsonl", "a") as fh:  # what each process's handler got
            fh.write(json.dumps({"pid": os.getpid(), "seen": seen}) + "\\n")
        step.run("crash-once", crash_once)
        return [values[0].qty, values[1].y, len(values[2]), values[4].name]
    """
)


def test_typed_values_survive_a_killed_runner(tmp_path: Path):
    project = Project(tmp_path)
    project.write_workflow("typed_flow.py", WORKFLOW)
    shutil.copy(Path(__file__).with_name("typed_values.py"), tmp_path)
    try:
        project.send("t/go")
        crashed = project.dev("--no-watch")
        assert crashed.wait() == -signal.SIGKILL
        (run,) = project.json("runs")
        journal = {s["id"]: s for s in project.json("show", run["id"])["steps"]}
        assert journal["item"]["output"] == {"name": "apple", "qty": 3}
        assert journal["items"]["meta"] == {"type": "list[Item]"}

        project.run_until_idle()
        detail = project.json("show", run["id"])
        assert detail["status"] == "completed", detail["error"]
        assert detail["output"] == [3, 2, 2, "given"]
        seen = [json.loads(line) for line in (tmp_path / "seen.jsonl").read_text().splitlines()]
        assert len({s["pid"] for s in seen}) == 2  # the first run, then the replay
        expected = ["Item", "Point", "list", "NoneType", "Item", "Item"]
        assert [s["seen"] for s in seen] == [expected, expected]
    finally:
        project.kill_runners()
