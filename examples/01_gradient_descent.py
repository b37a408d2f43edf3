"""Gradient descent on a line (course section "Gradient Descent and Optimization").

Data where z = 2x, cost J(w) = sum_i (z_i - w*x_i)**2, start w0 = 0.2, learning rate alpha = 0.4,
update w <- w - alpha * dJ/dw with dJ/dw from the engine's backward().

Why these data: dJ/dw = 2*S*(w - 2) with S = sum_i x_i**2, so one step maps the distance to the
minimum w - 2 to (1 - 2*alpha*S) * (w - 2). The run converges when 0 < 2*alpha*S < 2 and approaches
w = 2 from one side (no overshoot) when 2*alpha*S < 1. With x = 0.1, 0.2, ..., 0.5, S = 0.55 and the
factor is 1 - 0.44 = 0.56: a big drop of J at the first step, then ever smaller steps, as the notes say.
The same data with alpha = 2.0 (factor -1.2) overshoots and diverges; alpha = 0.02 (factor 0.978) crawls.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograd import Value  # noqa: E402

X = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
Z = 2 * X
W0, ALPHA = 0.2, 0.4
ALPHA_BIG, ALPHA_SMALL = 2.0, 0.02
DPI = 90


def cost(w: Value | float) -> Value:
    """J(w) = sum_i (z_i - w*x_i)**2 as a graph (w a Value) or a plain number."""
    w = w if isinstance(w, Value) else Value(w)
    return ((Z - w * X) ** 2).sum()


def descend(w0: float, alpha: float, steps: int) -> list[dict]:
    """Run `steps` updates from w0; one row (w, J, dJ/dw, step) per iterate, the gradient from backward()."""
    rows, w = [], w0
    for i in range(steps + 1):
        wv = Value(w, label="w")
        J = cost(wv)
        J.backward()
        g = float(wv.grad)
        step = -alpha * g
        rows.append({"i": i, "w": w, "J": J.item(), "dJdw": g, "step": step})
        if not np.isfinite(w) or abs(w) > 1e12:
            break
        w = w + step
    return rows


def _parabola(ax, lo: float, hi: float) -> None:
    ws = np.linspace(lo, hi, 200)
    ax.plot(ws, ((Z - ws[:, None] * X) ** 2).sum(axis=1), color="0.6", lw=1.5, label="J(w)")  # the curve only; numpy suffices
    ax.set_xlabel("w")
    ax.set_ylabel("J(w)")


def _path(ax, rows: list[dict], color: str = "C3", labelled: int = 4) -> None:
    ws, Js = [r["w"] for r in rows], [r["J"] for r in rows]
    ax.plot(ws, Js, "-o", color=color, ms=4, lw=1)
    for r in rows[:labelled] + (rows[-1:] if labelled < len(rows) else []):
        ax.annotate(f"w{r['i']}", (r["w"], r["J"]), textcoords="offset points", xytext=(5, 5), fontsize=8)


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    S = float((X**2).sum())
    factor = 1 - 2 * ALPHA * S
    print(f"data: x = {X.tolist()}, z = 2x = {Z.tolist()}")
    print(f"sum x^2 = {S:.2f}; each step multiplies (w - 2) by 1 - 2*alpha*sum x^2 = {factor:.2f}")
    print(f"converges iff 0 < 2*alpha*sum x^2 < 2, i.e. alpha < {1 / S:.3f}; no overshoot iff alpha < {1 / (2 * S):.3f}\n")

    steps = 30  # 1.8 * 0.56**30 < 1e-7: within 1e-6 of w = 2 either way
    rows = descend(W0, ALPHA, steps)
    print(f"{'iter':>4} {'w':>12} {'J(w)':>12} {'dJ/dw':>12} {'step':>12}")
    for r in rows[:8] + rows[-2:]:
        if r["i"] == rows[-2]["i"]:
            print(f"{'...':>4}")
        print(f"{r['i']:>4} {r['w']:>12.8f} {r['J']:>12.3e} {r['dJdw']:>12.3e} {r['step']:>12.3e}")
    w_final = rows[-1]["w"]
    print(f"\nafter {steps} iterations w = {w_final:.10f} (|w - 2| = {abs(w_final - 2):.1e})")
    drops = [rows[i]["J"] - rows[i + 1]["J"] for i in range(len(rows) - 1)]
    print(f"J drops by {drops[0]:.4f} at iteration 1, then {drops[1]:.4f}, {drops[2]:.4f}, ...")

    n_warn = 15 if quick else 25
    big = descend(W0, ALPHA_BIG, n_warn)
    small = descend(W0, ALPHA_SMALL, n_warn)
    print(f"\nalpha = {ALPHA_BIG}: w after {n_warn} steps = {big[-1]['w']:.4g}, J = {big[-1]['J']:.4g} (overshoots, diverges)")
    print(f"alpha = {ALPHA_SMALL}: w after {n_warn} steps = {small[-1]['w']:.4f}, J = {small[-1]['J']:.4f} (crawls)")

    # J(w) with every iterate marked and joined.
    fig, ax = plt.subplots(figsize=(5.5, 4))
    _parabola(ax, -0.2, 4.2)
    _path(ax, rows[:12])
    ax.axvline(2, color="C2", ls=":", lw=1)
    ax.set_title(f"gradient descent, w0 = {W0}, alpha = {ALPHA}")
    fig.tight_layout()
    fig.savefig(out_dir / "01_cost_curve.png", dpi=DPI)
    plt.close(fig)

    # One panel per iteration: the line w*x against the data (top), where w sits on J(w) (bottom).
    n_panels = 4
    fig, axes = plt.subplots(2, n_panels, figsize=(3 * n_panels, 5.6))
    xs = np.linspace(0, 0.55, 2)
    for k in range(n_panels):
        r = rows[k]
        top, bot = axes[0, k], axes[1, k]
        top.plot(X, Z, "o", color="C0", ms=5)
        top.plot(xs, r["w"] * xs, color="C3")
        top.set_title(f"w{k} = {r['w']:.3f}", fontsize=10)
        top.set_ylim(0, 1.15)
        top.set_xlabel("x")
        _parabola(bot, -0.2, 4.2)
        _path(bot, rows[: k + 1])
        bot.plot([r["w"], r["w"] + r["step"]], [r["J"], r["J"]], color="C1", lw=2)
        bot.set_title(f"J = {r['J']:.3f}, step = {r['step']:+.3f}", fontsize=9)
        if k:
            top.set_ylabel("")
            bot.set_ylabel("")
        else:
            top.set_ylabel("z")
    fig.suptitle("each iteration: the fitted line (top) and its cost (bottom); orange = the next step")
    fig.tight_layout()
    fig.savefig(out_dir / "01_iterations.png", dpi=DPI)
    plt.close(fig)

    # The fitted line against the data.
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    ax.plot(X, Z, "o", color="C0", label="data, z = 2x")
    ax.plot(xs, W0 * xs, "--", color="0.5", label=f"start, w = {W0}")
    ax.plot(xs, w_final * xs, color="C3", label=f"fitted, w = {w_final:.6f}")
    ax.set_xlabel("x")
    ax.set_ylabel("z")
    ax.legend(fontsize=8)
    ax.set_title("the line gradient descent found")
    fig.tight_layout()
    fig.savefig(out_dir / "01_fit.png", dpi=DPI)
    plt.close(fig)

    # The notes' two warnings side by side.
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    shown = big[:6]
    span = max(abs(r["w"] - 2) for r in shown) + 0.3
    _parabola(a1, 2 - span, 2 + span)
    _path(a1, shown, labelled=len(shown))
    a1.set_title(f"alpha = {ALPHA_BIG}: overshoots and diverges")
    _parabola(a2, -0.2, 4.2)
    _path(a2, small, labelled=1)
    a2.set_title(f"alpha = {ALPHA_SMALL}: {n_warn} steps, w = {small[-1]['w']:.2f}, still far from 2")
    fig.tight_layout()
    fig.savefig(out_dir / "01_learning_rates.png", dpi=DPI)
    plt.close(fig)

    return {
        "x": X,
        "rows": rows,
        "w_final": w_final,
        "factor": factor,
        "big_rows": big,
        "small_rows": small,
        "files": ["01_cost_curve.png", "01_iterations.png", "01_fit.png", "01_learning_rates.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
