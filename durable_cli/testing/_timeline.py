"""A run's timeline as text: every attempt of every step at its virtual time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._results import AttemptResult, RunResult, StepResult

__all__ = ["render"]

_OUT_MAX = 70


def _clip(text: str, limit: int = _OUT_MAX) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _offset(ms: int | None, origin: int) -> str:
    text = "" if ms is None else f"+{(ms - origin) / 1000:.3f}s"
    return text.rjust(11)


def _outcome(step: StepResult, attempt: AttemptResult) -> str:
    last = attempt.number == len(step.attempt_log)
    if attempt.error is not None:
        verdict = "failed" if last and step.status == "failed" else "error, retried"
        if last and step.status not in ("failed", "completed"):
            verdict = step.status
        return f"{verdict}: {_clip(str(attempt.error))}"
    if not last:
        return "ok"
    if step.status == "completed" and step.kind in ("run", "invoke", "wait"):
        return f"completed -> {_clip(repr(step.output))}"
    return step.status


def _meta_note(step: StepResult) -> str:
    if step.kind == "sleep":
        return "sleep"
    if step.kind == "wait":
        return "wait for event"
    if step.kind == "invoke":
        return "invoke"
    if step.kind == "send":
        return "send event"
    return ""


def _lines(run: RunResult, origin: int, indent: str) -> list[str]:
    rows: list[tuple[int, int, int, str]] = []
    width = max((len(s) for s in run.steps), default=4)
    for seq, step in enumerate(run.steps.values()):
        note = _meta_note(step)
        for attempt in step.attempt_log:
            how = attempt.action if attempt.action not in ("", "call") else ""
            if attempt.injected and not how:
                how = "injected"
            ended = attempt.ended_at
            if note and ended is not None and ended != attempt.started_at:
                note += f" until {_offset(ended, origin).strip()}"
            tags = ", ".join(t for t in (note, how) if t)
            text = (
                f"{_offset(attempt.started_at, origin)}  {step.id:<{width}}  "
                f"#{attempt.number}  {_outcome(step, attempt)}" + (f"  [{tags}]" if tags else "")
            )
            rows.append((attempt.started_at, seq, attempt.number, text))
    rows.sort(key=lambda r: r[:3])
    out = [indent + r[3] for r in rows]
    end = _run_end(run)
    if end:
        when = run.ended_at if run.ended_at is not None else None
        out.append(f"{indent}{_offset(when, origin)}  {end}")
    for child in run.children:
        out.append(f"{indent}child run {child.id} of {child.function!r}:")
        out.extend(_lines(child, origin, indent + "    "))
    return out


def _run_end(run: RunResult) -> str:
    if run.status == "completed":
        return f"run completed -> {_clip(repr(run.output))}"
    if run.status == "failed":
        return f"run failed: {_clip(str(run.error))}"
    reason = f" ({run.reason})" if run.reason else ""
    return f"run {run.status}{reason}"


def render(run: RunResult) -> str:
    """Text for humans: a header line, then one line per attempt in virtual time order."""
    origin: Any = run.started_at if run.started_at is not None else 0
    took = "" if run.duration_ms is None else f" in {run.duration_ms / 1000:g}s of virtual time"
    head = f"run {run.id} of {run.function!r}: {run.status}{took}"
    return "\n".join([head, *_lines(run, origin, "  ")])
