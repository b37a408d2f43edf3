"""Optimizers against PyTorch's update formulas written out in numpy, for several steps; schedules; errors."""

import math

import numpy as np
import pytest

import nn
from autograd import Value

STEPS = 6


def run(make_opt, p0, grads):
    """Apply the optimizer with the given gradient sequence; returns the parameter after each step."""
    p = nn.Parameter(p0.copy())
    opt = make_opt([p])
    out = []
    for g in grads:
        opt.zero_grad()
        assert p.grad is None
        p.grad = g.copy()
        opt.step()
        out.append(p.data.copy())
    return out


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 2)), [rng.normal(size=(3, 2)) for _ in range(STEPS)]


def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = p.copy(), None, []
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "dampening": 0.3},
        {"momentum": 0.8, "nesterov": True},
        {"weight_decay": 0.1},
        {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
    ],
)
def test_sgd_matches_pytorch_formula(problem, kw):
    p0, grads = problem
    got = run(lambda ps: nn.optim.SGD(ps, lr=0.1, **kw), p0, grads)
    for a, b in zip(got, ref_sgd(p0, grads, 0.1, **kw)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_gd_is_plain_gradient_descent(problem):
    p0, grads = problem
    got = run(lambda ps: nn.optim.GD(ps, lr=0.5), p0, grads)
    np.testing.assert_allclose(got[-1], p0 - 0.5 * sum(grads), rtol=1e-13)


def ref_adam(p, grads, lr, b1, b2, eps, wd, decoupled=False):
    p, m, v, out = p.copy(), 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)  # PyTorch's eps placement: outside the bias-corrected root
        out.append(p)
    return out


