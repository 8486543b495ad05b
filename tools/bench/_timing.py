"""Wall-clock timing shared by the benchmark scripts (imported as ``_timing`` from their folder)."""

from __future__ import annotations

import time
from collections.abc import Callable


def durations(fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds taken by each of ``repeats`` consecutive calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times
