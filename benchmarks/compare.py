"""This tree's engine against another revision's, in one run: `python -m benchmarks.compare REV [--only W2,W5] [--rounds 5]`.

For a change that must not slow the engine down. The benchmark suite (this tree's workloads
and timing; the engine and numpy only) runs alternately on REV's `autograd` and `nn` and on this tree's, in fresh
processes, `--rounds` times each (the order alternates every round). Each process reports the
engine's time as a ratio to hand-written numpy timed interleaved with it, which cancels most of
the machine's drift; the comparison is the median over rounds of (this tree's ratio) / (REV's
ratio) next to it. Below 1.00 is faster; this machine's noise is a few percent, so compare
medians of at least 5 rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree(rev: str, into: Path) -> Path:
    """A folder where `import autograd, nn, benchmarks` gives REV's engine and this tree's benchmarks."""
    src = into / "src"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(src), rev], check=True)
    run = into / "run"
    run.mkdir()
    for pkg in ("autograd", "nn"):
        (run / pkg).symlink_to(src / pkg)
    (run / "benchmarks").symlink_to(ROOT / "benchmarks")
    return run


def _ratios(cwd: Path, only: str, reps: int) -> dict[str, float]:
    """One process of the suite in `cwd` (its packages come first on sys.path): {workload: engine / numpy}."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "benchmarks", "--no-peers", "--impls", "engine", "--only", only, "--reps", str(reps), "--out", out]
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        rows = json.loads((Path(out) / "results.json").read_text())["rows"]
    return {r["key"]: r["impls"]["engine"]["ratio"] for r in rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rev", help="the revision to compare against, e.g. HEAD~3 or main")
    ap.add_argument("--only", default="W1,W2,W3,W4,W5", help="comma-separated workload prefixes (default W1-W5)")
    ap.add_argument("--rounds", type=int, default=5, help="processes per side (default 5)")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions in each process (default 3)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = _tree(a.rev, Path(tmp))
        try:
            pairs: dict[str, list[float]] = {}
            for r in range(a.rounds):
                sides = [("base", base), ("this", ROOT)]
                got = {name: _ratios(cwd, a.only, a.reps) for name, cwd in (sides if r % 2 == 0 else sides[::-1])}
                for key, ratio in got["this"].items():
                    if key in got["base"]:
                        pairs.setdefault(key, []).append(ratio / got["base"][key])
                print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in pairs.items()), flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(Path(tmp) / "src")], check=False)
    print(f"\nthis tree / {a.rev}, engine time relative to numpy (median over {a.rounds} rounds [min-max]):")
    for key, v in pairs.items():
        print(f"  {key:14s} {statistics.median(v):.3f}  [{min(v):.3f}-{max(v):.3f}]")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
