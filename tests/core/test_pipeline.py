"""The seed document pipeline runs end to end through the real engine and journal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from durable_cli.engine import load_paths, run_detail

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "document_pipeline.py"


@pytest.fixture
def pipeline():
    registry = load_paths([str(EXAMPLE)])
    fn = registry.get("process-uploaded-document")
    module = sys.modules[fn.handler.__module__]
    module.OUTBOX.clear()
    module.SAVED.clear()
    module._llm_calls.clear()
    return fn, module


def test_valid_upload_runs_five_steps_once_each(harness, pipeline):
    fn, module = pipeline
    data = {"filename": "team-offsite.md", "document_id": "doc-9", "user_id": "u-1"}
    harness.run(fn, events=[("api/document.uploaded", data)])
    (run,) = harness.runs()
    detail = run_detail(harness.store, run.id)
    assert detail["status"] == "completed"
    assert [s["id"] for s in detail["steps"]] == [
        "validate-upload",
        "summarize-content",
        "classify-document",
        "save-results",
        "notify-success",
    ]
    assert all(s["attempts"] == 1 and s["status"] == "completed" for s in detail["steps"])
    # outputs are persisted and passed on: what save received is what the earlier steps returned
    summary, label = detail["steps"][1]["output"], detail["steps"][2]["output"]
    assert module.SAVED["doc-9"] == {"summary": summary, "label": label}
    assert detail["output"] == {"label": label}
    assert module._llm_calls == {"summarize:team-offsite.md": 1, "classify:team-offsite.md": 1}


def test_invalid_upload_returns_after_two_steps(harness, pipeline):
    fn, module = pipeline
    data = {"filename": "empty.txt", "document_id": "doc-3", "user_id": "u-2"}
    harness.run(fn, events=[("api/document.uploaded", data)])
    (run,) = harness.runs()
    detail = run_detail(harness.store, run.id)
    assert [s["id"] for s in detail["steps"]] == ["validate-upload", "notify-invalid-upload"]
    assert detail["status"] == "completed"
    assert module.OUTBOX == [
        {
            "to": "u-2",
            "subject": "Your upload could not be processed",
            "body": ["empty.txt is empty"],
        }
    ]


def test_flaky_llm_retries_classify_alone(harness, pipeline):
    fn, module = pipeline
    data = {"filename": "quarterly-report.pdf", "document_id": "doc-1", "user_id": "u-3"}
    harness.run(fn, events=[("api/document.uploaded", data)])
    (run,) = harness.runs()
    steps = {s["id"]: s for s in run_detail(harness.store, run.id)["steps"]}
    assert steps["classify-document"]["attempts"] == 2
    assert steps["classify-document"]["attempt_log"][0]["error"]["type"].endswith("LLMTimeout")
    assert steps["summarize-content"]["attempts"] == 1
    assert module._llm_calls["summarize:quarterly-report.pdf"] == 1
