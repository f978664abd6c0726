"""`durable dev --otlp-endpoint URL`: the real command sends its spans over OTLP/HTTP to a collector
(here a small HTTP server on the loopback address that keeps what it is posted)."""

from __future__ import annotations

import http.server
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_support import Project, state_snapshot

WORKFLOW = textwrap.dedent(
    """
    import durable_cli as durable

    @durable.function(id="hello", trigger="t/hello")
    def hello(event, step):
        return step.run("greet", lambda: "hi " + event.data["who"])
    """
)


class _Collector(http.server.BaseHTTPRequestHandler):
    posts: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.posts.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An OTLP/HTTP collector on 127.0.0.1: its URL and the (path, body) posts it got."""
    posts: list[tuple[str, bytes]] = []
    handler = type("Collector", (_Collector,), {"posts": posts})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posts
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    proj = Project(tmp_path)
    proj.env["NO_PROXY"] = proj.env["no_proxy"] = "127.0.0.1"
    proj.write_workflow("hello.py", WORKFLOW)
    yield proj
    proj.kill_runners()


def test_dev_exports_its_runs_and_steps_over_otlp_http(project, collector):
    url, posts = collector
    project.send("t/hello", {"who": "ada"})
    project.run_until_idle("--otlp-endpoint", url)
    (run,) = project.json("runs")
    assert run["status"] == "completed"

    assert posts and {path for path, _ in posts} == {"/v1/traces"}
    spans, services = [], set()
    for _, body in posts:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    assert services == {"durable"}
    by_name = {span.name: span for span in spans}
    assert set(by_name) == {"run hello", "step greet"}
    attributes = {a.key: a.value for a in by_name["step greet"].attributes}
    assert attributes["durable.run_id"].string_value == run["id"]
    assert attributes["durable.attempt"].int_value == 1
    assert attributes["durable.status"].string_value == "completed"
    assert by_name["step greet"].trace_id == by_name["run hello"].trace_id
    assert by_name["step greet"].parent_span_id == by_name["run hello"].span_id


def test_an_endpoint_that_is_no_url_is_refused_in_one_line(project):
    done = project.cli("dev", "--headless", "--until-idle", "--otlp-endpoint", "localhost:4318")
    assert done.returncode == 2
    assert done.stderr == (
        "error: --otlp-endpoint 'localhost:4318' is not an http(s) URL"
        " (e.g. http://localhost:4318)\n"
    )
    assert state_snapshot(project.state) is None
