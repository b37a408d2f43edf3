"""The engine in ten lines: differentiate a small expression and print the gradients."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograd import Value


def main(out_dir: Path, quick: bool = False) -> dict:
    x = Value(np.array([[1.0, -2.0, 3.0]]), label="x")
    w = Value(np.array([[0.5], [0.25], [-1.0]]), label="w")
    b = Value(0.1, label="b")
    loss = ((x @ w + b).tanh() ** 2).sum()
    loss.backward()
    print(f"loss = {loss.item():.6f}")
    print("dloss/dx =", np.round(x.grad, 6))
    print("dloss/dw =", np.round(w.grad.ravel(), 6))
    print(f"dloss/db = {b.grad.item():.6f}")
    return {"loss": loss.item(), "x_grad": x.grad, "w_grad": w.grad, "b_grad": b.grad}


if __name__ == "__main__":
    main(Path("out"))
