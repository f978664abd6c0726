"""Typed values across a crash: the real `durable dev` is killed inside a step, started again, and
the replayed typed steps come back as their types (the journal holds only their JSON)."""

from __future__ import annotations

import json
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
    from dataclasses import dataclass
    from pathlib import Path

    import pydantic

    import durable_cli as durable

    HERE = Path(__file__).parent


    class Item(pydantic.BaseModel):
        name: str
        qty: int


    @dataclass
    class Point:
        x: int
        y: int


    def item() -> Item:
        return Item(name="apple", qty=3)


    def point() -> Point:
        return Point(1, 2)


    def items() -> list[Item]:
        return [Item(name="a", qty=1), Item(name="b", qty=2)]


    def nothing() -> Item | None:
        return None


    def crash_once():
        marker = HERE / "killed-once"
        if not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)  # the runner dies with four typed steps done
        return "survived"


    @durable.function(id="typed", trigger="t/go")
    def typed(event, step):
        values = [
            step.run("item", item),
            step.run("point", point),
            step.run("items", items),
            step.run("nothing", nothing),
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
    (tmp_path / "typed_flow.py").write_text(WORKFLOW)
    (tmp_path / "pyproject.toml").write_text('[tool.durable]\npaths = ["typed_flow.py"]\n')
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
        for runner in project.runners:
            if runner.proc.poll() is None:
                runner.proc.kill()
                runner.proc.wait(10)
