"""The floor for scalar graphs: the least Python a reverse-mode engine can run per node.

A reference for W1 and W4, not a library: one small class of Python floats with no tensors, no
broadcasting, no dtypes, no checks and no switches, and each op's gradient written inline in a
single backward loop (so adding an op means editing that loop, the opposite of the engine's
rule-beside-forward design). It is micrograd's design without its reference cycles and recursion.
Timed beside the engine in the same run, it shows how much of the engine's time on scalar graphs
is the generality it pays for, and how much is Python's own cost per node, which no design in
pure Python avoids.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Runner = Callable[[], float]

_MUL, _SCALE, _ADD, _SHIFT, _RELU, _TANH = range(6)


class Node:
    """A scalar: its value, its gradient, its op's kind and up to two inputs (or a constant in b)."""

    __slots__ = ("d", "g", "k", "a", "b")

    def __init__(self, d: float, k: int = -1, a: Any = None, b: Any = None) -> None:
        self.d, self.g, self.k, self.a, self.b = d, 0.0, k, a, b

    def __mul__(self, o: Any) -> Node:
        if type(o) is Node:
            return Node(self.d * o.d, _MUL, self, o)
        return Node(self.d * o, _SCALE, self, o)

    def __rmul__(self, o: float) -> Node:
        return Node(o * self.d, _SCALE, self, o)

    def __add__(self, o: Any) -> Node:
        if type(o) is Node:
            return Node(self.d + o.d, _ADD, self, o)
        return Node(self.d + o, _SHIFT, self)

    def __radd__(self, o: float) -> Node:
        return Node(o + self.d, _SHIFT, self)

    def __neg__(self) -> Node:
        return Node(-self.d, _SCALE, self, -1.0)

    def relu(self) -> Node:
        return Node(self.d if self.d > 0 else 0.0, _RELU, self)

    def tanh(self) -> Node:
        return Node(math.tanh(self.d), _TANH, self)

    def backward(self) -> None:
        """Add d(self)/d(node) to every node's g: a post-order walk, then the rules in reverse."""
        order: list[Node] = []
        seen: set[Node] = set()
        stack: list[Any] = [self]
        emit = object()
        while stack:
            n = stack.pop()
            if n is emit:
                order.append(stack.pop())
                continue
            if n in seen:
                continue
            seen.add(n)
            stack += (n, emit)
            if n.a is not None and n.a not in seen:
                stack.append(n.a)
            if (n.k == _MUL or n.k == _ADD) and n.b not in seen:
                stack.append(n.b)
        self.g = 1.0
        for n in reversed(order):
            k, g = n.k, n.g
            if k == _MUL:
                n.a.g += g * n.b.d
                n.b.g += g * n.a.d
            elif k == _SCALE:
                n.a.g += g * n.b
            elif k == _ADD:
                n.a.g += g
                n.b.g += g
            elif k == _SHIFT:
                n.a.g += g
            elif k == _RELU:
                if n.d > 0:
                    n.a.g += g
            elif k == _TANH:
                n.a.g += g * (1.0 - n.d * n.d)


def w1_floor(d: dict[str, Any]) -> Runner:
    """W1 on `Node`s: the engine's forward (`w1_loss`), then the floor's backward and SGD."""
    from .workloads import w1_loss

    layers = [([[Node(float(wij)) for wij in wi] for wi in w], [Node(float(bi)) for bi in b]) for w, b in d["layers"]]
    params = [p for w, b in layers for row, bi in zip(w, b) for p in (*row, bi)]
    xs, ys, lr, alpha = d["x"].tolist(), d["y"].tolist(), d["lr"], d["alpha"]

    def step() -> float:
        total = w1_loss(layers, params, xs, ys, alpha)
        for p in params:
            p.g = 0.0
        total.backward()
        for p in params:
            p.d -= lr * p.g
        return total.d

    return step


def w4_floor(d: dict[str, Any]) -> Runner:
    """W4 on `Node`s, line for line as `w4_engine`."""
    x0, n = float(d["x"]), d["n"]

    def step() -> float:
        x = Node(x0)
        y = x
        for _ in range(n):
            y = (0.9 * y + 0.1).tanh()
        y.backward()
        return x.g

    return step
