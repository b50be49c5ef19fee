"""When to try a failed dispatch again: exponential backoff with jitter (pure)."""

from __future__ import annotations

import random

BASE_SECONDS = 10.0
CAP_SECONDS = 6 * 3600.0  # never wait more than six hours between tries
RETRY_AFTER_CAP_SECONDS = 24 * 3600.0


def backoff_seconds(
    round_attempts: int,
    *,
    base: float = BASE_SECONDS,
    cap: float = CAP_SECONDS,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Delay before the next try after ``round_attempts`` failures (1 → about ``base``).

    Full doubling per failure, +/-50% jitter so a buyer's outage does not end
    in a synchronized stampede, and never sooner than the buyer's Retry-After.
    """
    rng = rng or random
    exponent = min(max(round_attempts - 1, 0), 30)
    delay = min(base * (2**exponent), cap) * rng.uniform(0.5, 1.5)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return delay
