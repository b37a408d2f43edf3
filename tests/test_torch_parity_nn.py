"""nn's layers, activations and losses against PyTorch's in float64: outputs, every gradient
(inputs, parameters, targets), and state_dict keys, order and numbers both ways.

Modules go through tests/torch_parity.py (`compare_module`: PyTorch's weights loaded into ours,
then one forward and backward compared; `load_both_ways`); losses through `compare`. Inputs are
hypothesis-drawn (tests/strategies.py), batched and not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import nn

from . import strategies as S
from .torch_parity import assert_close, assert_same_state, compare, compare_module, from_torch_state, load_both_ways, tensor, to_torch_state

T = torch.nn

# ---- activations: (ours, PyTorch's, value range) --------------------------------------------

ACTIVATIONS = {
    "Sigmoid": (nn.Sigmoid, T.Sigmoid, 8.0),
    "Tanh": (nn.Tanh, T.Tanh, 5.0),
    "ReLU": (nn.ReLU, T.ReLU, 3.0),
    "LeakyReLU": (nn.LeakyReLU, T.LeakyReLU, 3.0),
    "LeakyReLU_0.2": (lambda: nn.LeakyReLU(0.2), lambda: T.LeakyReLU(0.2), 3.0),
    "Softmax_dim0": (lambda: nn.Softmax(dim=0), lambda: T.Softmax(dim=0), 5.0),
    "Softmax_last": (lambda: nn.Softmax(dim=-1), lambda: T.Softmax(dim=-1), 5.0),
    "LogSoftmax_dim0": (lambda: nn.LogSoftmax(0), lambda: T.LogSoftmax(0), 5.0),
    "LogSoftmax_last": (lambda: nn.LogSoftmax(dim=-1), lambda: T.LogSoftmax(dim=-1), 5.0),
    "GELU": (nn.GELU, T.GELU, 4.0),
    "GELU_tanh": (lambda: nn.GELU(approximate="tanh"), lambda: T.GELU(approximate="tanh"), 4.0),
    "ELU": (nn.ELU, T.ELU, 3.0),
    "ELU_alpha": (lambda: nn.ELU(alpha=0.5), lambda: T.ELU(alpha=0.5), 3.0),
    "Softplus": (nn.Softplus, T.Softplus, 5.0),
    # threshold crossed: linear above beta * x > threshold, on both sides of it
    "Softplus_beta_threshold": (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: T.Softplus(beta=2.0, threshold=3.0), 3.0),
    "Identity": (nn.Identity, T.Identity, 3.0),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@settings(max_examples=10)
@given(data=st.data())
def test_activation_module_against_pytorch(name: str, data: st.DataObject) -> None:
    ours, theirs, r = ACTIVATIONS[name]
    x = data.draw(S.arrays(S.shapes(min_dims=1), -r, r), label="x")
    compare_module(ours(), theirs(), x)


# ---- layers ------------------------------------------------------------------------------------


@settings(max_examples=15)
@given(
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 4),
    bias=st.booleans(),
    lead=st.lists(st.integers(1, 3), max_size=2).map(tuple),
    data=st.data(),
)
def test_linear_against_pytorch(n_in: int, n_out: int, bias: bool, lead: tuple, data: st.DataObject) -> None:
    """One sample (in,), a batch (batch, in) and more leading axes, with and without a bias."""
    torch.manual_seed(0)
    theirs = T.Linear(n_in, n_out, bias=bias).double()
    ours = nn.Linear(n_in, n_out, bias=bias)
    load_both_ways(ours, theirs)
    compare_module(ours, theirs, data.draw(S.arrays(lead + (n_in,)), label="x"))


def test_sequential_and_nested_state_dict_against_pytorch() -> None:
    torch.manual_seed(0)
    theirs = T.Sequential(
        T.Linear(4, 6), T.ReLU(), T.Dropout(0.3), T.Sequential(T.Linear(6, 5), T.Tanh(), T.Linear(5, 3)), T.LeakyReLU(0.1), T.Identity()
    ).double()
    ours = nn.Sequential(
        nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.3), nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), nn.LeakyReLU(0.1), nn.Identity()
    )
    theirs.eval(), ours.eval()
    load_both_ways(ours, theirs)
    compare_module(ours, theirs, np.random.default_rng(1).standard_normal((7, 4)))
    assert len(ours) == len(theirs) and type(ours[3][2]).__name__ == type(theirs[3][2]).__name__
    ours.append(nn.Softmax(dim=-1)), theirs.append(T.Softmax(dim=-1))
    compare_module(ours, theirs, np.random.default_rng(2).standard_normal((7, 4)))


def test_inplace_modules_give_pytorchs_results() -> None:
    """inplace=True is accepted (ours computes out of place): the same outputs and gradients as PyTorch's in-place ones."""
    torch.manual_seed(0)
    theirs = T.Sequential(T.Linear(3, 4), T.ReLU(inplace=True), T.Linear(4, 4), T.LeakyReLU(0.2, inplace=True), T.Linear(4, 4), T.ELU(inplace=True))
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Linear(4, 4), nn.LeakyReLU(0.2, inplace=True), nn.Linear(4, 4), nn.ELU(inplace=True))
    theirs.double().append(T.Dropout(0.5, inplace=True)).eval(), ours.append(nn.Dropout(0.5, inplace=True)).eval()
    compare_module(ours, theirs, np.random.default_rng(1).standard_normal((5, 3)))
    assert [repr(m) for m in ours] == [repr(m).replace("float64", "") for m in theirs]


