"""Normalisation layers (PyTorch's names): BatchNorm1d, BatchNorm2d, LayerNorm, and their functional forms.

Both normalise x to zero mean and unit variance over some axes, then scale and shift it by a
learned weight and bias: batch norm over the batch (and the positions) of each channel, layer
norm over the trailing features of each sample. Each is one fused node, `Normalize`, whose rule
is written with ops that also run on Values, so second derivatives work.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from autograd import Op, Value, apply

from .activations import _value
from .checks import is_int, positive_int
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "batch_norm", "layer_norm"]


class Normalize(Op):
    """(x - mean) / sqrt(var + eps) over `axes`, then * weight + bias (each optional, broadcast as `pshape`).

    mean and the biased var are the batch's (`stats` None), or fixed (`stats` = (mean, 1/sqrt(var + eps)),
    shaped to broadcast against x: running statistics in eval). With batch statistics the gradient is
    dx = inv * (gx - mean(gx) - xhat * mean(gx * xhat)), gx = g * weight, means over `axes`;
    dweight = sum(g * xhat), dbias = sum(g) over the axes they were broadcast along.

    The forward keeps xhat and inv. On arrays the three gradients are computed together, sharing
    their products and sums, by the first rule the engine calls (`needs` says which inputs want one);
    the others take theirs. On Values (second derivatives) each rule is the formula above, with xhat
    computed again through the graph.
    """

    __slots__ = ("axes", "eps", "pshape", "wshape", "waxes", "stats", "has_w", "has_b", "needs", "_xhat", "_mean", "_var", "_inv", "_done")
    name = "normalize"
    _xhat: Any
    _mean: Any
    _var: Any
    _inv: Any
    _done: Any

    def __init__(
        self,
        axes: tuple[int, ...],
        eps: float,
        pshape: tuple[int, ...],
        wshape: tuple[int, ...],
        stats: Any = None,
        has_w: bool = True,
        has_b: bool = True,
        needs: tuple[bool, bool, bool] = (True, True, True),
    ):
        self.axes, self.eps, self.pshape, self.wshape, self.stats = axes, eps, pshape, wshape, stats
        self.waxes = tuple(i for i, n in enumerate(pshape) if n == 1)  # the axes weight and bias are broadcast along
        self.has_w, self.has_b, self.needs = has_w, has_b, needs
        rules = [Normalize._vjp_x] + [Normalize._vjp_w] * has_w + [Normalize._vjp_b] * has_b
        self.vjps = rules
        self._xhat = self._mean = self._var = self._inv = None
        self._done = None  # (g, {input: its gradient}): made by the first rule called, taken by each

    def params(self) -> dict[str, Any]:
        return {"eps": self.eps} if self.stats is None else {"eps": self.eps, "stats": "running"}

    def _split(self, xs: tuple[Any, ...]) -> tuple[Any, Any, Any]:
        """(x, weight or None, bias or None) from the inputs as passed."""
        x, rest = xs[0], list(xs[1:])
        w = rest.pop(0) if self.has_w else None
        b = rest.pop(0) if self.has_b else None
        return x, w, b

    def forward(self, *xs: Any) -> Any:
        x, w, b = self._split(xs)
        if self.stats is None:
            k = 1.0 / max(math.prod(x.shape[i] for i in self.axes), 1)
            mean = np.add.reduce(x, axis=self.axes, keepdims=True)
            mean *= k
            xhat = x - mean
            var = np.add.reduce(xhat * xhat, axis=self.axes, keepdims=True)
            var *= k
            inv = 1.0 / np.sqrt(var + self.eps)
            xhat *= inv
            self._mean, self._var = mean, var
        else:
            mean, inv = self.stats
            xhat = x - mean
            xhat *= inv
        self._xhat, self._inv = xhat, inv
        if w is None:
            return xhat if b is None else xhat + b.reshape(self.pshape)
        y = xhat * w.reshape(self.pshape)
        if b is not None:
            y += b.reshape(self.pshape)
        return y

    def _normalized(self, x: Any) -> tuple[Any, Any]:
        """(xhat, inv) through the graph, for second derivatives (x a Value)."""
        if self.stats is not None:
            mean, inv = self.stats
            return (x - mean) * inv, inv
        xc = x - x.mean(axis=self.axes, keepdims=True)
        inv = ((xc * xc).mean(axis=self.axes, keepdims=True) + self.eps) ** -0.5
        return xc * inv, inv

    def _take(self, i: int, g: np.ndarray, w: Any) -> Any:
        """Input i's gradient, from the computation the first rule called for this g shared with the others."""
        done = self._done
        if done is None or done[0] is not g:
            want = (self.needs[0], self.needs[1] and self.has_w, self.needs[2] and self.has_b)
            done = self._done = (g, self._grads(g, w, want))
        gi = done[1].pop(i, None)
        if gi is None:  # (an input that did not want a gradient when the node was made)
            gi = self._grads(g, w, (i == 0, i == 1, i == 2))[i]
        if not done[1]:
            self._done = None  # hold on to g no longer than needed
        return gi

    def _grads(self, g: np.ndarray, w: Any, want: tuple[bool, bool, bool]) -> dict[int, Any]:
        """{0: dx, 1: dweight, 2: dbias} on arrays, those in `want`, in as few passes over x as it takes."""
        xhat, axes, waxes = self._xhat, self.axes, self.waxes
        out: dict[int, Any] = {}
        if not (want[0] and self.stats is None):  # dx, if wanted, is a scale (fixed statistics)
            if want[1]:
                out[1] = self._reduce_to(g * xhat)
            if want[2]:
                out[2] = self._reduce_to(g)
            if want[0]:
                out[0] = g * (self._inv * (1.0 if w is None else w.reshape(self.pshape)))
            return out
        # batch statistics: dx needs the sums of gx and gx * xhat over `axes`, gx = g * weight
        gxh = g * xhat  # (overwritten by dx)
        if waxes == axes:  # batch norm (C > 1): those sums, but for the weight, are dbias's and dweight's
            gb, gw = np.add.reduce(g, axis=axes, keepdims=True), np.add.reduce(gxh, axis=axes, keepdims=True)
            if want[1]:
                out[1] = gw.reshape(self.wshape)
            if want[2]:
                out[2] = gb.reshape(self.wshape)
            out[0] = self._dx_from_sums(g, w, gxh, gb, gw)
        else:
            if want[1]:
                out[1] = self._reduce_to(gxh)
            if want[2]:
                out[2] = self._reduce_to(g)
            out[0] = self._dx(g, w, gxh)
        return out

    def _dx_from_sums(self, g: np.ndarray, w: Any, gxh: np.ndarray, gb: np.ndarray, gw: np.ndarray) -> np.ndarray:
        """dx = inv w (g - k sum(g) - xhat k sum(g xhat)) from gb = sum(g), gw = sum(g xhat) over `axes`
        (weight constant along them), k = 1 / their size; written into gxh (g * xhat)."""
        k = 1.0 / max(math.prod(gxh.shape[i] for i in self.axes), 1)
        t = np.multiply(self._xhat, gw * k, out=gxh)
        dx = np.subtract(g, t, out=t)
        dx -= gb * k
        dx *= self._inv * (1.0 if w is None else w.reshape(self.pshape))
        return dx

    def _dx(self, g: np.ndarray, w: Any, gxh: np.ndarray) -> np.ndarray:
        """dx = inv (gx - k sum(gx) - xhat k sum(gx xhat)), gx = g w, sums over `axes`, k = 1 / their size;
        written into gxh (g * xhat)."""
        gx = g
        if w is not None:
            wc = w.reshape(self.pshape)
            gx = g * wc
            np.multiply(gxh, wc, out=gxh)
        k = 1.0 / max(math.prod(gxh.shape[i] for i in self.axes), 1)
        s2 = np.add.reduce(gxh, axis=self.axes, keepdims=True)
        s1 = np.add.reduce(gx, axis=self.axes, keepdims=True)
        t = np.multiply(self._xhat, s2 * k, out=gxh)
        dx = np.subtract(gx, t, out=t)
        dx -= s1 * k
        dx *= self._inv
        return dx

    def _vjp_x(self, g: Any, out: Any, *xs: Any) -> Any:
        x, w, _ = self._split(xs)
        if not isinstance(x, Value) and not isinstance(g, Value):
            return self._take(0, g, w)
        xhat, inv = self._normalized(x)
        gx = g if w is None else g * w.reshape(self.pshape)
        if self.stats is not None:
            return gx * inv
        return (gx - gx.mean(axis=self.axes, keepdims=True) - xhat * (gx * xhat).mean(axis=self.axes, keepdims=True)) * inv

    def _reduce_to(self, t: Any) -> Any:
        """t summed over the axes weight and bias were broadcast along, in their shape."""
        return t.sum(axis=self.waxes).reshape(self.wshape)

    def _vjp_w(self, g: Any, out: Any, *xs: Any) -> Any:
        x, w, _ = self._split(xs)
        if not isinstance(x, Value) and not isinstance(g, Value):
            return self._take(1, g, w)
        return self._reduce_to(g * self._normalized(x)[0])

    def _vjp_b(self, g: Any, out: Any, *xs: Any) -> Any:
        x, w, _ = self._split(xs)
        if not isinstance(x, Value) and not isinstance(g, Value):
            return self._take(2, g, w)
        return self._reduce_to(g)


