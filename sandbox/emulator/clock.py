"""Wall-clock time and the timestamp format Azure services return."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def now() -> float:
    return time.time()


def monotonic() -> float:
    """Seconds on a clock that never jumps: what rates and refills are measured with."""
    return time.monotonic()


def iso(timestamp: float | None = None) -> str:
    """UTC with seven fractional digits and a Z, like the ARM resource providers write it."""
    moment = datetime.fromtimestamp(now() if timestamp is None else timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
