"""Backpropagation in a two-neuron network (course section "Gradient Descent and Backpropagation").

One input x, two sigmoid neurons in a chain, ground truth T, error E = 1/2 (T - a2)**2:

    z1 = w1*x + b1,  a1 = sigmoid(z1),  z2 = w2*a1 + b2,  a2 = sigmoid(z2)

The course's starting values: x = 0.1, w1 = 0.15, b1 = 0.4, w2 = 0.45, b2 = 0.65, T = 0.25,
learning rate 0.4. The four derivatives come twice: from the engine's backward() and from the
chain-rule formulas of the notes (sigmoid'(z) = a(1 - a)):

    dE/dw2 = -(T - a2) * a2(1 - a2) * a1            dE/db2 = -(T - a2) * a2(1 - a2)
    dE/dw1 = dE/db2 * w2 * a1(1 - a1) * x           dE/db1 = dE/db2 * w2 * a1(1 - a1)
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from autograd import Value, render_graph  # noqa: E402

X, T, LR = 0.1, 0.25, 0.4
START = {"w1": 0.15, "b1": 0.4, "w2": 0.45, "b2": 0.65}
NAMES = ("w2", "b2", "w1", "b1")
FORMULAS = {
    "w2": "-(T - a2) a2(1 - a2) a1",
    "b2": "-(T - a2) a2(1 - a2)",
    "w1": "-(T - a2) a2(1 - a2) w2 a1(1 - a1) x",
    "b1": "-(T - a2) a2(1 - a2) w2 a1(1 - a1)",
}
DPI = 90


def forward(p: dict[str, Value], x: float = X, t: float = T) -> dict[str, Value]:
    """The network's forward pass, every intermediate kept and labelled for the graph picture."""
    xv = Value(x, requires_grad=False, label="x")
    z1 = p["w1"] * xv + p["b1"]
    z1.label = "z1"
    a1 = z1.sigmoid()
    a1.label = "a1"
    z2 = p["w2"] * a1 + p["b2"]
    z2.label = "z2"
    a2 = z2.sigmoid()
    a2.label = "a2"
    E = 0.5 * (Value(t, requires_grad=False, label="T") - a2) ** 2
    E.label = "E"
    return {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "E": E}


def formula_gradients(params: dict[str, float], a1: float, a2: float, x: float = X, t: float = T) -> dict[str, float]:
    """The four derivatives by the notes' chain-rule formulas, from the forward values."""
    d2 = -(t - a2) * a2 * (1 - a2)  # dE/dz2
    d1 = d2 * params["w2"] * a1 * (1 - a1)  # dE/dz1
    return {"w2": d2 * a1, "b2": d2, "w1": d1 * x, "b1": d1}


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    p = {k: Value(v, label=k) for k, v in START.items()}
    f = forward(p)
    vals = {k: v.item() for k, v in f.items()}
    print(f"x = {X}, T = {T}, learning rate = {LR}; start " + ", ".join(f"{k} = {v}" for k, v in START.items()))
    print("forward:  " + "  ".join(f"{k} = {v:.6f}" for k, v in vals.items()))

    render_graph(f["E"], out_dir / "02_graph_before_backward.png", title="two sigmoid neurons: the graph the forward pass recorded")
    f["E"].backward()
    render_graph(f["E"], out_dir / "02_graph_after_backward.png", title="after E.backward(): every node holds dE/d(node) in grad")
    files = ["02_graph_before_backward.png", "02_graph_after_backward.png"]

    engine = {k: float(p[k].grad) for k in NAMES}
    formula = formula_gradients(START, vals["a1"], vals["a2"])
    print(f"\n{'':8}{'engine backward()':>22}{'chain-rule formula':>22}{'difference':>12}   formula")
    for k in NAMES:
        print(f"dE/d{k:<4}{engine[k]:>22.15f}{formula[k]:>22.15f}{abs(engine[k] - formula[k]):>12.1e}   {FORMULAS[k]}")
    updated = {k: START[k] - LR * engine[k] for k in NAMES}
    print("\nafter one step (w <- w - 0.4 * dE/dw):  " + "  ".join(f"{k} = {updated[k]:.6f}" for k in NAMES))

    # Train until the error is small.
    target, max_iter = 1e-6, (400 if quick else 5000)
    p = {k: Value(v, label=k) for k, v in START.items()}
    errors = []
    for _ in range(max_iter):
        E = forward(p)["E"]
        errors.append(E.item())
        if errors[-1] < target:
            break
        for v in p.values():
            v.zero_grad()
        E.backward()
        for v in p.values():
            v.data = v.data - LR * v.grad
    a2_final = forward(p)["a2"].item()
    print(f"\ntraining: E = {errors[0]:.6f} at iteration 0, {errors[min(100, len(errors) - 1)]:.6f} at {min(100, len(errors) - 1)}, "
          f"{errors[-1]:.2e} at {len(errors) - 1}" + (f" (below {target})" if errors[-1] < target else f" (stopped at {max_iter} iterations)"))
    print(f"prediction a2 = {a2_final:.4f} for T = {T}; parameters " + ", ".join(f"{k} = {v.item():.4f}" for k, v in p.items()))

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.semilogy(errors, color="C3")
    ax.axhline(target, color="0.5", ls=":", lw=1)
    ax.set_xlabel("iteration")
    ax.set_ylabel("E = 1/2 (T - a2)^2")
    ax.set_title("two-neuron network: error over training (lr = 0.4)")
    fig.tight_layout()
    fig.savefig(out_dir / "02_training_error.png", dpi=DPI)
    plt.close(fig)
    files.append("02_training_error.png")

    return {
        "forward": vals,
        "engine_grads": engine,
        "formula_grads": formula,
        "updated": updated,
        "errors": errors,
        "files": files,
    }


if __name__ == "__main__":
    main(Path("out"))
