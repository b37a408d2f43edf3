"""Run the benchmark suite: `python -m benchmarks [--quick] [--only W2,W4] [--out DIR]`.

Each workload runs for this engine and for hand-written numpy in this process, interleaved,
warm-up first, then several repetitions; the peers (micrograd, PyTorch) run in their own
processes when installed. Writes `results.md` (the table), `ratios.png` (a bar chart of the
ratios to numpy) and `results.json` into the output folder, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .workloads import Workload

# NOTE: numpy is imported only in main(), after the BLAS thread count is set in the environment.

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-12  # losses must match the numpy baseline to this, relative, in float64


def machine() -> str:
    """One line naming the machine and the versions that matter."""
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = ""
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f", BLAS {cfg.get('name', '?')} {cfg.get('version', '')}".rstrip()
    except Exception:
        pass
    parts = [f"{cpu}, {os.cpu_count()} cores", f"{platform.system()} {platform.release()}", f"Python {platform.python_version()}", f"numpy {np.__version__}{blas}"]
    for mod in ("torch", "micrograd"):
        try:
            from importlib.metadata import version

            parts.append(f"{mod} {version(mod)}")
        except Exception:
            pass
    return "; ".join(parts)


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def loss_diff(ours: list[float], ref: list[float]) -> float:
    """Largest relative difference |a - b| / |b| between two loss sequences over the steps both ran."""
    n = min(len(ours), len(ref))
    return max((abs(a - b) / abs(b) if b else abs(a) for a, b in zip(ours[:n], ref[:n])), default=float("nan"))


def run_peer(peer: str, w: Workload, quick: bool, reps: int) -> dict[str, Any]:
    """Run one peer on one workload in a fresh process; {'skipped': why} when it cannot run."""
    from .peers import available

    if not available(peer):
        return {"skipped": f"{peer.split('-')[0]} is not installed (pip install -e '.[bench]')"}
    cmd = [sys.executable, "-m", "benchmarks.peers", peer, w.key, "--reps", str(reps)] + (["--quick"] if quick else [])
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    except subprocess.TimeoutExpired:
        return {"skipped": "took more than 30 minutes"}
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or [f"exit code {p.returncode}"])[-1]
        return {"skipped": f"failed: {last[:120]}"}
    return json.loads(p.stdout)


def run_workload(w: Workload, quick: bool, reps: int, peers: bool, impls: set[str] | None = None) -> dict[str, Any]:
    from . import timing

    size = w.sized(quick)
    d = w.data(size)
    runners = {name: make(d) for name, make in w.impls.items() if impls is None or name in impls or name == "numpy"}
    reps = min(reps * w.rep_factor, w.max_reps)
    res = timing.measure(runners, w.calls(size), w.units(size), reps)
    row: dict[str, Any] = {"key": w.key, "title": w.title, "unit": w.unit, "impls": {}}
    ref = res["numpy"]["losses"]
    for name, r in res.items():
        row["impls"][name] = {
            **timing.stats(r["times"]),
            "ratio": timing.paired_ratio(r["times"], res["numpy"]["times"]),
            "loss_diff": loss_diff(r["losses"], ref),
            "steps": len(r["losses"]),
        }
    if w.memory:
        for name, make in w.impls.items():
            row["impls"][name]["peak_bytes"] = timing.peak_memory(lambda make=make: make(w.data(size)), 2)
    for peer in w.peers if peers else ():
        r = run_peer(peer, w, quick, reps)
        if "skipped" in r:
            row["impls"][peer] = {"skipped": r["skipped"]}
        else:
            row["impls"][peer] = {
                **timing.stats(r["times"]),
                # against numpy timed in the peer's own process, interleaved with it: this machine's
                # speed drifts between processes, so a ratio across processes would measure the drift
                "ratio": timing.paired_ratio(r["times"], r["numpy_times"]),
                "loss_diff": loss_diff(r["losses"], ref),
                "steps": len(r["losses"]),
            }
            if "peak_rss_added" in r:
                row["impls"][peer]["peak_rss_added"] = r["peak_rss_added"]
    row["target"], row["met"] = judge(row)
    if "jit" in row["impls"]:
        row["jit_target"], row["jit_met"] = judge_jit(row)
    return row


def judge(row: dict[str, Any]) -> tuple[str, bool | None]:
    """The issue's target for this row, and whether this run meets it (None: its peer was skipped)."""
    im, key = row["impls"], row["key"]
    eng = im["engine"]
    losses_ok = eng["loss_diff"] <= (TOL if key not in ("W3", "W6") else 1e-5)  # W3, W6: float32
    if key == "W1":
        mg, off = im.get("micrograd", {}), im.get("micrograd-gc-off", {})
        if "median" not in mg or "median" not in off:
            return "≤ 0.1× micrograd (default gc) and ≤ 1× micrograd (gc off)", None
        return "≤ 0.1× micrograd (default gc) and ≤ 1× micrograd (gc off)", losses_ok and eng["ratio"] <= 0.1 * mg["ratio"] and eng["ratio"] <= off["ratio"]
    if key == "W2":
        return "≤ 1.25× numpy", losses_ok and eng["ratio"] <= 1.25
    if key == "W3":
        mem = eng["peak_bytes"] / im["numpy"]["peak_bytes"]
        return "≤ 1.05× numpy, peak memory ≤ 1.15×", losses_ok and eng["ratio"] <= 1.05 and mem <= 1.15
    if key.startswith("W4"):
        return "≤ 6 µs per chain step", losses_ok and eng["median"] <= 6e-6
    if key == "W5":
        return "≤ 3× numpy", losses_ok and eng["ratio"] <= 3
    if key == "W6":
        return "≤ 1.3× numpy", losses_ok and eng["ratio"] <= 1.3
    return "", None