_TORCH_ACT = {"relu": T.ReLU, "tanh": T.Tanh, "sigmoid": T.Sigmoid, "leaky_relu": T.LeakyReLU, "gelu": T.GELU, "elu": T.ELU, None: T.Identity}


class TorchLayer(T.Linear):
    """PyTorch's equivalent of the course's nn.Layer: a Linear (weight, bias) followed by an activation."""

    def __init__(self, nin: int, nout: int, activation: str | None) -> None:
        super().__init__(nin, nout, dtype=torch.float64)
        self.act = _TORCH_ACT[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(super().forward(x))


class TorchMLP(T.Module):
    """PyTorch's equivalent of nn.MLP: its Layers in a ModuleList `layers` (keys layers.0.weight, ...)."""

    def __init__(self, nin: int, sizes: list[int], activation: str | None, output_activation: str | None) -> None:
        super().__init__()
        dims, acts = [nin, *sizes], [activation] * (len(sizes) - 1) + [output_activation]
        self.layers = T.ModuleList(TorchLayer(a, b, act) for a, b, act in zip(dims, dims[1:], acts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


@pytest.mark.parametrize("activation, output", [("relu", None), ("tanh", "sigmoid"), ("gelu", "tanh"), ("elu", None), ("leaky_relu", "relu")])
def test_mlp_and_layer_against_an_equivalent_pytorch_module(activation: str, output: str | None) -> None:
    theirs = TorchMLP(3, [5, 4, 2], activation, output)
    ours = nn.MLP(3, [5, 4, 2], activation=activation, output_activation=output, rng=0)
    load_both_ways(ours, theirs)
    compare_module(ours, theirs, np.random.default_rng(1).standard_normal((6, 3)))
    compare_module(ours.layers[0], theirs.layers[0], np.random.default_rng(2).standard_normal(3))  # one sample


def test_neuron_against_its_pytorch_equivalent() -> None:
    class TorchNeuron(T.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = T.Parameter(torch.randn(3, dtype=torch.float64))
            self.bias = T.Parameter(torch.randn((), dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(x @ self.weight + self.bias)

    ours, theirs = nn.Neuron(3, activation="sigmoid", rng=0), TorchNeuron()
    load_both_ways(ours, theirs)
    for x in (np.array([0.5, -1.0, 2.0]), np.random.default_rng(1).standard_normal((4, 3))):
        compare_module(ours, theirs, x)


def test_dropout_in_eval_is_the_identity_as_pytorch() -> None:
    ours, theirs = nn.Dropout(0.4).eval(), T.Dropout(0.4).eval()
    compare_module(ours, theirs, np.random.default_rng(0).standard_normal((5, 3)))
    compare_module(nn.Dropout(0.0), T.Dropout(0.0), np.random.default_rng(0).standard_normal((5, 3)))  # p = 0: identity in training too


@pytest.mark.parametrize("p", [0.25, 0.5, 0.9])
def test_dropout_in_training_scales_by_pytorchs_rule(p: float) -> None:
    """The masks are random on both sides, so ours's mask is read off its output and given to PyTorch's rule:
    kept elements are x / (1 - p) and pass gradient 1 / (1 - p), dropped ones are 0 with gradient 0; and
    the dropped fraction is p (PyTorch's, measured)."""
    x = np.random.default_rng(0).uniform(0.5, 2.0, (200, 50))
    drop = nn.Dropout(p, rng=1)
    kept: list[np.ndarray] = []

    def ours(v):
        out = drop(v)
        kept.append(out.data != 0)
        return out

    def theirs(t):
        return t * torch.from_numpy(kept[0].astype(np.float64)) / (1 - p)

    compare(ours, theirs, [x])
    torch.manual_seed(0)
    theirs_frac = float((F.dropout(torch.from_numpy(x), p, training=True) == 0).double().mean())
    assert abs((1 - kept[0].mean()) - p) < 0.02 and abs(theirs_frac - p) < 0.02
    t = tensor(x)
    F.dropout(t, 1.0, training=True).sum().backward()
    v = nn.Parameter(x)
    nn.Dropout(1.0)(v).sum().backward()
    assert_close(nn.Dropout(1.0)(x), F.dropout(torch.from_numpy(x), 1.0, training=True), "p = 1")
    assert_close(v.grad, t.grad, "p = 1 gradient")


def test_state_dict_order_follows_attribute_order_as_pytorch() -> None:
    class Ours(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.b = nn.Linear(2, 3)
            self.a = nn.Linear(3, 1, bias=False)

        def forward(self, x):
            return self.a(self.b(x))

    class Theirs(T.Module):
        def __init__(self) -> None:
            super().__init__()
            self.b = T.Linear(2, 3)
            self.a = T.Linear(3, 1, bias=False)

        def forward(self, x):
            return self.a(self.b(x))

    ours, theirs = Ours(), Theirs().double()
    load_both_ways(ours, theirs)
    assert list(ours.state_dict()) == ["b.weight", "b.bias", "a.weight"]
    compare_module(ours, theirs, np.ones((2, 2)))
    assert_same_state(ours, theirs)


# ---- losses ------------------------------------------------------------------------------------

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@settings(max_examples=20)
@given(shape=S.shapes(), reduction=REDUCTIONS, weighted=st.booleans(), data=st.data())
def test_mse_loss_against_pytorch(shape: tuple, reduction: str, weighted: bool, data: st.DataObject) -> None:
    p, t = data.draw(S.arrays(shape), label="pred"), data.draw(S.arrays(shape), label="target")
    w = [data.draw(S.arrays(shape, 0.0, 2.0), label="weight")] if weighted else []
    compare(
        lambda a, b, *w: nn.mse_loss(a, b, reduction=reduction, weight=w[0] if w else None),
        lambda a, b, *w: F.mse_loss(a, b, reduction=reduction, weight=w[0] if w else None),
        [p, t, *w],
    )


@st.composite
def _classification(draw: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Logits with classes on the last axis: (C,), (N, C) or (N, d, C); labels of the other axes' shape."""
    c = draw(st.integers(2, 5))
    lead = draw(st.sampled_from([(), (draw(st.integers(1, 5)),), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))]))
    z = draw(S.arrays(lead + (c,), -5.0, 5.0))
    from hypothesis.extra import numpy as hnp

    y = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, c - 1)))
    return z, y, c


def _torch_ce(z: torch.Tensor, target: torch.Tensor, **kw: Any) -> torch.Tensor:
    """PyTorch's cross_entropy on our layout: classes last (PyTorch: axis 1, or 0 for one sample)."""
    if z.ndim > 2:
        z = z.movedim(-1, 1)
        target = target.movedim(-1, 1) if target.is_floating_point() else target
    return F.cross_entropy(z, target, **kw)


@settings(max_examples=40)
@given(
    drawn=_classification(),
    reduction=REDUCTIONS,
    weighted=st.booleans(),
    smoothing=st.sampled_from([0.0, 0.0, 0.1, 0.5]),
    ignore=st.booleans(),
    data=st.data(),
)
def test_cross_entropy_with_labels_against_pytorch(drawn, reduction, weighted, smoothing, ignore, data) -> None:
    """Integer labels, with class weights, label smoothing and ignored labels (PyTorch's default -100, or a class).
    (Class weights are constants: PyTorch has no gradient for them.)"""
    z, y, c = drawn
    kw: dict[str, Any] = {"reduction": reduction, "label_smoothing": smoothing}
    w = data.draw(S.arrays((c,), 0.25, 2.0), label="weight") if weighted else None
    if ignore and y.size:
        ignore_index = data.draw(st.sampled_from([-100, 0]), label="ignore_index")
        y = y.copy()
        y.reshape(-1)[data.draw(st.integers(0, y.size - 1), label="ignored at")] = ignore_index
        kw["ignore_index"] = ignore_index
    if reduction == "mean" and y.size and np.all(y == kw.get("ignore_index", -100)):
        y.reshape(-1)[0] = 1  # (every label ignored: the mean is 0/0, nan on both sides; see test_cross_entropy_edges_as_pytorch)
    compare(
        lambda v: nn.cross_entropy(v, y, weight=w, **kw),
        lambda t: _torch_ce(t, torch.from_numpy(y), weight=None if w is None else torch.from_numpy(w), **kw),
        [z],
    )


@settings(max_examples=25)
@given(drawn=_classification(), reduction=REDUCTIONS, weighted=st.booleans(), smoothing=st.sampled_from([0.0, 0.2]), data=st.data())
def test_cross_entropy_with_probability_targets_against_pytorch(drawn, reduction, weighted, smoothing, data) -> None:
    """Class-probability targets (the logits' shape), whose gradient is compared too."""
    z, _, c = drawn
    p = data.draw(S.arrays(z.shape, 0.0, 1.0), label="target")
    w = data.draw(S.arrays((c,), 0.25, 2.0), label="weight") if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    compare(
        lambda v, t: nn.cross_entropy(v, t, weight=w, **kw),
        lambda v, t: _torch_ce(v, t, weight=None if w is None else torch.from_numpy(w), **kw),
        [z, p / np.maximum(p.sum(axis=-1, keepdims=True), 1e-3)],
    )


def test_cross_entropy_edges_as_pytorch() -> None:
    z = np.random.default_rng(0).standard_normal((3, 4))
    every = np.array([-100, -100, -100])
    with np.errstate(invalid="ignore"):  # (0/0)
        assert np.isnan(nn.cross_entropy(z, every).item())
    assert np.isnan(F.cross_entropy(torch.from_numpy(z), torch.from_numpy(every)).item())
    assert nn.cross_entropy(z, every, reduction="sum").item() == 0.0
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        nn.cross_entropy(z, np.array([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported for probability targets"):
        nn.cross_entropy(z, np.full((3, 4), 0.25), ignore_index=1)
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        nn.cross_entropy(z, np.array([0, 1, 2]), weight=np.ones(3))
    with pytest.raises(ValueError, match="label 7 at position"):
        nn.cross_entropy(z, np.array([0, 7, -100]))  # ignored labels may be out of range, others not
    with pytest.raises(ValueError, match="pass weights by keyword: weight="):
        nn.cross_entropy(z, np.array([0, 1, 2]), np.ones(4))  # PyTorch's third positional argument is weight


@settings(max_examples=20)
@given(shape=S.shapes(), reduction=REDUCTIONS, weighted=st.booleans(), data=st.data())
def test_binary_cross_entropy_against_pytorch(shape: tuple, reduction: str, weighted: bool, data: st.DataObject) -> None:
    """Probabilities and targets (both get gradients); weights (constants: PyTorch has no gradient for them) broadcast."""
    p, t = data.draw(S.arrays(shape, 0.05, 0.95), label="p"), data.draw(S.arrays(shape, 0.0, 1.0), label="t")
    w = data.draw(S.arrays(shape[-1:], 0.0, 2.0), label="weight") if weighted else None
    compare(
        lambda a, b: nn.binary_cross_entropy(a, b, reduction=reduction, weight=w),
        lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction, weight=None if w is None else torch.from_numpy(w)),
        [p, t],
    )


@settings(max_examples=25)
@given(shape=S.shapes(min_dims=1), reduction=REDUCTIONS, pos=st.sampled_from([None, "scalar", "per class"]), weighted=st.booleans(), data=st.data())
def test_binary_cross_entropy_with_logits_against_pytorch(shape, reduction, pos, weighted, data) -> None:
    """Logits and targets get gradients; pos_weight (one number, or one per class on the last axis) and weight
    are constants (PyTorch has no gradient for them)."""
    z, t = data.draw(S.arrays(shape, -6.0, 6.0), label="z"), data.draw(S.arrays(shape, 0.0, 1.0), label="t")
    w = data.draw(S.arrays(shape, 0.0, 2.0), label="weight") if weighted else None
    pw = None if pos is None else data.draw(S.arrays(() if pos == "scalar" else shape[-1:], 0.25, 3.0), label="pos_weight")

    def torch_(a):
        return None if a is None else torch.from_numpy(a)

    compare(
        lambda a, b: nn.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=pw, weight=w),
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, pos_weight=torch_(pw), weight=torch_(w)),
        [z, t],
    )


def test_sse_and_half_sse_are_pytorchs_summed_mse() -> None:
    p, t = np.random.default_rng(0).standard_normal((2, 4, 3))
    compare(lambda a, b: nn.sse(a, b), lambda a, b: F.mse_loss(a, b, reduction="sum"), [p, t])
    compare(lambda a, b: nn.half_sse(a, b), lambda a, b: F.mse_loss(a, b, reduction="sum") / 2, [p, t])


def test_one_hot_against_pytorch() -> None:
    """The same rows; ours are float64 (ready as targets), PyTorch's int64. num_classes=-1 infers max + 1 as PyTorch."""
    y = np.array([[0, 3], [2, 1]])
    for k in (-1, 4, 6):
        theirs = F.one_hot(torch.from_numpy(y), k).numpy()
        ours = nn.one_hot(y, k) if k != -1 else nn.one_hot(y)
        assert ours.dtype == np.float64 and np.array_equal(ours, theirs)


def test_weighted_losses_keep_float32() -> None:
    """Weights (float64 arrays) do not promote a float32 loss or its gradients."""
    z = nn.Parameter(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))
    y = np.array([0, -100, 3])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    p = nn.Parameter(np.full((3, 4), 0.3, dtype=np.float32))
    losses = [
        nn.cross_entropy(z, y, weight=w, label_smoothing=0.1),
        nn.cross_entropy(z, np.full((3, 4), 0.25), weight=w),
        nn.mse_loss(z, np.zeros((3, 4), np.float32), weight=np.ones((3, 4))),
        nn.binary_cross_entropy(p, np.ones((3, 4), np.float32), weight=w),
        nn.binary_cross_entropy_with_logits(z, np.ones((3, 4), np.float32), weight=w, pos_weight=w),
    ]
    for loss in losses:
        assert loss.dtype == np.float32
        loss.backward()
    assert z.grad.dtype == np.float32 and p.grad.dtype == np.float32


def test_state_dict_loading_behaves_as_pytorchs() -> None:
    """strict=False reports the same missing and unexpected keys; a tied module is saved under each name
    and its parameters listed once; a frozen parameter stays in the state; a float32 state keeps float64 weights."""
    ours, theirs = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)), T.Sequential(T.Linear(2, 3), T.ReLU(), T.Linear(3, 1)).double()
    state = from_torch_state(theirs.state_dict())
    del state["2.bias"]
    state["extra"] = np.ones(1)
    got, expected = ours.load_state_dict(state, strict=False), theirs.load_state_dict(to_torch_state(state), strict=False)
    assert (got.missing_keys, got.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)

    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a

    class TorchTied(T.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = T.Linear(2, 2, dtype=torch.float64)
            self.b = self.a

    tied, ttied = Tied(), TorchTied()
    load_both_ways(tied, ttied)
    assert [n for n, _ in tied.named_parameters()] == [n for n, _ in ttied.named_parameters()]

    frozen, tfrozen = nn.Linear(2, 2), T.Linear(2, 2, dtype=torch.float64)
    frozen.weight.requires_grad = False
    tfrozen.weight.requires_grad_(False)
    load_both_ways(frozen, tfrozen)
    ours32 = nn.Linear(2, 3)
    ours32.load_state_dict({k: v.astype(np.float32) for k, v in ours32.state_dict().items()})
    theirs32 = T.Linear(2, 3, dtype=torch.float64)
    theirs32.load_state_dict({k: v.float() for k, v in theirs32.state_dict().items()})
    assert ours32.weight.dtype == np.float64 and theirs32.weight.dtype == torch.float64


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (
            lambda z: nn.cross_entropy(z, np.array([0, -100, 3]), weight=np.array([1.0, 2.0, 0.5, 1.5]), label_smoothing=0.2),
            lambda z: F.cross_entropy(z, torch.tensor([0, -100, 3]), weight=torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=z.dtype), label_smoothing=0.2),
        ),
        (
            lambda z: nn.cross_entropy(z, np.full((3, 4), 0.25), label_smoothing=0.1, reduction="sum"),
            lambda z: F.cross_entropy(z, torch.full((3, 4), 0.25, dtype=z.dtype), label_smoothing=0.1, reduction="sum"),
        ),
        (
            lambda z: nn.binary_cross_entropy_with_logits(z, np.full((3, 4), 0.7), pos_weight=np.array([1.0, 2.0, 0.5, 3.0])),
            lambda z: F.binary_cross_entropy_with_logits(z, torch.full((3, 4), 0.7, dtype=z.dtype), pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=z.dtype)),
        ),
    ],
    ids=["cross_entropy_weight_ignore_smoothing", "cross_entropy_soft_smoothing", "bce_with_logits_pos_weight"],
)
def test_loss_second_derivative_against_pytorch(ours: Any, theirs: Any) -> None:
    """A Hessian-vector product of each composite loss path: backward(create_graph=True) against torch.autograd.grad."""
    rng = np.random.default_rng(0)
    z0, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    z = nn.Parameter(z0)
    ours(z).backward(create_graph=True)
    g = z.grad
    z.zero_grad()
    (g * w).sum().backward()
    t = tensor(z0)
    (tg,) = torch.autograd.grad(theirs(t), t, create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.from_numpy(w)).sum(), t)
    assert_close(g, tg, "gradient")
    assert_close(z.grad, th, "Hessian-vector product")
