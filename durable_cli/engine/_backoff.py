"""Retry delays: exponential with jitter, capped; `RetryAfterError` wins."""

from __future__ import annotations

import random
from typing import Any

from ..errors import RetryAfterError

__all__ = ["MAX_DELAY_S", "retry_delay_s"]

MAX_DELAY_S = 600.0
DEFAULT_FIRST_DELAY_S = 1.0


def retry_delay_s(backoff: Any, retry_number: int, error: BaseException | None = None) -> float:
    """Seconds before retry number `retry_number` (1 for the first retry)."""
    if isinstance(error, RetryAfterError):
        return max(0.0, error.seconds)
    if callable(backoff):
        return max(0.0, float(backoff(retry_number)))
    first = DEFAULT_FIRST_DELAY_S if backoff is None else float(backoff)
    delay = first * 2 ** (retry_number - 1)
    # jitter spreads retries of many runs that failed together (thundering herd)
    return min(MAX_DELAY_S, delay * random.uniform(0.8, 1.2))
