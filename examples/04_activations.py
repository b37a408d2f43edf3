"""The activation functions (course section "Activation Functions").

The seven functions of the notes, each plotted with its derivative. The derivative is not written
by hand: it is the engine's backward() through the op, evaluated at every point of a grid (the
functions are elementwise, so d(sum f(z))/dz_i = f'(z_i)). Softmax acts on a vector, so it is shown
two ways: on a vector of scores (its outputs sum to 1) and, for the curve, as the first output of
softmax([z, 0, -1]) against z, with the engine's dp0/dz.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograd import Value, concatenate  # noqa: E402

DPI = 90
SCORES = np.array([2.0, 1.0, 0.1, -1.0])


def _softmax_first(z: Value) -> Value:
    """The first output of softmax([z, 0, -1]) for every z (a batch of 3-vectors, one per grid point)."""
    n = z.shape[0]
    rest = np.tile([0.0, -1.0], (n, 1))
    return concatenate([z.reshape(n, 1), rest], axis=1).softmax(axis=1)[:, 0]


# name, function on a Value, range as the notes give it (the last three: as the functions define it)
FUNCTIONS: list[tuple[str, Callable[[Value], Value], str]] = [
    ("sigmoid", lambda z: z.sigmoid(), "(0, 1)"),
    ("tanh", lambda z: z.tanh(), "(-1, 1)"),
    ("ReLU", lambda z: z.relu(), "[0, inf)"),
    ("softmax", _softmax_first, "(0, 1), sums to 1"),
    ("binary step", lambda z: z.binary_step(), "{0, 1}"),
    ("linear", lambda z: z * 1.0, "(-inf, inf)"),
    ("leaky ReLU", lambda z: z.leaky_relu(0.1), "(-inf, inf)"),  # slope 0.1 below 0, to be visible
]


def value_and_derivative(f: Callable[[Value], Value], grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f on the grid and f' from backward() (f elementwise, so the gradient of sum f is f')."""
    z = Value(grid, label="z")
    y = f(z)
    y.sum().backward()
    return y.data.copy(), np.asarray(z.grad).copy()


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 201 if quick else 801  # odd, so z = 0 is on the grid
    grid = np.linspace(-6, 6, n)
    results: dict[str, dict] = {}
    print(f"{'function':<12} {'range (notes)':<20} {'min on [-6, 6]':>15} {'max':>10} {'max derivative':>15}")
    for name, f, rng in FUNCTIONS:
        y, dy = value_and_derivative(f, grid)
        results[name] = {"range": rng, "y": y, "dy": dy, "min": float(y.min()), "max": float(y.max()), "dmax": float(dy.max()), "dmin": float(dy.min())}
        print(f"{name:<12} {rng:<20} {y.min():>15.6f} {y.max():>10.6f} {dy.max():>15.6f}")

    s = Value(SCORES, label="scores")
    p = s.softmax()
    p[0].backward()
    probs = p.data.copy()
    print(f"\nsoftmax of scores {SCORES.tolist()} = {np.round(probs, 4).tolist()}, sum = {probs.sum():.12f}")
    print(f"d softmax_0 / d scores (engine) = {np.round(s.grad, 4).tolist()}  (p0*(1-p0) on itself, -p0*pj on the others)")
    print("sigmoid' peaks at 0.25 (z = 0), tanh' at 1; ReLU' is 1 for z > 0 and 0 below; the binary step's is 0 everywhere")

    fig, axes = plt.subplots(2, 4, figsize=(13, 6))
    for ax, (name, _, rng) in zip(axes.flat, FUNCTIONS):
        r = results[name]
        ax.axhline(0, color="0.85", lw=0.8)
        ax.axvline(0, color="0.85", lw=0.8)
        ax.plot(grid, r["y"], color="C0", lw=2, label="f(z)")
        ax.plot(grid, r["dy"], color="C3", lw=1.5, ls="--", label="f'(z), engine")
        title = "softmax([z, 0, -1])[0]" if name == "softmax" else name
        ax.set_title(f"{title}\nrange {rng}", fontsize=10)
        ax.set_xlabel("z")
        lo, hi = min(r["min"], r["dmin"]), max(r["max"], r["dmax"])
        ax.set_ylim(max(lo, -2) - 0.15, min(hi, 3) + 0.15)
        if name == "sigmoid":
            ax.legend(fontsize=8, loc="upper left")
    ax = axes.flat[7]
    idx = np.arange(len(SCORES))
    ax.bar(idx - 0.2, SCORES, width=0.4, color="0.6", label="scores")
    ax.bar(idx + 0.2, probs, width=0.4, color="C0", label="softmax")
    ax.set_xticks(idx)
    ax.set_xticklabels([f"class {i}" for i in idx], fontsize=8)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_title(f"softmax of a score vector\noutputs sum to {probs.sum():.0f}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "04_activations.png", dpi=DPI)
    plt.close(fig)

    return {"functions": results, "grid": grid, "softmax_scores": SCORES, "softmax_probs": probs, "softmax_grad": np.asarray(s.grad).copy(), "files": ["04_activations.png"]}


if __name__ == "__main__":
    main(Path("out"))
