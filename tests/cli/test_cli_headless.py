"""The headless log's lines: what they say, and colour only when asked for."""

from __future__ import annotations

import io

from durable_cli.cli._headless import HeadlessLog, format_change, format_duration
from durable_cli.engine import Change

RUN = "01M8ABX9SA79P0CSCEGFWN7TGV"


def _step(**fields):
    base = dict(kind="step", at=1_700_000_000_123, run_id=RUN, function="fn", step_id="classify")
    return Change(**{**base, **fields})


def test_a_step_line_has_run_function_step_status_attempt_duration_and_error():
    line = format_change(
        _step(status="retrying", attempt=2, duration_ms=1250, error="LLMTimeout: slow")
    )
    assert line.endswith("LLMTimeout: slow")
    for part in (RUN, "fn", "classify", "retrying", "attempt 2", "1.25s", ".123"):
        assert part in line
    assert "\x1b[" not in line


def test_colour_only_when_asked_and_errors_in_red():
    plain = format_change(_step(status="failed", error="boom"))
    coloured = format_change(_step(status="failed", error="boom"), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31mboom\x1b[0m" in coloured
    assert "\x1b[32mcompleted" in format_change(_step(status="completed"), color=True)


def test_reloads_and_load_errors_get_a_line_too():
    reload = Change(kind="reload", at=0, duration_ms=12, detail={"functions": ["a", "b"]})
    assert "reloaded: a, b (12ms)" in format_change(reload)
    broken = Change(kind="load_error", at=0, error="wf.py:3: SyntaxError: invalid syntax")
    assert format_change(broken).endswith("load_error  wf.py:3: SyntaxError: invalid syntax")


def test_the_listener_writes_whole_lines():
    out = io.StringIO()
    log = HeadlessLog(out)
    log(_step(status="running"))
    log(_step(status="completed", duration_ms=3))
    log.flush()  # the helper thread would within milliseconds; this test does not wait
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].endswith("3ms")


def test_durations_read_well():
    assert [format_duration(ms) for ms in (None, 7, 1500, 185_000)] == ["", "7ms", "1.50s", "3m05s"]
