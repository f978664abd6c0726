"""The README pipeline's shape (five steps), counting the real calls of each step."""

from __future__ import annotations

from typing import Any

from calls import record

import durable_cli as durable


def _step(name: str, value: Any) -> Any:
    def call() -> Any:
        record(name)
        return value

    return call


@durable.function(
    id="process-uploaded-document", trigger="api/document.uploaded", retries=3, backoff=0.05
)
def process_document(event: durable.Event, step: durable.Step) -> dict[str, Any]:
    """Validate, summarize, classify, save, notify."""
    step.run("validate-upload", _step("validate-upload", {"is_valid": True}))
    step.run("summarize-content", _step("summarize-content", "a summary"))
    label = step.run("classify-document", _step("classify-document", "finance"))
    step.run("save-results", _step("save-results", {"saved": event.data.get("document_id")}))
    step.run("notify-success", _step("notify-success", {"sent": True}))
    return {"label": label}
