"""BatchNorm1d, BatchNorm2d, LayerNorm and F.batch_norm, F.layer_norm: against PyTorch (float64) for every
option, over several training steps and in eval; gradients against finite differences, second order
too; float32; the errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import nn.functional as F
from autograd import Value, gradcheck, gradgradcheck

from .strategies import norm_args
from .torch_parity import assert_close, assert_same_state, compare, from_torch_state, load_both_ways

RUNNING = dict(rtol=1e-12, atol=1e-14)  # running statistics: the same sums, added in another order


def _steps(ours: nn.Module, theirs: torch.nn.Module, shape: tuple[int, ...], steps: int = 3, seed: int = 0) -> None:
    """A few training steps (each batch shifted and scaled differently), then eval: the output and every
    gradient each time, and the state (running statistics, the batch count) after each step."""
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    tparams = dict(theirs.named_parameters())
    params = [(n, p, tparams[n]) for n, p in ours.named_parameters()]
    assert sorted(n for n, _, _ in params) == sorted(tparams)
    rng = np.random.default_rng(seed)
    for i in range(steps + 2):
        if i == steps:
            ours.eval(), theirs.eval()
        x = rng.standard_normal(shape) * (1 + i) + i
        ours.zero_grad(), theirs.zero_grad()
        compare(ours, theirs, [x], params, seed=i, rtol=1e-9, atol=1e-11)
        assert_same_state(ours, theirs, **RUNNING)


BN_OPTIONS = [
    {},
    {"momentum": None},
    {"momentum": 0.3, "eps": 1e-3},
    {"affine": False},
    {"bias": False},
    {"track_running_stats": False},
    {"affine": False, "track_running_stats": False, "momentum": None},
]


@pytest.mark.parametrize("options", BN_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
@pytest.mark.parametrize(
    "layer, shape",
    [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (3, 2, 4, 5))],
    ids=["1d-NC", "1d-NCL", "2d"],
)
def test_batch_norm_matches_pytorch_over_training_steps_and_eval(layer, shape, options):
    ours = getattr(nn, layer)(shape[1], **options)
    theirs = getattr(torch.nn, layer)(shape[1], **options).double()
    assert repr(ours) == repr(theirs)
    if ours.affine:  # not the initial 1 and 0, so a swapped weight and bias would show
        theirs.weight.data.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(0))
        if theirs.bias is not None:
            theirs.bias.data.uniform_(-1, 1, generator=torch.Generator().manual_seed(1))
    load_both_ways(ours, theirs)
    _steps(ours, theirs, shape)


def test_batch_norm_state_dict_keys_order_and_dtypes_are_pytorchs():
    bn = nn.BatchNorm2d(4)
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sd["num_batches_tracked"].dtype == np.int64 and sd["num_batches_tracked"].shape == ()
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert all(isinstance(p, Value) for p in bn.parameters()) and len(bn.parameters()) == 2
    off = nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert off.state_dict() == {} and off.running_mean is None and off.num_batches_tracked is None


def test_batch_norm_in_a_model_matches_pytorch_and_its_state_moves_both_ways():
    nn.manual_seed(0)
    ours = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3), nn.LayerNorm(3))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.LayerNorm(3)
    ).double()
    load_both_ways(ours, theirs)
    _steps(ours, theirs, (7, 5))
    assert int(ours[1].num_batches_tracked) == 3


def test_batch_norm_running_statistics_by_hand():
    """momentum 0.1: r = 0.9 r + 0.1 s, the unbiased variance for running_var; momentum None: the plain average."""
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((5, 2)) * 2 + 1 for _ in range(3)]
    ema, cum = nn.BatchNorm1d(2), nn.BatchNorm1d(2, momentum=None)
    mean, var = np.zeros(2), np.ones(2)
    for x in xs:
        ema(x), cum(x)
        mean, var = 0.9 * mean + 0.1 * x.mean(0), 0.9 * var + 0.1 * x.var(0, ddof=1)
    np.testing.assert_allclose(ema.running_mean, mean, rtol=1e-13)
    np.testing.assert_allclose(ema.running_var, var, rtol=1e-13)
    np.testing.assert_allclose(cum.running_mean, np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-13)
    np.testing.assert_allclose(cum.running_var, np.mean([x.var(0, ddof=1) for x in xs], axis=0), rtol=1e-13)
    assert int(cum.num_batches_tracked) == 3
    cum.eval()
    before = cum.running_mean.copy()
    y = cum(xs[0])  # eval: the running statistics normalise, and stay as they are
    np.testing.assert_allclose(y.data, (xs[0] - cum.running_mean) / np.sqrt(cum.running_var + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(cum.running_mean, before)
    cum.reset_running_stats()
    assert (cum.running_mean == 0).all() and (cum.running_var == 1).all() and int(cum.num_batches_tracked) == 0


def test_batch_norm_updates_running_statistics_in_place_and_under_no_grad():
    from autograd import no_grad

    bn = nn.BatchNorm1d(3)
    held = bn.running_mean
    with no_grad():
        bn(np.arange(12.0).reshape(4, 3))
    assert bn.running_mean is held and held.any()  # whoever holds the array sees the update, as in PyTorch


@pytest.mark.parametrize(
    "shape, normalized_shape, options",
    [
        ((5, 4), 4, {}),
        ((2, 3, 4), (4,), {"eps": 1e-3}),
        ((2, 3, 4), (3, 4), {}),
        ((3, 4), [4], {"elementwise_affine": False}),
        ((2, 2, 3), (2, 3), {"bias": False}),
        ((4,), 4, {}),
    ],
)
def test_layer_norm_matches_pytorch(shape, normalized_shape, options):
    ours, theirs = nn.LayerNorm(normalized_shape, **options), torch.nn.LayerNorm(normalized_shape, **options).double()
    assert repr(ours) == repr(theirs)
    if theirs.weight is not None:
        theirs.weight.data.uniform_(0.5, 1.5, generator=torch.Generator().manual_seed(0))
    if theirs.bias is not None:
        theirs.bias.data.uniform_(-1, 1, generator=torch.Generator().manual_seed(1))
    load_both_ways(ours, theirs)
    _steps(ours, theirs, shape, steps=1)


def test_functional_forms_match_pytorch():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3, 2)), rng.random(3) + 0.5, rng.standard_normal(3)
    for training in (True, False):
        rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
        trm, trv = torch.tensor(rm), torch.tensor(rv)
        compare(
            lambda x_, w_, b_, s=(rm, rv, training): F.batch_norm(x_, s[0], s[1], w_, b_, s[2], 0.2, 1e-3),
            lambda x_, w_, b_, s=(trm, trv, training): torch.nn.functional.batch_norm(x_, s[0], s[1], w_, b_, s[2], 0.2, 1e-3),
            [x, w, b],
        )
        assert_close(rm, trm, "running_mean", **RUNNING)
        assert_close(rv, trv, "running_var", **RUNNING)
    # training without running statistics; bias without weight
    compare(
        lambda x_, b_: F.batch_norm(x_, None, None, None, b_, True),
        lambda x_, b_: torch.nn.functional.batch_norm(x_, None, None, None, b_, True),
        [x, b],
    )
    lw, lb = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    compare(
        lambda *a: F.layer_norm(a[0], (3, 2), a[1], a[2], 1e-4),
        lambda *a: torch.nn.functional.layer_norm(a[0], (3, 2), a[1], a[2], 1e-4),
        [x, lw, lb],
    )
    compare(lambda x_: F.layer_norm(x_, [2]), lambda x_: torch.nn.functional.layer_norm(x_, [2]), [x])


# ---- gradients against finite differences ----------------------------------------------------------


@settings(max_examples=25)
@given(norm_args("batch"))
def test_batch_norm_gradients_and_second_derivatives(drawn):
    (x, w, b), kw = drawn
    training = kw.pop("training")
    rm, rv = np.linspace(-1, 1, x.shape[1]), np.linspace(0.5, 2, x.shape[1])

    def f(x_, w_, b_):  # (copies: the running statistics must not drift between the finite differences)
        return F.batch_norm(x_, rm.copy(), rv.copy(), w_, b_, training=training, **kw)

    assert gradcheck(f, x, w, b)
    assert gradgradcheck(f, x, w, b)


@settings(max_examples=25)
@given(norm_args("layer"))
def test_layer_norm_gradients_and_second_derivatives(drawn):
    (x, w, b), kw = drawn

    def f(x_, w_, b_):
        return F.layer_norm(x_, kw["normalized_shape"], w_, b_, kw["eps"])

    assert gradcheck(f, x, w, b)
    assert gradgradcheck(f, x, w, b)


@pytest.mark.parametrize("frozen", ["x", "weight", "bias", "x and weight"])
def test_gradients_when_some_inputs_need_none(frozen):
    """The three gradients are computed together by whichever rule runs first: each must be right alone."""
    rng = np.random.default_rng(0)
    xa, wa, ba = rng.standard_normal((5, 3)), rng.random(3) + 0.5, rng.standard_normal(3)
    full = [Value(a) for a in (xa, wa, ba)]
    F.batch_norm(full[0], None, None, full[1], full[2], True).backward(np.cos(np.arange(15.0)).reshape(5, 3))
    part = [Value(a, requires_grad=name not in frozen) for name, a in (("x", xa), ("weight", wa), ("bias", ba))]
    F.batch_norm(part[0], None, None, part[1], part[2], True).backward(np.cos(np.arange(15.0)).reshape(5, 3))
    for p, q in zip(part, full):
        if p.requires_grad:
            np.testing.assert_allclose(p.grad, q.grad, rtol=1e-14, atol=1e-15)
        else:
            assert p.grad is None


def test_float32_in_float32_out():
    rng = np.random.default_rng(0)
    for layer, shape in ((nn.BatchNorm1d(3), (4, 3)), (nn.BatchNorm2d(3), (2, 3, 2, 2)), (nn.LayerNorm(3), (4, 3))):
        for p in layer.parameters():
            p.data = p.data.astype(np.float32)
        for mode in (True, False):
            layer.train(mode)
            x = Value(rng.standard_normal(shape).astype(np.float32))
            y = layer(x)
            (y * y).sum().backward()
            assert y.dtype == np.float32 and x.grad.dtype == np.float32
            assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    # float32 input with the default float64 parameters promotes, as Linear does
    assert nn.BatchNorm1d(2)(np.ones((3, 2), dtype=np.float32)).dtype == np.float64


def test_the_graph_is_freed_without_the_cycle_collector():
    bn = nn.BatchNorm1d(3)
    gc.disable()
    try:
        x = Value(np.random.default_rng(0).standard_normal((4, 3)))
        y = bn(x)
        y.sum().backward()
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()


# ---- errors ------------------------------------------------------------------------------------------


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3, .*\) expects 3 channels in dimension 1, got input of shape \(4, 5\)"):
        nn.BatchNorm1d(3)(np.ones((4, 5)))
    with pytest.raises(
        ValueError, match=r"BatchNorm1d expects 2D or 3D input \(N, C\) or \(N, C, L\), got 4D input of shape \(1, 3, 2, 2\)"
    ):
        nn.BatchNorm1d(3)(np.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"BatchNorm2d expects 4D input \(N, C, H, W\), got 3D input of shape \(3, 2, 2\)"):
        nn.BatchNorm2d(3)(np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel when training, got input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(np.ones((1, 3)))
    assert nn.BatchNorm1d(3).eval()(np.ones((1, 3))).shape == (1, 3)  # one sample is fine in eval
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\), .*\) expects input of shape \(\*, 4\), got shape \(2, 3\)"):
        nn.LayerNorm(4)(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape=\(2, 3\) expects input of shape \(\*, 2, 3\), got shape \(3,\)"):
        F.layer_norm(np.ones(3), (2, 3))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: nn.BatchNorm1d(0), ValueError, "num_features must be a positive int"),
        (lambda: nn.BatchNorm2d(2.5), ValueError, "num_features must be a positive int"),
        (lambda: nn.BatchNorm1d(2, eps=-1), ValueError, "eps must be a finite number"),
        (lambda: nn.BatchNorm1d(2, momentum="x"), ValueError, "momentum must be a finite number"),
        (lambda: nn.LayerNorm(()), ValueError, "normalized_shape must be a positive int or a non-empty tuple"),
        (lambda: nn.LayerNorm((2, 0)), ValueError, "normalized_shape must be"),
        (lambda: F.batch_norm(np.ones(3), None, None, training=True), ValueError, r"input must have shape \(N, C\)"),
        (lambda: F.batch_norm(np.ones((2, 3)), None, None), ValueError, "running_mean and running_var are needed when training=False"),
        (lambda: F.batch_norm(np.ones((2, 3)), np.zeros(2), np.ones(3)), ValueError, r"running_mean has shape \(2,\), expected \(3,\)"),
        (lambda: F.batch_norm(np.ones((2, 3)), [0.0] * 3, np.ones(3)), TypeError, "running_mean must be a float numpy array"),
        (
            lambda: F.batch_norm(np.ones((2, 3)), None, None, np.ones(2), training=True),
            ValueError,
            r"weight has shape \(2,\), expected \(3,\)",
        ),
        (lambda: F.layer_norm(np.ones((2, 3)), 3, bias=np.ones(2)), ValueError, r"bias has shape \(2,\), expected \(3,\)"),
    ],
)
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_failed_call_changes_no_running_statistic():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError):
        bn(np.ones((1, 3)))
    assert int(bn.num_batches_tracked) == 0 and (bn.running_mean == 0).all()


@given(st.integers(2, 5))
@settings(max_examples=5)
def test_batch_norm_normalises_each_channel(n):
    x = np.arange(n * 6.0).reshape(n, 2, 3) ** 1.5
    y = nn.BatchNorm1d(2)(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1, rtol=1e-3)


def test_reset_parameters_restores_the_start():
    bn, ln = nn.BatchNorm1d(2), nn.LayerNorm(2, bias=False)
    bn.weight.data[...] = 3.0
    bn(np.arange(6.0).reshape(3, 2))
    ln.weight.data[...] = 2.0
    bn.reset_parameters(), ln.reset_parameters()
    assert (bn.weight.data == 1).all() and (bn.bias.data == 0).all() and (bn.running_mean == 0).all() and int(bn.num_batches_tracked) == 0
    assert (ln.weight.data == 1).all() and ln.bias is None
