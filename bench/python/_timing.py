"""Timing shared by the Python benchmarks."""
from __future__ import annotations

import time
from typing import Any, Callable


def best_of(fn: Callable[[], Any], repeat: int = 1, settle: float = 0.0) -> tuple[float, float, Any]:
    """(best wall seconds of `repeat` calls, the process's CPU seconds in that call with all threads
    counted, the last result). The best call is the one least disturbed by the rest of the machine;
    its CPU time is what compares fairly on a loaded machine.

    `settle` seconds are slept first: idle worker threads of the library timed just before
    (OpenBLAS, OpenMP) spin-wait for a while after their last call and take a core from whatever
    runs next.
    """
    if settle > 0:
        time.sleep(settle)
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(max(repeat, 1)):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - start
        if wall < best:
            best, best_cpu = wall, time.process_time() - cpu
    return best, best_cpu, out