def judge_jit(row: dict[str, Any]) -> tuple[str, bool | None]:
    """The issue's target for the row's autograd.jit runner (issue 16), and whether this run meets it."""
    im, key = row["impls"], row["key"]
    jit = im["jit"]
    ok = jit["loss_diff"] <= TOL
    if key == "W1":
        target = "≤ 0.01× micrograd (default gc), ≤ 15× numpy"
        mg = im.get("micrograd", {})
        if "median" not in mg:
            return target, None
        return target, ok and jit["ratio"] <= 0.01 * mg["ratio"] and jit["ratio"] <= 15
    limit = {"W2": 1.10, "W5": 2.0}.get(key)
    if limit is None:
        return "", None
    return f"≤ {limit:g}× numpy", ok and jit["ratio"] <= limit


def table(rows: list[dict[str, Any]], mach: str, quick: bool) -> str:
    lines = [
        f"Machine: {mach}" + (" (quick sizes: not the real benchmark)" if quick else ""),
        "",
        f"Times are {'wall-clock' if os.environ.get('BENCH_CLOCK') == 'wall' else 'CPU'} seconds per unit (median [min–max] over the repetitions); "
        "ratios are to hand-written numpy in the same run: the median of each repetition's ratio to the numpy repetition next to it. "
        "micrograd and PyTorch ran in their own processes, each with its own interleaved numpy baseline for its ratio.",
        "",
        "| workload | unit | numpy | engine | engine / numpy | jit / numpy | PyTorch / numpy | micrograd / numpy | losses vs numpy | target | met | jit target | jit met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        im = r["impls"]

        def cell(name: str, im: dict[str, Any] = im) -> str:
            v = im.get(name)
            if v is None:
                return "–"
            if "skipped" in v:
                return "skipped"
            return f"{fmt_time(v['median'])} [{fmt_time(v['min'])}–{fmt_time(v['max'])}]"

        def ratio(name: str, im: dict[str, Any] = im) -> str:
            v = im.get(name)
            if v is None:
                return "–"
            if "skipped" in v:
                return "skipped"
            return f"{v['ratio']:.2f}×"

        mg = ratio("micrograd")
        if "micrograd-gc-off" in im:
            mg += f" ({ratio('micrograd-gc-off')} gc off)"
        eng = f"**{ratio('engine')}**"
        if "engine-gc-off" in im:
            eng += f" ({ratio('engine-gc-off')} gc off: {fmt_time(im['engine-gc-off']['median'])})"
        if "peak_bytes" in im["engine"]:
            eng += f"; memory {im['engine']['peak_bytes'] / im['numpy']['peak_bytes']:.2f}×"
        met = {True: "yes", False: "**no**", None: "peer skipped"}[r["met"]]
        jit = f"**{ratio('jit')}** ({fmt_time(im['jit']['median'])})" if "jit" in im else "–"
        jit_met = {True: "yes", False: "**no**", None: "peer skipped"}[r["jit_met"]] if "jit_met" in r else "–"
        diffs = ", ".join(f"{n} {v['loss_diff']:.1e}" for n, v in im.items() if n not in ("numpy", "engine-gc-off") and "loss_diff" in v)
        lines.append(
            f"| {r['key']} | {r['unit']} | {cell('numpy')} | {cell('engine')} | {eng} | {jit} | {ratio('torch')} | {mg} | {diffs} | {r['target']} | {met} "
            f"| {r.get('jit_target', '–')} | {jit_met} |"
        )
    skipped = sorted({f"{n}: {v['skipped']}" for r in rows for n, v in r["impls"].items() if "skipped" in v})
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped) + "."]
    floors = [
        f"{r['key']} {r['impls']['floor']['ratio']:.2f}× numpy (the engine {r['impls']['engine']['ratio'] / r['impls']['floor']['ratio']:.1f}× the floor)"
        for r in rows
        if "ratio" in r["impls"].get("floor", {})
    ]
    if floors:
        lines += [
            "",
            "The floor for scalar graphs (`benchmarks/floor.py`: the least Python a scalar engine runs per node, "
            "floats only, every rule inline in one loop, no checks), timed in the same run: " + "; ".join(floors) + ".",
        ]
    mems = [r for r in rows if "peak_bytes" in r["impls"]["engine"]]
    for r in mems:
        im = r["impls"]
        extra = ""
        if "peak_rss_added" in im.get("torch", {}):
            extra = f", PyTorch {im['torch']['peak_rss_added'] / 2**20:.0f} MiB (resident memory added, its own process)"
        lines.append("")
        lines.append(
            f"Peak memory of {r['key']} (tracemalloc: weights, data and every array of two steps): numpy "
            f"{im['numpy']['peak_bytes'] / 2**20:.0f} MiB, engine {im['engine']['peak_bytes'] / 2**20:.0f} MiB{extra}."
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    """A bar chart of every implementation's time as a ratio to numpy (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["engine", "jit", "torch", "micrograd", "micrograd-gc-off", "floor"]
    colors = {"engine": "#2a7ab0", "jit": "#7b3fa0", "torch": "#e07b39", "micrograd": "#6aa84f", "micrograd-gc-off": "#b6d7a8", "floor": "#999999"}
    labels = {
        "engine": "this engine",
        "jit": "this engine under autograd.jit",
        "torch": "PyTorch",
        "micrograd": "micrograd",
        "micrograd-gc-off": "micrograd, gc off",
        "floor": "scalar floor (floor.py)",
    }
    fig, ax = plt.subplots(figsize=(max(7, 1.5 * len(rows)), 4.5))
    width = 0.14
    for j, name in enumerate(names):
        xs, ys = [], []
        for i, r in enumerate(rows):
            v = r["impls"].get(name, {})
            if "ratio" in v:
                xs.append(i + (j - 2.5) * width)
                ys.append(v["ratio"])
        if xs:
            bars = ax.bar(xs, ys, width, label=labels[name], color=colors[name])
            ax.bar_label(bars, [f"{y:,.0f}" if y >= 10 else f"{y:.2g}" for y in ys], fontsize=7)
    ax.axhline(1, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(rows)), [r["key"] for r in rows])
    ax.set_ylabel("time / hand-written numpy (log)")
    ax.set_title("Time relative to hand-written numpy (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds in all (checks the suite runs)")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions after the warm-up (default 5)")
    ap.add_argument("--only", default="", help="comma-separated workload prefixes, e.g. W2,W4")
    ap.add_argument("--no-peers", action="store_true", help="skip micrograd and PyTorch")
    ap.add_argument("--impls", default="", help="only these of this process's implementations, e.g. engine (numpy always runs: the baseline)")
    ap.add_argument("--out", default=None, help="folder for results.md, ratios.png, results.json (default benchmarks/results; out/bench-quick with --quick)")
    ap.add_argument("--wall", action="store_true", help="time with the wall clock instead of the process's CPU time")
    ap.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (default 1: steadier numbers; 0 leaves the libraries' defaults)")
    a = ap.parse_args(argv)
    if a.threads > 0:
        if "numpy" in sys.modules:
            print("warning: numpy was imported before the thread count was set", file=sys.stderr)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BENCH_THREADS"):
            os.environ[var] = str(a.threads)  # inherited by the peers' processes too
    if a.wall:
        os.environ["BENCH_CLOCK"] = "wall"
    from .workloads import WORKLOADS

    only = [s.strip() for s in re.split(r",(?!\d)", a.only) if s.strip()]  # (a comma before a digit is part of a key: W4 N=1,000)
    keys = {w.key for w in WORKLOADS}  # an exact key picks that workload alone ('W4 N=1,000'); else a prefix ('W4')
    chosen = [w for w in WORKLOADS if not only or any(w.key == o if o in keys else w.key.startswith(o) for o in only)]
    out = Path(a.out or ("out/bench-quick" if a.quick else "benchmarks/results"))
    out.mkdir(parents=True, exist_ok=True)
    mach = machine() + f"; {a.threads or 'default'} BLAS/PyTorch thread(s)"
    print(f"Machine: {mach}", flush=True)
    rows = []
    t0 = time.time()
    for w in chosen:
        print(f"{w.key}: {w.title} ...", end=" ", flush=True)
        row = run_workload(w, a.quick, a.reps, not a.no_peers, {i.strip() for i in a.impls.split(",") if i.strip()} or None)
        rows.append(row)
        e = row["impls"]["engine"]
        print(f"engine {fmt_time(e['median'])}/{w.unit}, {e['ratio']:.2f}× numpy", flush=True)
    md = table(rows, mach, a.quick)
    (out / "results.md").write_text(md)
    (out / "results.json").write_text(json.dumps({"machine": mach, "quick": a.quick, "rows": rows}, indent=1))
    chart(rows, out / "ratios.png")
    print()
    print(md)
    print(f"Wrote {out / 'results.md'}, {out / 'ratios.png'} and results.json in {time.time() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