class _BatchNormOp(Normalize):
    __slots__ = ()
    name = "batch_norm"


class _LayerNormOp(Normalize):
    __slots__ = ()
    name = "layer_norm"


def _array_arg(a: Any, what: str, fname: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """A running statistic as the array to read and update in place (a Value's own data), shape-checked."""
    if a is None:
        return None
    arr = a.data if isinstance(a, Value) else a
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
        raise TypeError(f"{fname}: {what} must be a float numpy array (it is updated in place), got {type(a).__name__}")
    if arr.shape != shape:
        raise ValueError(f"{fname}: {what} has shape {arr.shape}, expected {shape} (one per channel)")
    return arr


def _param_arg(p: Any, what: str, fname: str, shape: tuple[int, ...]) -> Value | None:
    if p is None:
        return None
    v = _value(p)
    if v.shape != shape:
        raise ValueError(f"{fname}: {what} has shape {v.shape}, expected {shape}")
    return v


def _needs(x: Value, w: Value | None, b: Value | None) -> tuple[bool, bool, bool]:
    """Which of the op's inputs will want a gradient (None: absent)."""
    return x.requires_grad, w is not None and w.requires_grad, b is not None and b.requires_grad


def _number(x: Any, what: str, fname: str, low: float = 0.0) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x < low:
        raise ValueError(f"{fname}: {what} must be a finite number >= {low}, got {x!r}")
    return float(x)


def batch_norm(
    input: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Value:
    """Batch normalisation of input (N, C, ...) per channel C, as PyTorch's `F.batch_norm`.

    training=True: the batch's mean and biased variance over N and the positions normalise, and the
    running statistics (if given: float arrays of shape (C,)) are updated in place,
    r = (1 - momentum) r + momentum s, with the unbiased variance for running_var. training=False:
    running_mean and running_var normalise. weight and bias (C,) scale and shift; None skips them.
    """
    x = _value(input)
    fname = "batch_norm"
    if x.ndim < 2:
        raise ValueError(f"{fname}: input must have shape (N, C) or (N, C, ...), got shape {x.shape}")
    c = x.shape[1]
    rm = _array_arg(running_mean, "running_mean", fname, (c,))
    rv = _array_arg(running_var, "running_var", fname, (c,))
    w = _param_arg(weight, "weight", fname, (c,))
    b = _param_arg(bias, "bias", fname, (c,))
    eps = _number(eps, "eps", fname)
    axes = (0,) + tuple(range(2, x.ndim))
    pshape = (1, c) + (1,) * (x.ndim - 2)
    stats = None
    if training:
        if x.size // max(c, 1) <= 1:
            raise ValueError(f"{fname}: expected more than 1 value per channel when training, got input of shape {x.shape}")
        momentum = _number(momentum, "momentum", fname)
    else:
        if rm is None or rv is None:
            raise ValueError(f"{fname}: running_mean and running_var are needed when training=False (they normalise in evaluation)")
        dt = x.dtype
        stats = (rm.astype(dt).reshape(pshape), (1.0 / np.sqrt(rv.astype(dt) + eps)).reshape(pshape))
    op = _BatchNormOp(axes, eps, pshape, (c,), stats, w is not None, b is not None, _needs(x, w, b))
    y = apply(op, x, *[p for p in (w, b) if p is not None])
    if training and (rm is not None or rv is not None):
        n = x.size // c
        if rm is not None:
            rm *= 1.0 - momentum
            rm += momentum * op._mean.reshape(c)
        if rv is not None:
            rv *= 1.0 - momentum
            rv += (momentum * n / (n - 1)) * op._var.reshape(c)
    return y


def _shape_arg(normalized_shape: Any, who: str) -> tuple[int, ...]:
    """normalized_shape as a tuple of positive ints (an int n is (n,))."""
    shape = (normalized_shape,) if is_int(normalized_shape) else normalized_shape
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if not dims or not all(is_int(n) and n >= 1 for n in dims):
        raise ValueError(f"{who}: normalized_shape must be a positive int or a non-empty tuple of them, got {normalized_shape!r}")
    return tuple(int(n) for n in dims)


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Value:
    """Layer normalisation over the trailing `normalized_shape` dimensions of each sample, as PyTorch's
    `F.layer_norm`: mean and biased variance of those, then weight and bias of shape normalized_shape."""
    fname = "layer_norm"
    x = _value(input)
    shape = _shape_arg(normalized_shape, fname)
    k = len(shape)
    if x.shape[x.ndim - k :] != shape or x.ndim < k:
        raise ValueError(f"{fname}: normalized_shape={shape} expects input of shape (*, {', '.join(map(str, shape))}), got shape {x.shape}")
    w = _param_arg(weight, "weight", fname, shape)
    b = _param_arg(bias, "bias", fname, shape)
    eps = _number(eps, "eps", fname)
    axes = tuple(range(x.ndim - k, x.ndim))
    pshape = (1,) * (x.ndim - k) + shape
    op = _LayerNormOp(axes, eps, pshape, shape, None, w is not None, b is not None, _needs(x, w, b))
    return apply(op, x, *[p for p in (w, b) if p is not None])


def _reset_affine(weight: Value | None, bias: Value | None) -> None:
    """A norm layer's starting affine map: weight 1, bias 0 (each if it has one)."""
    if weight is not None:
        weight.data[...] = 1.0
    if bias is not None:
        bias.data[...] = 0.0


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input ranks they take."""

    _ndims: tuple[int, ...] = ()
    _layout = ""
    # buffers (register_buffer sets them): None when track_running_stats=False
    running_mean: np.ndarray | None
    running_var: np.ndarray | None
    num_batches_tracked: np.ndarray | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        who = type(self).__name__
        self.num_features = positive_int(num_features, "num_features", who)
        self.eps = _number(eps, "eps", who)
        self.momentum = None if momentum is None else _number(momentum, "momentum", who)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(self.num_features)) if self.affine else None
        self.bias = Parameter(np.zeros(self.num_features)) if self.affine and bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features))
            self.register_buffer("running_var", np.ones(self.num_features))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches counted."""
        if self.running_mean is not None:
            self.running_mean[...] = 0.0
        if self.running_var is not None:
            self.running_var[...] = 1.0
        if self.num_batches_tracked is not None:
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        """The running statistics reset, weight 1 and bias 0."""
        self.reset_running_stats()
        _reset_affine(self.weight, self.bias)

    def forward(self, input: Any) -> Value:
        x = _value(input)
        if x.ndim not in self._ndims:
            raise ValueError(
                f"{type(self).__name__} expects {' or '.join(f'{n}D' for n in self._ndims)} input {self._layout}, got {x.ndim}D input of shape {x.shape}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} expects {self.num_features} channels in dimension 1, got input of shape {x.shape}")
        if self.training and x.size // self.num_features <= 1:
            raise ValueError(f"{self!r}: expected more than 1 value per channel when training, got input of shape {x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked += 1
            if self.momentum is None:  # a cumulative average: every batch so far weighs the same
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats  # in training, update the running stats only if tracked
        return batch_norm(
            x, self.running_mean if keep else None, self.running_var if keep else None, self.weight, self.bias, use_batch, factor, self.eps
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel C, as PyTorch's: batch statistics in
    training (running statistics updated), running statistics in eval; state_dict keys weight, bias,
    running_mean, running_var, num_batches_tracked.

    momentum=None makes the running statistics a cumulative average of every batch; affine=False (or
    bias=False) drops weight and bias (or bias); track_running_stats=False keeps no running statistics
    (the buffers are None) and normalises with the batch's statistics in eval too.
    """

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images per channel C, as PyTorch's (see BatchNorm1d)."""

    _ndims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the trailing `normalized_shape` dimensions of each sample, as PyTorch's;
    weight (ones) and bias (zeros) of shape normalized_shape, unless elementwise_affine=False (or bias=False)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.normalized_shape = _shape_arg(normalized_shape, "LayerNorm")
        self.eps = _number(eps, "eps", "LayerNorm")
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = Parameter(np.ones(self.normalized_shape)) if self.elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape)) if self.elementwise_affine and bias else None

    def reset_parameters(self) -> None:
        """Weight 1, bias 0."""
        _reset_affine(self.weight, self.bias)

    def forward(self, input: Any) -> Value:
        x = _value(input)
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k :] != self.normalized_shape:
            raise ValueError(f"{self!r} expects input of shape (*, {', '.join(map(str, self.normalized_shape))}), got shape {x.shape}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
