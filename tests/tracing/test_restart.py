"""The real `durable dev`, killed in the middle of a run's first step and started again: the run's
spans from both processes share one trace, the second hanging under the first's journaled span.
The workflow file sets up the application's tracer provider, exporting each span to a file as it
ends (spans of the killed process that never ended are lost, as they would be anywhere)."""

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
    import json, os, signal
    from pathlib import Path

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    import durable_cli as durable

    HERE = Path(__file__).parent


    class FileExporter(SpanExporter):
        def export(self, spans):
            with open(HERE / "spans.jsonl", "a") as fh:
                for s in spans:
                    parent = s.parent.span_id if s.parent else None
                    row = {"name": s.name, "trace": s.context.trace_id,
                           "span": s.context.span_id, "parent": parent,
                           "attributes": dict(s.attributes), "pid": os.getpid()}
                    fh.write(json.dumps(row) + "\\n")
                fh.flush()
                os.fsync(fh.fileno())
            return SpanExportResult.SUCCESS


    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(FileExporter()))
    trace.set_tracer_provider(provider)


    def first():
        marker = HERE / "killed-once"
        if not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)  # the runner dies inside the run's first step
        return 1


    @durable.function(id="crash-traced", trigger="t/go")
    def crash_traced(event, step):
        one = step.run("first", first)
        return one + step.run("second", lambda: 1)
    """
)


def _spans(root: Path) -> list[dict]:
    path = root / "spans.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_run_killed_mid_step_keeps_its_trace_when_it_resumes(tmp_path: Path):
    project = Project(tmp_path)
    project.write_workflow("traced.py", WORKFLOW)
    try:
        project.send("t/go")
        crashed = project.dev("--no-watch")
        assert crashed.wait() == -signal.SIGKILL
        assert _spans(tmp_path) == []  # the run's span and its step's never ended
        (run,) = project.json("runs")
        traceparent = run["meta"]["trace"]["traceparent"]  # journaled before the step began
        _, trace_hex, span_hex, _ = traceparent.split("-")

        project.run_until_idle()
        assert project.json("show", run["id"])["status"] == "completed"
        spans = _spans(tmp_path)
        assert {s["trace"] for s in spans} == {int(trace_hex, 16)}
        (resumed,) = [s for s in spans if s["name"] == "run crash-traced"]
        assert resumed["parent"] == int(span_hex, 16)  # the killed process's run span
        assert resumed["attributes"]["durable.resumed"] is True
        steps = {s["name"]: s for s in spans if s["name"].startswith("step ")}
        assert set(steps) == {"step first", "step second"}
        assert all(s["parent"] == resumed["span"] for s in steps.values())
    finally:
        project.kill_runners()
