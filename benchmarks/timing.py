"""Interleaved timing: warm-up, then repetitions that alternate which implementation goes first."""

from __future__ import annotations

import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

# CPU seconds of this process (all its threads), so other programs on the machine do not
# count; BENCH_CLOCK=wall switches to time.perf_counter.
clock = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" else time.process_time


def measure(runners: dict[str, Callable[[], float]], calls: int, units: int, reps: int, warmup: int = 1) -> dict[str, Any]:
    """Time each runner `reps` times (`calls` calls a repetition) after `warmup` calls, interleaved.

    Returns, per name, the seconds per unit of every repetition and the loss of every call,
    warm-up included (so the losses of two implementations line up step for step).
    """
    names = list(runners)
    times: dict[str, list[float]] = {n: [] for n in names}
    losses: dict[str, list[float]] = {n: [] for n in names}
    for n in names:
        for _ in range(warmup):
            losses[n].append(runners[n]())
    for r in range(reps):
        for n in names if r % 2 == 0 else names[::-1]:
            run, out = runners[n], losses[n]
            gc.collect()  # start every repetition from the same collector state
            t0 = clock()
            for _ in range(calls):
                out.append(run())
            times[n].append((clock() - t0) / (calls * units))
    return {n: {"times": times[n], "losses": losses[n]} for n in names}


def peak_memory(make: Callable[[], Callable[[], float]], calls: int) -> int:
    """Peak bytes traced (tracemalloc: numpy's arrays and Python's objects) while making `calls` calls.

    What the runner holds from its setup (weights, data) counts; a transient peak of the setup
    itself (e.g. a layer initialised in float64 and then given float32 weights) does not.
    """
    gc.collect()
    tracemalloc.start()
    try:
        run = make()
        tracemalloc.reset_peak()
        for _ in range(calls):
            run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def paired_ratio(times: list[float], base: list[float]) -> float:
    """The median over repetitions of times[i] / base[i]: each pair ran back to back (interleaved),
    so a change in the machine's speed between repetitions cancels out of the ratio."""
    return statistics.median(t / b for t, b in zip(times, base, strict=True))


def stats(times: list[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}
