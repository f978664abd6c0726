"""The MCP tools: each a thin call into the engine's queries and actions, as the CLI makes.

A method's docstring is the description the agent reads; its parameters, typed and described,
are the tool's input schema. Each returns JSON shaped like the matching command's `--json`
output, or raises a `DurableError` whose one-line reason the server hands back as a tool error.
Every write goes through the journal, so none needs a runner up; results that wait for one say
so when none is.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ..engine import (
    RUN_STATUSES,
    actions,
    check_run_status,
    export_run,
    function_rows,
    list_runs,
    pending_failures,
    run_detail,
    run_summary,
)
from ..errors import InputError
from ._docs import find_section, sections
from ._trim import trim_run
from ._workspace import Workspace

__all__ = ["READ_ONLY", "WRITING", "Tools"]

RunId = Annotated[
    str, Field(description="A run id, or a unique prefix or suffix of one (from list_runs).")
]
StepId = Annotated[str, Field(description="A step id as the workflow code names it.")]
FunctionId = Annotated[str | None, Field(description="A function id (from list_functions).")]


class Tools:
    """The tools, bound to one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        """Serve `workspace`."""
        self.ws = workspace

    # -- reading ---------------------------------------------------------------------------
    def list_functions(self) -> list[dict[str, Any]]:
        """List the workflow functions in this project: id, triggering event names, retries and
        source file, as `durable functions --json` does. The files are pyproject.toml's
        [tool.durable] paths (or the paths `durable mcp` was started with), loaded afresh on
        each call. Call it first to learn the function ids and event names that send_event,
        list_runs, fail_step and set_step_mode take."""
        return function_rows(self.ws.registry())

    def list_runs(
        self,
        function: FunctionId = None,
        status: Annotated[
            str | None,
            Field(
                description="Only runs in this status.",
                json_schema_extra={"enum": [*RUN_STATUSES, None]},
            ),
        ] = None,
        limit: Annotated[int, Field(ge=1, description="At most this many runs.")] = 20,
    ) -> list[dict[str, Any]]:
        """List runs, newest first, as `durable runs --json` does: each run's id, function,
        status, event, output or error, and timestamps (epoch ms). Filter by function and by
        status. Use get_run for one run's steps."""
        check_run_status(status)
        with self.ws.reading() as store:
            if store is None:
                return []  # no state dir yet: no runs yet
            return list_runs(store, function=function, status=status, limit=limit)

    def get_run(
        self,
        run_id: RunId,
        full: Annotated[
            bool, Field(description="Return every value whole, however long (default: cut).")
        ] = False,
    ) -> dict[str, Any]:
        """Show one run as `durable show --json` does: its event, status, output or error, and
        every step in execution order with status, attempts, output, error, timings and each
        attempt's error (`attempt_log`), plus injected failures still pending for it. Long
        values (outputs, tracebacks) and very long step lists are cut so the answer stays
        readable; then `truncated` lists what was cut: ask again with full=true, or use
        export_run, to get everything."""
        with self.ws.journal() as store:
            detail = run_detail(store, run_id)
        return detail if full else trim_run(detail)

    def export_run(self, run_id: RunId) -> dict[str, Any]:
        """Export one whole run as a single JSON document, nothing cut: {"format":
        "durable-run", "version": 1, "run": {...}, "event": {...}, "steps": [...]}, the steps
        as get_run lists them. Use it for what get_run cut, or to keep a run's history (the
        format `durable import` and replay tests read)."""
        with self.ws.journal() as store:
            return export_run(store, run_id)

    def read_docs(
        self,
        section: Annotated[
            str | None,
            Field(description="A section name or title from the list; omit to get the list."),
        ] = None,
    ) -> dict[str, Any]:
        """Read durable's documentation (README.md and docs/*.md) by section. Without section:
        the list of sections (name, title, source file). With section: that section's Markdown.
        Use it to learn the workflow API (step.run, step.sleep, step.wait_for_event, retries,
        errors), the command line and the testing helpers."""
        if section is None:
            listed = [{"section": s.name, "title": s.title, "source": s.source} for s in sections()]
            return {"sections": listed}
        found = find_section(section)
        return {
            "section": found.name,
            "title": found.title,
            "source": found.source,
            "text": found.text,
        }

    # -- writing ---------------------------------------------------------------------------
    def send_event(
        self,
        name: Annotated[str, Field(description="Event name, e.g. api/document.uploaded.")],
        data: Annotated[
            dict[str, Any] | None, Field(description="The event's data: a JSON object.")
        ] = None,
    ) -> dict[str, Any]:
        """Send an event, as `durable send NAME --data JSON` does: every function whose trigger
        is that name gets a new run. Works with no runner up: the event waits in the queue until
        one starts (the result then says so). Returns the event id; find the runs it started
        with list_runs (newest first)."""
        event = actions.make_event(name, data)  # checked before a state dir is made
        with self.ws.journal(create=True) as store:
            event_id = actions.submit_event(store, event)
        return self._noted({"event_id": event_id})

    def replay_run(
        self,
        run_id: RunId,
        from_step: Annotated[
            str | None,
            Field(description="Copy the steps before this one, with their results; run from it."),
        ] = None,
        data: Annotated[
            dict[str, Any] | None,
            Field(description="New data for the new run's event (default: the same event)."),
        ] = None,
    ) -> dict[str, Any]:
        """Start a new run of the same function for the same event, as `durable replay` does.
        With from_step, the steps before it are copied with their recorded results and not run
        again: only from_step and the steps after it run (e.g. after fixing the code of a failed
        step). With data, the new run's event carries that data instead. Returns the new run (as
        list_runs shows runs); its `replay_of` is the original."""
        with self.ws.journal() as store:
            run = actions.replay_run(store, run_id, from_step, data=data)
        return self._noted(run_summary(run))

    def cancel_run(self, run_id: RunId) -> dict[str, Any]:
        """Cancel a run that has not finished, as `durable cancel` does: a step already running
        finishes, nothing after it runs. Returns the run, now cancelled."""
        with self.ws.journal() as store:
            return run_summary(actions.cancel_run(store, run_id))

    def fail_step(
        self,
        step_id: StepId,
        function: FunctionId = None,
        run_id: Annotated[
            str | None, Field(description="Fail it in this unfinished run only.")
        ] = None,
        times: Annotated[
            int, Field(description="How many attempts to fail; -1: every one, until cleared.")
        ] = 1,
        message: Annotated[str, Field(description="The error message the step gets.")] = "",
    ) -> dict[str, Any]:
        """Make the next `times` attempts of a step fail with `message` without calling its
        code, as `durable fail` does, to exercise retries and failure handling. Give function
        (every run of it, including runs not started yet) or run_id (one unfinished run). Each
        injected failure counts as an attempt; once the step's retries are used up the run
        fails. Works before any runner or run exists. Returns the pending failure; get_run lists
        it under pending_failures until it is used up; clear_failure removes it."""
        options: dict[str, Any] = {"run_id": run_id, "function_id": function, "times": times}
        known = None
        if run_id is None:  # checked before anything is written, as the CLI does
            known = self.ws.known_functions()
            actions.validate_failure(step_id, known_functions=known, **options)
        with self.ws.journal(create=run_id is None) as store:
            key = actions.inject_failure(
                store, step_id, message=message, known_functions=known, **options
            )
            pending = {f.key: f for f in pending_failures(store)}
        return pending[key].to_dict()

    def clear_failure(
        self,
        step_id: StepId,
        function: FunctionId = None,
        run_id: Annotated[
            str | None, Field(description="The run the failure was injected in.")
        ] = None,
    ) -> dict[str, Any]:
        """Remove a step's pending injected failure (as `durable fail STEP --clear`), for the
        function or the run it was injected for: the step's next attempts run its code again.
        Returns what was removed."""
        with self.ws.journal() as store:
            removed = actions.clear_failure(store, step_id, run_id=run_id, function_id=function)
        return removed.to_dict()

    def retry_now(self, run_id: RunId) -> dict[str, Any]:
        """Skip the wait of a run that is retrying (the backoff before a step's next attempt)
        or sleeping (step.sleep): it goes on now. A runner up takes it at once; with none up it
        goes on when one starts (the result then says so). Returns the run."""
        with self.ws.journal() as store:
            return self._noted(run_summary(actions.retry_now(store, run_id)))

    def set_step_mode(
        self,
        on: Annotated[bool, Field(description="true: pause before each step; false: run freely.")],
        run_id: Annotated[str | None, Field(description="This unfinished run.")] = None,
        function: Annotated[str | None, Field(description="The new runs of this function.")] = None,
    ) -> dict[str, Any]:
        """Step through a run (run_id) or the new runs of a function (function): with on=true a
        run pauses before each step; let it take one step at a time with next_step and look at
        each result with get_run. on=false lets it run on freely. Returns the run, or the
        function with its setting."""
        if (run_id is None) == (function is None):
            raise InputError("say which run (run_id) or which function (function)")
        if function is not None:
            known = self.ws.known_functions()
            if known is not None and function not in known:
                raise InputError(f"no function with id {function!r}")
        with self.ws.journal(create=run_id is None) as store:
            actions.set_step_mode(store, run_id=run_id, function_id=function, on=on)
            if run_id is None:
                return {"function": function, "step_mode": on}
            resumed = None if on else actions.resume_stepped(store, run_id)
            run = resumed or actions.find_run(store, run_id)
        return run_summary(run) if resumed is None else self._noted(run_summary(run))

    def next_step(self, run_id: RunId) -> dict[str, Any]:
        """In step mode: let a paused run take exactly one more step, then pause again before
        the next one; see the step's result with get_run. A runner up takes the step at once;
        with none up, when one starts (the result then says so). Returns the run."""
        with self.ws.journal() as store:
            return self._noted(run_summary(actions.next_step(store, run_id)))

    def _noted(self, result: dict[str, Any]) -> dict[str, Any]:
        note = self.ws.runner_note()
        return result if note is None else {**result, "note": note}


READ_ONLY = ("list_functions", "list_runs", "get_run", "export_run", "read_docs")
WRITING = (
    "send_event",
    "replay_run",
    "cancel_run",
    "fail_step",
    "clear_failure",
    "retry_now",
    "set_step_mode",
    "next_step",
)
