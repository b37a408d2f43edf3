"""Optimizers with PyTorch's update rules, step for step, and learning-rate schedules.

Each `step()` reads `p.grad` of every parameter (skipping those without one) and updates
`p.data` in place. The state (momentum buffers, moment estimates) is plain numpy arrays,
so an optimizer never keeps a graph alive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Value

from .checks import positive_int
from .module import _is_param

__all__ = ["Optimizer", "SGD", "GD", "Adam", "AdamW", "RMSprop", "LRScheduler", "StepLR", "CosineAnnealingLR"]

_ndarray = np.ndarray


def _nonneg(x: Any, what: str, who: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not x >= 0 or not math.isfinite(x):
        raise ValueError(f"{who}: {what} must be a finite number >= 0, got {x!r}")
    return float(x)


class Optimizer:
    """Holds the parameters and the learning rate `lr` (which schedules change); subclasses define `step()`.

    `maximize` (PyTorch's) makes `step()` climb the objective instead of descending it.
    """

    maximize = False

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        who = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{who}: params must be an iterable of Values (e.g. model.parameters()), got a single Value; wrap it in a list")
        self.params: list[Value] = list(params)
        if not self.params:
            raise ValueError(f"{who} got an empty parameter list; pass model.parameters() of a model that has parameters")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Value")
            if not p.is_leaf:
                raise ValueError(f"{who}: parameter {i} was computed by {p.op!r}; only leaf Values (parameters) can be optimized")
            if not _is_param(p):  # a constant; a frozen parameter (requires_grad set False later) is fine, and skipped
                raise ValueError(f"{who}: parameter {i} ({p.label or 'unlabelled'}) has requires_grad=False, so it can never get a gradient")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{who}: a parameter appears more than once in the list")
        self.lr = _nonneg(lr, "lr (the learning rate)", who)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None), before the next backward()."""
        for p in self.params:
            p.grad = None  # p.zero_grad(), without a call per parameter

    def step(self) -> None:
        raise NotImplementedError

    def _grads(self, only: list[Value] | None = None) -> Iterable[tuple[Value, np.ndarray, dict[str, Any]]]:
        """(parameter, its gradient as an array, its state) for parameters that have a gradient (of `only`, if given)."""
        keep = None if only is None else {id(p) for p in only}
        for p, st in zip(self.params, self.state):
            if keep is not None and id(p) not in keep:
                continue
            g = p.grad
            if g is None:
                continue
            if type(g) is not np.ndarray:
                g = np.asarray(g.data if isinstance(g, Value) else g)
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}: gradient of shape {g.shape} for a parameter of shape {p.shape}")
            yield p, (-g if self.maximize else g), st

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in vars(self).items() if k not in ("params", "state"))
        return f"{type(self).__name__}({len(self.params)} parameters, {hp})"


def _update(p: Value, delta: np.ndarray) -> None:
    """p.data -= delta, in place."""
    d = p.data
    if d.flags.writeable:
        d -= delta.astype(d.dtype, copy=False)
    else:
        p.data = d - delta


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule:

    g = grad (-grad with maximize) + weight_decay * p;  b = g (first step) or momentum * b + (1 - dampening) * g;
    g = g + momentum * b (nesterov) or b (momentum);  p -= lr * g.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.maximize = bool(maximize)
        who = type(self).__name__
        self.momentum = _nonneg(momentum, "momentum", who)
        self.dampening = _nonneg(dampening, "dampening", who)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", who)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"{who}: nesterov=True needs momentum > 0 and dampening == 0")

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        only: list[Value] | None = None  # the parameters the general rule below updates (None: all)
        if not (self.momentum or self.weight_decay or self.maximize):
            lr = self.lr
            rest: list[Value] = []
            only = rest
            for p in self.params:
                # NOTE: plain SGD on an array gradient of the parameter's shape and dtype (the common
                # case) is p -= lr * g in place, without _grads' conversions (a few us a parameter).
                g, d = p.grad, p.data  # (.grad is in the data's float type)
                if type(g) is _ndarray and g.shape == d.shape:
                    try:
                        d -= lr * g
                        continue
                    except ValueError:  # read-only data: numpy refuses before writing; _update replaces it
                        pass
                if g is not None:
                    rest.append(p)
            if not rest:
                return
        for p, g, st in self._grads(only):
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = g.copy()
                else:
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            _update(p, self.lr * g)