@pytest.mark.parametrize("wd", [0.0, 0.1])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_matches_formula_with_bias_correction(problem, wd, betas):
    p0, grads = problem
    got = run(lambda ps: nn.optim.Adam(ps, lr=0.01, betas=betas, eps=1e-8, weight_decay=wd), p0, grads)
    for a, b in zip(got, ref_adam(p0, grads, 0.01, *betas, 1e-8, wd)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # the first step moves every coordinate by about lr (bias correction undoes the zero start)
    if wd == 0:
        np.testing.assert_allclose(np.abs(got[0] - p0), 0.01, rtol=1e-3)


def test_adamw_decouples_weight_decay(problem):
    p0, grads = problem
    got = run(lambda ps: nn.optim.AdamW(ps, lr=0.01, weight_decay=0.2), p0, grads)
    for a, b in zip(got, ref_adam(p0, grads, 0.01, 0.9, 0.999, 1e-8, 0.2, decoupled=True)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def ref_rmsprop(p, grads, lr, alpha, eps, weight_decay, momentum, centered):
    p, s, ga, buf, out = p.copy(), 0.0, 0.0, 0.0, []
    for g in grads:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(s - ga * ga) + eps
        else:
            avg = np.sqrt(s) + eps
        if momentum:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
        out.append(p)
    return out


@pytest.mark.parametrize("kw", [{}, {"momentum": 0.9}, {"centered": True}, {"weight_decay": 0.1, "momentum": 0.5, "centered": True}])
def test_rmsprop_matches_formula(problem, kw):
    p0, grads = problem
    full = {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False, **kw}
    got = run(lambda ps: nn.optim.RMSprop(ps, lr=0.01, **full), p0, grads)
    for a, b in zip(got, ref_rmsprop(p0, grads, 0.01, **full)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_step_uses_backward_gradients_and_skips_params_without_grad():
    w, unused = nn.Parameter(np.array([1.0, -2.0])), nn.Parameter(np.array([5.0]))
    opt = nn.optim.SGD([w, unused], lr=0.1)
    loss = (w * w).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
    np.testing.assert_allclose(w.data, [1.0 - 0.1 * 2, -2.0 + 0.1 * 4])
    np.testing.assert_array_equal(unused.data, [5.0])


def test_update_is_in_place_and_keeps_float32():
    w = nn.Parameter(np.ones(3, dtype=np.float32))
    arr = w.data
    opt = nn.optim.Adam([w], lr=0.1)
    w.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert w.data is arr and w.dtype == np.float32


def test_training_with_each_optimizer_reduces_the_loss():
    X = np.random.default_rng(0).normal(size=(32, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    for make in (
        lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: nn.optim.Adam(ps, lr=0.05),
        lambda ps: nn.optim.RMSprop(ps, lr=0.01),
    ):
        model = nn.Linear(3, 1, rng=0)
        opt = make(model.parameters())
        first = None
        for _ in range(50):
            loss = nn.mse_loss(model(X), y)
            first = loss.item() if first is None else first
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.item() < 0.1 * first


@pytest.mark.parametrize(
    "make, err, match",
    [
        (lambda: nn.optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: nn.optim.Adam(iter(()), lr=0.1), ValueError, "empty parameter list"),
        (lambda: nn.optim.SGD([nn.Parameter(1.0)], lr=-0.1), ValueError, r"lr \(the learning rate\) must be a finite number >= 0, got -0.1"),
        (lambda: nn.optim.SGD([nn.Parameter(1.0)], lr=float("nan")), ValueError, "lr"),
        (lambda: nn.optim.Adam([nn.Parameter(1.0)], lr="0.1"), ValueError, "lr"),
        (lambda: nn.optim.SGD(nn.Parameter(1.0), lr=0.1), TypeError, "got a single Value"),
        (lambda: nn.optim.SGD([np.ones(2)], lr=0.1), TypeError, "parameter 0 is a ndarray"),
        (lambda: nn.optim.SGD([Value(1.0, requires_grad=False)], lr=0.1), ValueError, "requires_grad=False"),
        (lambda: nn.optim.SGD([nn.Parameter(1.0) * 2], lr=0.1), ValueError, "only leaf Values"),
        (lambda: nn.optim.SGD([nn.Parameter(1.0)] * 2, lr=0.1), ValueError, "more than once"),
        (lambda: nn.optim.SGD([nn.Parameter(1.0)], lr=0.1, momentum=-1), ValueError, "momentum"),
        (lambda: nn.optim.SGD([nn.Parameter(1.0)], lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
        (lambda: nn.optim.Adam([nn.Parameter(1.0)], betas=(0.9, 1.0)), ValueError, "betas"),
        (lambda: nn.optim.RMSprop([nn.Parameter(1.0)], alpha=2.0), ValueError, "alpha"),
    ],
)
def test_optimizer_argument_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_step_lr_and_cosine_annealing_follow_pytorch():
    opt = nn.optim.SGD([nn.Parameter(1.0)], lr=0.1)
    sched = nn.optim.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        lrs.append(opt.lr)
        sched.step()
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    opt = nn.optim.Adam([nn.Parameter(1.0)], lr=1.0)
    cos = nn.optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    lrs = [opt.lr]
    for _ in range(4):
        cos.step()
        lrs.append(cos.get_last_lr())
    np.testing.assert_allclose(lrs, [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)])
    assert lrs[-1] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="step_size"):
        nn.optim.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max"):
        nn.optim.CosineAnnealingLR(opt, 0)
    with pytest.raises(TypeError, match="needs an Optimizer"):
        nn.optim.StepLR("opt", 2)


@pytest.mark.parametrize("opt_class", [nn.optim.SGD, nn.optim.Adam])
def test_a_read_only_parameter_array_is_replaced_not_written(opt_class):
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    p = nn.Parameter(np.zeros(3))
    p.data = frozen
    opt = opt_class([p], lr=0.1)
    (p * np.array([1.0, 2.0, 3.0])).sum().backward()
    opt.step()
    assert np.all(frozen == 0)  # the read-only array is untouched
    assert np.all(p.data < 0) and p.data.flags.writeable
