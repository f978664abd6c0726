"""The document pipeline: validate an upload, summarize and classify it with an LLM, save, notify.

Everything outside durable is faked deterministically (no network): `STORAGE` is the file store,
`fake_llm` is the model (it times out on the first call for documents marked `llm_timeouts`, so
`durable dev` shows a retry), and `OUTBOX` collects the emails.

    durable dev examples/document_pipeline.py
    durable send api/document.uploaded --data examples/events/document-uploaded.json
"""

from __future__ import annotations

import hashlib
from typing import Any

import durable_cli as durable

ALLOWED = (".pdf", ".docx", ".txt", ".md")
MAX_BYTES = 10 * 1024 * 1024

STORAGE: dict[str, dict[str, Any]] = {
    "quarterly-report.pdf": {
        "size": 482_113,
        "text": "Revenue grew 12% quarter over quarter, driven by the new enterprise plan. "
        "Churn fell to 1.8%. Hiring is paused until Q3.",
        "llm_timeouts": 1,
    },
    "team-offsite.md": {
        "size": 2_048,
        "text": "Agenda for the offsite: roadmap review, hack day, and a dinner on Thursday.",
        "llm_timeouts": 0,
    },
    "empty.txt": {"size": 0, "text": "", "llm_timeouts": 0},
}
SAVED: dict[str, dict[str, Any]] = {}
OUTBOX: list[dict[str, Any]] = []
_llm_calls: dict[str, int] = {}


class LLMTimeout(TimeoutError):
    """The fake model took too long (as real ones do now and then)."""


def fake_llm(task: str, text: str, key: str) -> str:
    """A deterministic stand-in for a model call: the same input gives the same answer."""
    calls = _llm_calls[key] = _llm_calls.get(key, 0) + 1
    doc = STORAGE.get(key.split(":", 1)[-1], {})
    if task == "classify" and calls <= doc.get("llm_timeouts", 0):
        raise LLMTimeout(f"model did not answer within 30s (call {calls})")
    digest = hashlib.sha256(f"{task}:{text}".encode()).hexdigest()
    if task == "summarize":
        first = text.split(". ")[0].strip().rstrip(".")
        return f"{first}. ({len(text.split())} words, ref {digest[:8]})"
    labels = ("finance", "planning", "hr", "engineering")
    if "revenue" in text.lower() or "churn" in text.lower():
        return "finance"
    return labels[int(digest, 16) % len(labels)]


def validate_document(filename: str) -> dict[str, Any]:
    """Check the upload exists, has an allowed type, and is not empty or huge."""
    errors = []
    doc = STORAGE.get(filename)
    if doc is None:
        errors.append(f"{filename} was not found in storage")
    else:
        if not filename.endswith(ALLOWED):
            errors.append(f"{filename}: type not allowed (use {', '.join(ALLOWED)})")
        if doc["size"] == 0:
            errors.append(f"{filename} is empty")
        if doc["size"] > MAX_BYTES:
            errors.append(f"{filename} is larger than 10 MiB")
    return {"is_valid": not errors, "errors": errors}


def send_failed_email(user_id: str, errors: list[str]) -> dict[str, Any]:
    """Tell the user why the upload was rejected."""
    mail = {"to": user_id, "subject": "Your upload could not be processed", "body": errors}
    OUTBOX.append(mail)
    return {"sent_to": user_id, "message_id": f"msg-{len(OUTBOX)}"}


def summarize(filename: str) -> str:
    """Ask the model for a summary of the document."""
    return fake_llm("summarize", STORAGE[filename]["text"], f"summarize:{filename}")


def classify(summary: str, filename: str) -> str:
    """Ask the model for a label (this is the call that times out now and then)."""
    return fake_llm("classify", summary, f"classify:{filename}")


def save(document_id: str, summary: str, label: str) -> dict[str, Any]:
    """Store the results."""
    SAVED[document_id] = {"summary": summary, "label": label}
    return {"saved": document_id}


def send_done_email(user_id: str, document_id: str) -> dict[str, Any]:
    """Tell the user the document is ready."""
    mail = {"to": user_id, "subject": f"Document {document_id} is ready"}
    OUTBOX.append(mail)
    return {"sent_to": user_id, "message_id": f"msg-{len(OUTBOX)}"}


@durable.function(
    id="process-uploaded-document", trigger="api/document.uploaded", retries=3, backoff=1
)
def process_document(event: durable.Event, step: durable.Step) -> dict[str, Any]:
    """Validate, summarize, classify, save and notify: each a step that retries alone."""
    data = event.data
    check = step.run("validate-upload", validate_document, data["filename"])
    if not check["is_valid"]:
        return step.run(
            "notify-invalid-upload", send_failed_email, data["user_id"], check["errors"]
        )
    summary = step.run("summarize-content", summarize, data["filename"])
    label = step.run("classify-document", classify, summary, data["filename"])
    step.run("save-results", save, data["document_id"], summary, label)
    step.run("notify-success", send_done_email, data["user_id"], data["document_id"])
    return {"label": label}
