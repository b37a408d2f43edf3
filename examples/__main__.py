"""Run every example in order, printing their numbers and writing their pictures to one folder.

    python -m examples [--quick] [--out DIR] [--only NAME ...]

Each example is a module `examples/NN_name.py` with `main(out_dir: Path, quick: bool) -> dict`
that prints what a learner checks by hand and returns the numbers the tests check.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import examples


def discover() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(examples.__path__) if m.name[:2].isdigit())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", default=os.environ.get("AUTOGRAD_QUICK") == "1", help="fewer iterations (as the tests run them)")
    ap.add_argument("--out", type=Path, default=Path("out"), help="folder for the pictures (default: out/)")
    ap.add_argument("--only", nargs="*", default=None, help="run only examples whose name contains one of these")
    args = ap.parse_args()
    names = [n for n in discover() if not args.only or any(o in n for o in args.only)]
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        t = time.perf_counter()
        importlib.import_module(f"examples.{name}").main(args.out, quick=args.quick)
        print(f"--- {name}: {time.perf_counter() - t:.1f} s", flush=True)
    print(f"\nAll {len(names)} examples ran; their pictures are in {args.out.resolve()}")


if __name__ == "__main__":
    main()
