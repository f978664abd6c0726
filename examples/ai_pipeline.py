"""An AI pipeline: split a document, summarize the chunks in parallel, then reduce.

    durable dev examples/ai_pipeline.py
    durable send ai/report.requested --data examples/events/report-requested.json

Each chunk's summary is its own step: if one model call fails, only that chunk is retried and
the others are not paid for again. The model is a deterministic fake (no network).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import durable_cli as durable

CALLS: list[str] = []


async def fake_llm_summarize(chunk: str) -> str:
    """A stand-in for an async model client call."""
    await asyncio.sleep(0)
    CALLS.append(chunk[:20])
    words = chunk.split()
    digest = hashlib.sha256(chunk.encode()).hexdigest()[:6]
    return f"{' '.join(words[:6])}… ({len(words)} words, {digest})"


def split(text: str, size: int) -> list[str]:
    """Split the text into chunks of about `size` words."""
    words = text.split()
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)] or [""]


def reduce_summaries(summaries: list[str]) -> dict[str, Any]:
    """Combine the chunk summaries into one report."""
    return {"chunks": len(summaries), "report": " / ".join(summaries)}


@durable.function(id="summarize-report", trigger="ai/report.requested", retries=2)
async def summarize_report(event: durable.Event, step: durable.AsyncStep) -> dict[str, Any]:
    """Fan out one step per chunk with asyncio.gather, then reduce."""
    chunks = await step.run("split", split, event.data["text"], event.data.get("chunk_words", 40))
    summaries = await asyncio.gather(
        *(step.run("summarize-chunk", fake_llm_summarize, chunk) for chunk in chunks)
    )
    return await step.run("reduce", reduce_summaries, list(summaries))