class GD(SGD):
    """The course's gradient descent, w <- w - lr * dJ/dw: SGD by another name (momentum etc. available too)."""


class Adam(Optimizer):
    """Adam, PyTorch's rule: m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g**2;
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps).

    weight_decay adds weight_decay * p to g, or with decoupled_weight_decay (AdamW) multiplies p by
    1 - lr * weight_decay first; amsgrad uses the largest v so far; maximize climbs (g = -grad).
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, lr)
        who = type(self).__name__
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{who}: betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = _nonneg(eps, "eps", who)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", who)
        self.amsgrad = bool(amsgrad)
        self.maximize = bool(maximize)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        b1, b2 = self.betas
        for p, g, st in self._grads():
            if self.weight_decay:
                if self.decoupled_weight_decay:
                    p.data *= 1 - self.lr * self.weight_decay
                else:
                    g = g + self.weight_decay * p.data
            if not st:
                st["step"], st["exp_avg"], st["exp_avg_sq"] = 0, np.zeros_like(g), np.zeros_like(g)
            if self.amsgrad and "max_exp_avg_sq" not in st:
                st["max_exp_avg_sq"] = np.zeros_like(g)
            st["step"] += 1
            t, m, v = st["step"], st["exp_avg"], st["exp_avg_sq"]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            if self.amsgrad:
                v = np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
            denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
            _update(p, (self.lr / (1 - b1**t)) * m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's AdamW): p *= 1 - lr * weight_decay before the Adam step."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop, PyTorch's rule: s = alpha s + (1-alpha) g**2;  p -= lr g / (sqrt(s) + eps)
    (centered: s - mean(g)**2 under the root; momentum: b = momentum b + g / (...), p -= lr b;
    maximize: g = -grad)."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr)
        who = type(self).__name__
        self.maximize = bool(maximize)
        self.alpha = _nonneg(alpha, "alpha", who)
        if self.alpha > 1:
            raise ValueError(f"{who}: alpha must be in [0, 1], got {alpha}")
        self.eps = _nonneg(eps, "eps", who)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", who)
        self.momentum = _nonneg(momentum, "momentum", who)
        self.centered = bool(centered)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        a = self.alpha
        for p, g, st in self._grads():
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if not st:
                st["step"], st["square_avg"] = 0, np.zeros_like(g)
                if self.centered:
                    st["grad_avg"] = np.zeros_like(g)
                if self.momentum:
                    st["momentum_buffer"] = np.zeros_like(g)
            st["step"] += 1
            s = st["square_avg"]
            s *= a
            s += (1 - a) * g * g
            if self.centered:
                ga = st["grad_avg"]
                ga *= a
                ga += (1 - a) * g
                avg = np.sqrt(s - ga * ga) + self.eps
            else:
                avg = np.sqrt(s) + self.eps
            if self.momentum:
                buf = st["momentum_buffer"]
                buf *= self.momentum
                buf += g / avg
                _update(p, self.lr * buf)
            else:
                _update(p, self.lr * g / avg)


class LRScheduler:
    """Changes `optimizer.lr` once per `step()` (call it once per epoch, after the optimizer's steps)."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def get_lr(self) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.get_lr()

    def get_last_lr(self) -> float:
        """The learning rate set by the last step (the initial one before any)."""
        return self.optimizer.lr


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by `gamma` every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = positive_int(step_size, "step_size", "StepLR"), _nonneg(gamma, "gamma", "StepLR")

    def get_lr(self) -> float:
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: from base_lr down to eta_min at T_max."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max, self.eta_min = positive_int(T_max, "T_max", "CosineAnnealingLR"), _nonneg(eta_min, "eta_min", "CosineAnnealingLR")

    def get_lr(self) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
