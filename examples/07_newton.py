"""Newton's method with the engine's second derivatives, against gradient descent.

Part 1, the course's cost J(w) = sum_i (z_i - w*x_i)**2 with z = 2x (x = 0.1, ..., 0.5), from
w0 = 0.2. Gradient descent (alpha = 0.4, as in example 01) shrinks w - 2 by a factor 0.56 per step.
Newton's step w <- w - J'(w) / J''(w) uses the curvature J'' = 2 sum x**2 from `hessian`: J is a
parabola, so its second-order model is J itself and one step lands on w = 2 exactly.

Part 2, logistic regression (a cost that is not quadratic): 2-D points with labels drawn from a
logistic model, mean cross-entropy L(w) over w = (w1, w2, b). Newton's step solves H d = -g with
H = hessian(L)(w) (a 3 x 3 matrix); it converges quadratically (the gradient norm squares each
step), where gradient descent with the largest safe step 1/smoothness needs thousands of steps.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograd import Value, grad, hessian, ops  # noqa: E402

X = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
Z = 2 * X
W0, ALPHA = 0.2, 0.4
TOL = 1e-6  # |w - 2| in part 1, gradient norm in part 2
DPI = 90


def cost(w: Value) -> Value:
    """J(w) = sum_i (z_i - w*x_i)**2."""
    return ((Z - w * X) ** 2).sum()


def newton_line(w0: float, steps: int) -> list[float]:
    """Iterates of w <- w - J'(w) / J''(w), both derivatives from the engine."""
    ws = [w0]
    for _ in range(steps):
        w = ws[-1]
        ws.append(w - float(grad(cost)(w)) / float(hessian(cost)(w)))
    return ws


def descent_line(w0: float, alpha: float, steps: int) -> list[float]:
    """Iterates of w <- w - alpha * J'(w)."""
    ws = [w0]
    for _ in range(steps):
        ws.append(ws[-1] - alpha * float(grad(cost)(ws[-1])))
    return ws


def logistic_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points in 2-D (with a column of ones for the bias) and 0/1 labels from a logistic model: overlapping classes."""
    rng = np.random.default_rng(seed)
    pts = rng.standard_normal((n, 2)) * [1.5, 1.0]
    A = np.hstack([pts, np.ones((n, 1))])
    p = 1 / (1 + np.exp(-(A @ np.array([2.0, -1.0, 0.5]))))
    return A, (rng.random(n) < p).astype(np.float64)


def logistic_loss(A: np.ndarray, y: np.ndarray):
    """L(w) = mean_i [log(1 + e**s_i) - y_i s_i] with s = A w: cross-entropy of sigmoid(s)."""

    def L(w: Value) -> Value:
        s = A @ w
        return (ops.softplus(s) - y * s).mean()

    return L


def newton(L, w0: np.ndarray, max_steps: int) -> tuple[list[np.ndarray], list[float]]:
    """Newton's iterates (solving H d = -g each step) until |g| < TOL; also the gradient norms."""
    ws, norms = [w0], []
    for _ in range(max_steps + 1):
        g = grad(L)(ws[-1])
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < TOL or len(ws) > max_steps:
            break
        ws.append(ws[-1] - np.linalg.solve(hessian(L)(ws[-1]), g))
    return ws, norms


def descent(L, w0: np.ndarray, alpha: float, max_steps: int) -> tuple[list[np.ndarray], list[float]]:
    """Gradient descent's iterates until |g| < TOL or max_steps; also the gradient norms."""
    ws, norms = [w0], []
    for _ in range(max_steps + 1):
        g = grad(L)(ws[-1])
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < TOL or len(ws) > max_steps:
            break
        ws.append(ws[-1] - alpha * g)
    return ws, norms


