"""A failed attempt's traceback text is exactly what `traceback.format_exception` writes, though
each frame is formatted once per process (a retried step fails at the same frames again)."""

from __future__ import annotations

import traceback

import pytest

from durable_cli.engine._describe import describe_error


def _fails(value: object) -> None:
    return {"a": 1}[value]  # a subscript: Python 3.11 marks it with ~~~ and ^^^


def _wraps() -> None:
    try:
        _fails("missing")
    except KeyError as exc:
        raise RuntimeError("could not read it") from exc


def _during() -> None:
    try:
        _fails("missing")
    except KeyError:
        raise ValueError("while handling it")  # noqa: B904 - the context, not a cause


def _group() -> None:
    errors = []
    for call in (_wraps, _during):
        try:
            call()
        except Exception as exc:
            errors.append(exc)
    raise ExceptionGroup("two failed", errors)


@pytest.mark.parametrize("call", [lambda: _fails("x"), _wraps, _during, _group])
def test_the_traceback_is_the_standard_library_s_each_time(call) -> None:
    texts = []
    for _ in range(3):  # the first formats each frame; the next ones take it from the cache
        try:
            call()
        except BaseException as exc:
            expected = "".join(traceback.format_exception(exc))
            texts.append(describe_error(exc)["traceback"])
            assert texts[-1] == expected
    assert "^" in texts[0], "the markers are there"
