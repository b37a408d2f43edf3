"""Where the engine's own time goes: `python -m benchmarks.profile W2 [--quick] [--top 15]`.

Runs the workload's engine runner under cProfile (after one warm-up call) and prints the
functions with the most time of their own. cProfile adds a fixed cost to every Python call,
so it overstates many-small-call workloads (W1, W4); compare functions with each other, and
take the speed itself from `python -m benchmarks`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats

from .workloads import get


def profile(key: str, quick: bool = False, top: int = 15) -> str:
    """The cProfile table (sorted by own time) of one engine run of workload `key`."""
    w = get(key)
    size = w.sized(quick)
    run = w.impls["engine"](w.data(size))
    run()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(w.calls(size)):
        run()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("key", help='a workload: W1, W2, W3, "W4 N=1,000", W5')
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args(argv)
    print(profile(a.key, a.quick, a.top))


if __name__ == "__main__":
    main()