def reference_minimum(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The minimiser by numpy alone (Newton with the textbook gradient A^T (p - y)/n and Hessian A^T diag(p(1-p)) A/n)."""
    w = np.zeros(A.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(A @ w)))
        w = w - np.linalg.solve(A.T @ (A * (p * (1 - p))[:, None]) / len(y), A.T @ (p - y) / len(y))
    return w


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # ---- part 1: the course's quadratic cost
    S = float((X**2).sum())
    print(f"J(w) = sum (z - w x)^2, z = 2x: J'(w) = 2 S (w - 2), J''(w) = 2 S = {2 * S:.2f} (S = sum x^2 = {S:.2f})")
    print(f"engine: J'({W0}) = {float(grad(cost)(W0)):.4f}, J''({W0}) = {float(hessian(cost)(W0)):.4f}")
    newton_ws = newton_line(W0, 2)
    gd_ws = descent_line(W0, ALPHA, 40)
    gd_steps = next(i for i, w in enumerate(gd_ws) if abs(w - 2) < TOL)
    print(f"Newton:           w0 = {W0} -> w1 = {newton_ws[1]!r} (one step; w2 = {newton_ws[2]!r})")
    print(f"gradient descent: alpha = {ALPHA}, |w - 2| < {TOL:g} after {gd_steps} steps (factor {1 - 2 * ALPHA * S:.2f} per step)")

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.linspace(-0.2, 4.2, 200)
    a1.plot(grid, [cost(Value(w)).item() for w in grid], color="0.6", lw=1.5, label="J(w)")
    a1.plot(
        gd_ws[:10], [cost(Value(w)).item() for w in gd_ws[:10]], "-o", color="C3", ms=4, lw=1, label=f"gradient descent (alpha = {ALPHA})"
    )
    a1.annotate("", xy=(newton_ws[1], cost(Value(newton_ws[1])).item()), xytext=(W0, cost(Value(W0)).item()),
                arrowprops={"arrowstyle": "->", "color": "C0", "lw": 2})  # fmt: skip
    a1.plot([], [], color="C0", lw=2, label="Newton: one step")
    a1.set_xlabel("w")
    a1.set_ylabel("J(w)")
    a1.set_title(f"from w0 = {W0}: Newton lands on w = 2")
    a1.legend(fontsize=8)
    floor = 1e-17
    a2.semilogy(range(len(gd_ws)), [max(abs(w - 2), floor) for w in gd_ws], "-o", color="C3", ms=3, label="gradient descent")
    a2.semilogy(range(len(newton_ws)), [max(abs(w - 2), floor) for w in newton_ws], "-o", color="C0", ms=5, label="Newton")
    a2.axhline(TOL, color="0.5", ls=":", lw=1)
    a2.set_xlabel("iteration")
    a2.set_ylabel("|w - 2| (floored at 1e-17)")
    a2.set_title("distance to the minimum")
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "07_newton_quadratic.png", dpi=DPI)
    plt.close(fig)

    # ---- part 2: logistic regression
    A, y = logistic_data()
    L = logistic_loss(A, y)
    w0 = np.zeros(3)
    smooth = float(np.linalg.eigvalsh(A.T @ A).max()) / (4 * len(y))  # the Hessian is at most A^T A / (4n)
    alpha = 1 / smooth
    newton_path, newton_norms = newton(L, w0, 20)
    gd_path, gd_norms = descent(L, w0, alpha, 400 if quick else 5000)
    w_ref = reference_minimum(A, y)
    L_star = float(L(Value(w_ref)).data)
    p = 1 / (1 + np.exp(-(A @ newton_path[-1])))
    h_err = float(np.abs(hessian(L)(newton_path[-1]) - A.T @ (A * (p * (1 - p))[:, None]) / len(y)).max())
    gd_reached = gd_norms[-1] < TOL
    print(f"\nlogistic regression, {len(y)} points, w = (w1, w2, b) from 0; minimum w* = {np.round(w_ref, 6).tolist()}")
    print(f"Newton: |grad| < {TOL:g} after {len(newton_path) - 1} steps; norms " + ", ".join(f"{g:.1e}" for g in newton_norms))
    print(
        f"gradient descent, alpha = 1/smoothness = {alpha:.3f}: "
        + (
            f"|grad| < {TOL:g} after {len(gd_path) - 1} steps"
            if gd_reached
            else f"|grad| = {gd_norms[-1]:.1e} after {len(gd_path) - 1} steps"
        )
    )
    print(f"engine Hessian vs textbook A^T diag(p(1-p)) A / n at w*: max difference {h_err:.1e}")

    fig, (b1, b2) = plt.subplots(1, 2, figsize=(10, 4))
    for label, color in ((0.0, "C1"), (1.0, "C0")):
        m = y == label
        b1.scatter(A[m, 0], A[m, 1], s=10, color=color, alpha=0.7, label=f"y = {int(label)}")
    xs = np.array([A[:, 0].min(), A[:, 0].max()])
    for w, style, name in (
        (newton_path[-1], "-", "Newton"),
        (gd_path[min(len(newton_path) - 1, len(gd_path) - 1)], "--", "gradient descent"),
    ):
        b1.plot(xs, -(w[0] * xs + w[2]) / w[1], "k" + style, lw=1.2, label=f"{name} after {len(newton_path) - 1} steps")
    b1.set_ylim(A[:, 1].min() - 0.5, A[:, 1].max() + 0.5)
    b1.set_xlabel("feature 1")
    b1.set_ylabel("feature 2")
    b1.set_title("data and the p = 0.5 boundary")
    b1.legend(fontsize=7)
    gap = lambda path: [max(float(L(Value(w)).data) - L_star, 1e-16) for w in path]  # noqa: E731
    b2.semilogy(gap(gd_path), color="C3", label="gradient descent")
    b2.semilogy(gap(newton_path), "-o", color="C0", ms=4, label="Newton")
    b2.set_xlabel("iteration")
    b2.set_ylabel("L(w) - L(w*) (floored at 1e-16)")
    b2.set_title("logistic regression: convergence")
    b2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "07_newton_logistic.png", dpi=DPI)
    plt.close(fig)

    return {
        "newton_w": newton_ws,
        "gd_w": gd_ws,
        "gd_steps_to_tol": gd_steps,
        "logistic_newton_steps": len(newton_path) - 1,
        "logistic_newton_grad_norm": newton_norms[-1],
        "logistic_newton_w": newton_path[-1],
        "logistic_reference_w": w_ref,
        "logistic_gd_steps": len(gd_path) - 1,
        "logistic_gd_reached_tol": gd_reached,
        "logistic_gd_grad_norm": gd_norms[-1],
        "logistic_hessian_error": h_err,
        "pictures": ["07_newton_quadratic.png", "07_newton_logistic.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
