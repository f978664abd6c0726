"""The examples of docs/testing.md, run against examples/document_pipeline.py."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from durable_cli.engine import load_file
from durable_cli.testing import run_function

PIPELINE = Path(__file__).resolve().parents[2] / "examples" / "document_pipeline.py"
UPLOAD = {"filename": "team-offsite.md", "document_id": "doc-7", "user_id": "user-7"}


@pytest.fixture
def pipeline() -> ModuleType:
    """A fresh import of the example, so its fake storage and model start clean."""
    module, _ = load_file(str(PIPELINE))
    return module


def test_llm_times_out_twice_classify_retries_alone(pipeline: ModuleType) -> None:
    timeout = pipeline.LLMTimeout("model did not answer within 30s")

    result = run_function(
        pipeline.process_document,
        UPLOAD,
        fail={"classify-document": [timeout, timeout]},
    )

    assert result.status == "completed"
    classify = result.steps["classify-document"]
    assert classify.attempts == 3  # two timeouts, then an answer
    assert classify.calls == 1  # the model was really asked once, on the third attempt
    assert [e and e.name for e in classify.errors] == ["LLMTimeout", "LLMTimeout", None]
    # every retry replayed the summary from the journal: summarize was paid for once
    summarize = result.steps["summarize-content"]
    assert (summarize.attempts, summarize.calls) == (1, 1)
    assert result.step_ids == [
        "validate-upload",
        "summarize-content",
        "classify-document",
        "save-results",
        "notify-success",
    ]
    assert pipeline.SAVED["doc-7"]["label"] == result.output["label"]


def test_the_same_with_the_fixture(pipeline: ModuleType, durable: object) -> None:
    durable(pipeline.process_document, UPLOAD, fail={"classify-document": 2})  # type: ignore[operator]

    durable.assert_run(  # type: ignore[attr-defined]
        "completed",
        steps={
            "classify-document": {"attempts": 3, "calls": 1},
            "summarize-content": {"attempts": 1, "calls": 1},
        },
    )


def test_no_model_at_all_with_stubs_and_a_spy(pipeline: ModuleType) -> None:
    asked: list[tuple[str, str]] = []

    def classify_spy(summary: str, filename: str) -> str:
        asked.append((summary, filename))
        return "planning"

    result = run_function(
        pipeline.process_document,
        UPLOAD,
        stub={"summarize-content": "An offsite agenda.", "classify-document": classify_spy},
    )

    assert result.output == {"label": "planning"}
    assert asked == [("An offsite agenda.", "team-offsite.md")]
    assert result.steps["summarize-content"].calls == 0


def test_an_invalid_upload_takes_the_other_branch(pipeline: ModuleType) -> None:
    result = run_function(pipeline.process_document, {**UPLOAD, "filename": "empty.txt"})

    assert result.step_ids == ["validate-upload", "notify-invalid-upload"]
    assert pipeline.OUTBOX[0]["subject"] == "Your upload could not be processed"
