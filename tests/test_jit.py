"""autograd.jit: a replay gives eager's numbers (losses and every gradient, to 1e-12 relative) over
training steps; new arguments are used; what cannot be replayed is refused at trace time.

Speed is measured by `python -m benchmarks` (W1, W2 and W5 under jit), never here.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value, jit, jit_codegen, where
from autograd import ops as O
from autograd import value as _value
from autograd.jit import TraceError
from benchmarks import workloads as W

TOL = 1e-12


def _close(a, b, what=""):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
    assert rel.max(initial=0.0) <= TOL, f"{what}: relative difference {rel.max():.2e}"


def _grads(params):
    return [None if p.grad is None else np.array(p.grad) for p in params]


# ---- replay equals eager over training steps ----------------------------------------------------


def _w1_values(d):
    layers = [([[Value(wij) for wij in wi] for wi in w], [Value(bi) for bi in b]) for w, b in d["layers"]]
    params = [p for w, b in layers for row, bi in zip(w, b) for p in (*row, bi)]
    return layers, params


@pytest.mark.parametrize("size", [{"points": 12, "hidden": (4, 3)}, {"points": 30, "hidden": (8, 8)}])
def test_scalar_mlp_replay_equals_eager_over_sgd_steps(size):
    """W1's shape (micrograd's demo, a Value per weight): loss and all gradients as eager, step after step."""
    d = W.w1_data(size)
    xs, ys = d["x"].tolist(), d["y"].tolist()
    (L1, P1), (L2, P2) = _w1_values(d), _w1_values(d)
    step = jit(lambda: W.w1_loss(L2, P2, xs, ys, d["alpha"]))
    losses = []
    for _ in range(5):
        e = W.w1_loss(L1, P1, xs, ys, d["alpha"])
        for p in P1:
            p.zero_grad()
        e.backward()
        j = step()
        for p in P2:
            p.zero_grad()
        j.backward()
        _close(j.data, e.data, "loss")
        for k, (ge, gj) in enumerate(zip(_grads(P1), _grads(P2))):
            _close(gj, ge, f"gradient of parameter {k}")
            assert type(P2[k]._grad) is type(P1[k]._grad)  # a Python float, as eager stores it
        losses.append(float(e.data))
        for p, q in zip(P1, P2):
            p.data -= d["lr"] * p.grad
            q.data -= d["lr"] * q.grad
    assert losses[-1] < losses[0]
    assert step.n_traced == 1
    program = next(iter(step._traces.values())).program
    nodes = sum(it.kind == "node" for it in program.items)
    assert len(program.units) < nodes / 20, "scalar nodes are batched into far fewer numpy operations"


def _mlp(seed=0, dtype=np.float64):
    nn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 4))
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    return model, nn.optim.Adam(model.parameters(), lr=0.01)


def test_sequential_cross_entropy_adam_replay_equals_eager():
    (m1, o1), (m2, o2) = _mlp(), _mlp()
    step = jit(lambda x, y: nn.cross_entropy(m2(x), y))
    rng = np.random.default_rng(0)
    for i in range(6):
        x, y = rng.standard_normal((7, 6)), rng.integers(0, 4, size=7)
        e = nn.cross_entropy(m1(x), y)
        o1.zero_grad()
        e.backward()
        j = step(x, y)
        o2.zero_grad()
        j.backward()
        _close(j.data, e.data, f"loss at step {i}")
        for k, (ge, gj) in enumerate(zip(_grads(m1.parameters()), _grads(m2.parameters()))):
            _close(gj, ge, f"gradient {k} at step {i}")
        o1.step()
        o2.step()
    for p, q in zip(m1.parameters(), m2.parameters()):
        _close(q.data, p.data, "the trained weights")
    assert step.n_traced == 1


def test_a_new_batch_size_traces_again_and_old_traces_are_kept():
    (m1, _), (m2, _) = _mlp(), _mlp()
    step = jit(lambda x, y: nn.cross_entropy(m2(x), y))
    rng = np.random.default_rng(1)
    for n in (5, 3, 5, 3, 1):
        x, y = rng.standard_normal((n, 6)), rng.integers(0, 4, size=n)
        _close(step(x, y).data, nn.cross_entropy(m1(x), y).data)
    assert step.n_traced == 2 + 1 and len(step._traces) == 3
    step.clear()
    assert len(step._traces) == 0


def test_float32_stays_float32_and_matches_eager():
    (m1, o1), (m2, o2) = _mlp(3, np.float32), _mlp(3, np.float32)
    step = jit(lambda x, y: nn.cross_entropy(m2(x), y))
    rng = np.random.default_rng(2)
    for _ in range(3):
        x, y = rng.standard_normal((5, 6)).astype(np.float32), rng.integers(0, 4, size=5)
        e, j = nn.cross_entropy(m1(x), y), step(x, y)
        o1.zero_grad()
        o2.zero_grad()
        e.backward()
        j.backward()
        assert np.asarray(j.data).dtype == np.float32
        assert np.array_equal(np.asarray(j.data), np.asarray(e.data))
        for p, q in zip(m1.parameters(), m2.parameters()):
            assert q.grad.dtype == np.float32 and np.array_equal(p.grad, q.grad)
        o1.step()
        o2.step()


def test_backward_adds_into_grad_as_eager_does():
    """Accumulation over two calls, backward twice on one result, retain_grads for the result itself."""
    w = Value(np.array([0.5, -1.0, 2.0]))
    f = jit(lambda x: (w * x).tanh().sum())
    x1, x2 = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 0.25])
    r1 = f(x1)
    r2 = f(x2)  # a second call before r1's backward: r1 keeps its own numbers
    r1.backward()
    r2.backward(retain_grads=False)
    r1.backward()
    expected = 2 * (1 - np.tanh(w.data * x1) ** 2) * x1 + (1 - np.tanh(w.data * x2) ** 2) * x2
    _close(w.grad, expected)
    assert float(r1.grad) == 2.0 and r2.grad is None
    g = w.grad
    f(x1).backward(gradient=np.float64(3.0))
    assert w.grad is not g or True  # eager adds out of place
    _close(w.grad, expected + 3 * (1 - np.tanh(w.data * x1) ** 2) * x1)


def test_value_arguments_get_their_gradients_and_leaves_untouched_stay_none():
    w, unused = Value(np.ones(3)), Value(np.ones(3))
    f = jit(lambda x, flag: (x * w).sum() if flag else (x * unused).sum())
    for k in range(3):
        x = Value(np.arange(3.0) + k)
        f(x, True).backward()
        _close(x.grad, np.ones(3))
    assert unused.grad is None and f.n_traced == 1
    f(Value(np.zeros(3)), False)  # a Python flag is part of the signature: traced again
    assert f.n_traced == 2


def test_a_result_used_in_a_larger_graph_passes_gradients_on():
    w = Value(np.array([[0.3, -0.2], [0.1, 0.4]]))
    f = jit(lambda x: (x @ w).relu().sum())
    h = Value(np.array([[1.0, 2.0]]))
    a = h * 3.0  # an argument computed by an outer graph
    (f(a) * 2 + 1).backward()
    gw, gh = w.grad.copy(), h.grad.copy()
    w.zero_grad()
    h.zero_grad()
    ((h * 3.0 @ w).relu().sum() * 2 + 1).backward()
    _close(gw, w.grad)
    _close(gh, h.grad)


def test_second_derivatives_through_a_replayed_call():
    w = Value(np.array([0.3, -0.7, 1.1]))
    f = jit(lambda: (w * w * w).sum())
    f().backward(create_graph=True)
    g = w.grad
    w.zero_grad()
    g.sum().backward()
    _close(w.grad, 6 * w.data)


def test_several_outputs_and_outputs_that_are_not_computed():
    w = Value(np.array([1.0, 2.0]))
    f = jit(lambda x: {"loss": (w * x).sum(), "mean": (w * x).mean(), "w": w, "none": None})
    out = f(np.array([3.0, 4.0]))
    assert out["w"] is w and out["none"] is None
    out["mean"].backward()
    _close(w.grad, [1.5, 2.0])
    _close(out["loss"].data, 11.0)


# ---- array parameters come from each call -------------------------------------------------------


def test_new_labels_indices_and_masks_are_used_on_replay():
    rng = np.random.default_rng(3)
    w = Value(rng.standard_normal((3, 5)))

    def loss(x, y, idx):
        z = x @ w
        picked = z[idx]
        return nn.cross_entropy(picked, y) + where(z > 0, z, 0.1 * z).sum()

    f = jit(loss)
    for _ in range(4):
        x, idx = rng.standard_normal((6, 3)), rng.integers(0, 6, size=4)
        y = rng.integers(0, 5, size=4)
        w.zero_grad()
        e = loss(Value(x, requires_grad=False), y, idx)
        e.backward()
        ge = w.grad.copy()
        w.zero_grad()
        j = f(x, y, idx)
        j.backward()
        _close(j.data, e.data)
        _close(w.grad, ge)
    assert f.n_traced == 1


def test_numpy_on_arguments_inside_the_function_is_replayed():
    w = Value(np.array([[1.0], [-2.0]]))
    f = jit(lambda x: ((x / 16.0 - x.mean(axis=0)) @ w).sum() + (x[:, :1].T @ x[:, 1:]).sum() * 0.0)
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = rng.standard_normal((4, 2))
        _close(f(x).data, ((x / 16.0 - x.mean(axis=0)) @ w.data).sum())


def test_labels_out_of_range_on_replay_are_refused_as_eager_refuses_them():
    model, _ = _mlp()
    f = jit(lambda x, y: nn.cross_entropy(model(x), y))
    x = np.ones((2, 6))
    f(x, np.array([0, 1]))
    f(x, np.array([1, 3]))
    with pytest.raises(ValueError, match="label 4 at position .* is out of range"):
        f(x, np.array([0, 4]))


# ---- what cannot be replayed is refused ------------------------------------------------------------


W0 = Value(np.array([[1.0, -1.0], [0.5, 2.0]]))


@pytest.mark.parametrize(
    "body, what",
    [
        (lambda x: (x @ W0).sum() if (x @ W0).sum() > 0 else -(x @ W0).sum(), r"bool\(\)"),
        (lambda x: (x @ W0).sum() * float((x @ W0).sum()), r"float\(\) or \.item\(\)"),
        (lambda x: (x @ W0).sum() * (x @ W0).sum().item(), r"float\(\) or \.item\(\)"),
        (lambda x: (x @ W0).sum() if bool((x @ W0).sum()) else W0.sum(), r"bool\(\) of a Value"),
        (lambda x: (x @ W0).sum() * int(x.sum()), r"int\(\) of argument 'x'"),
        (lambda x: (x @ W0)[: int(x[0, 0])].sum(), r"int\(\) of argument 'x'"),
        (lambda x: (x @ W0).sum() * (2.0 if x.max() > 0 else 1.0), r"bool\(\) of argument 'x'"),
    ],
)
def test_python_control_flow_on_traced_data_is_refused_naming_jit(body, what):
    f = jit(body)
    with pytest.raises(TraceError, match=f"autograd.jit: .*{what}"):
        f(np.ones((1, 2)))
    assert _value._tracing == 0 and autograd.modes.state().tracer is None  # the hooks are off again
    assert isinstance(TraceError("x"), TypeError)


def test_control_flow_on_values_that_are_not_traced_is_fine():
    c = Value(2.0, requires_grad=False)
    f = jit(lambda x: (x @ W0).sum() * (3.0 if c > 1 else 1.0) * float(c))
    _close(f(np.ones((1, 2))).data, (np.ones((1, 2)) @ W0.data).sum() * 6.0)


@pytest.mark.parametrize(
    "body, what",
    [
        (lambda x: (x @ W0).sum() + autograd.no_grad()(lambda: (x @ W0).sum())(), r"no_grad\(\) inside"),
        (lambda x: _backward_inside((x @ W0).sum()), r"backward\(\) .* inside"),
        (lambda x: (x @ W0)[x @ W0 > 0].sum(), "boolean mask computed from the data"),
        (lambda x: (Value(x.argmax(axis=1)[:, None] * 1.0) * W0).sum(), "numpy operation jit cannot replay"),
        (lambda x: (np.asarray(x)[:, :1] @ W0[:1]).sum(), r"part of argument 'x'"),
        (lambda x: (Value(np.array(x)) @ W0).sum(), "equals argument 'x' but is a copy"),
        (lambda x: float((x @ W0).sum().data), "returned a float"),
    ],
)
def test_what_a_replay_cannot_follow_is_refused_at_trace_time(body, what):
    with pytest.raises(TraceError, match=what):
        jit(body)(np.arange(6.0).reshape(3, 2) - 2.5)


def _backward_inside(loss):
    loss.backward()
    return loss


def test_dropout_in_training_mode_is_refused_and_allowed_in_eval():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5))
    f = jit(lambda x: model(x).sum())
    with pytest.raises(TraceError, match="Dropout draws a new random mask"):
        f(np.ones((2, 2)))
    model.eval()
    _close(f(np.ones((2, 2))).data, model(np.ones((2, 2))).sum().data)


def test_the_second_call_catches_data_computed_outside_the_graph():
    """one_hot(labels) makes a new array from an argument with numpy, out of jit's sight: the
    second call (new labels) records a different constant, and jit refuses instead of replaying."""
    w = Value(np.ones((3, 4)))
    f = jit(lambda x, y: nn.mse_loss(x @ w, nn.one_hot(y, 4)))
    x = np.ones((2, 3))
    f(x, np.array([0, 1]))
    with pytest.raises(TraceError, match="two traces of <lambda> recorded different graphs: a constant differs"):
        f(x, np.array([2, 3]))


def test_random_numbers_drawn_inside_are_refused():
    w = Value(np.ones(3))
    rng = np.random.default_rng(0)
    with pytest.raises(TraceError, match="different graphs: a constant differs"):
        jit(lambda: (w * rng.standard_normal(3)).sum())()
    f = jit(lambda: (w * rng.standard_normal(3)).sum(), check=False)  # the user's choice: noise drawn once
    assert f().data == f().data


def test_arguments_that_are_neither_arrays_nor_hashable_are_refused():
    with pytest.raises(TypeError, match="neither an array nor hashable"):
        jit(lambda s: W0.sum())({1, 2})
    with pytest.raises(TypeError, match="takes a function"):
        jit(3)
    with pytest.raises(ValueError, match="max_traces"):
        jit(lambda: None, max_traces=0)


# ---- guards, modes, the careful path -------------------------------------------------------------------


def test_a_parameter_changed_in_shape_or_frozen_traces_again():
    p, q = Value(np.ones(3)), Value(np.ones(3))
    f = jit(lambda x: (x * p).sum() + (x * q).sum())
    x = np.arange(3.0)
    f(x).backward()
    p.data = np.ones((2, 3))  # a new shape: traced again, broadcasting as eager does
    p.zero_grad()
    r = f(x)
    r.backward()
    assert p.grad.shape == (2, 3) and f.n_traced == 2
    q.requires_grad = False  # frozen: no gradient, as eager
    q.zero_grad()
    f(x).backward()
    assert q.grad is None and f.n_traced == 3


def test_no_grad_and_detect_anomaly_at_the_call_run_the_function_eagerly():
    w = Value(np.array([1.0, 2.0]))
    f = jit(lambda x: (w * x).log().sum())
    with autograd.no_grad():
        r = f(np.array([1.0, 2.0]))
    assert not r.requires_grad and f.n_traced == 0
    with autograd.detect_anomaly():
        r = f(np.array([1.0, 2.0]))
        assert type(r) is Value and r.op == "sum"  # the eager graph
        with pytest.raises(Exception, match="nan|inf"), np.errstate(invalid="ignore"):
            f(np.array([-1.0, 2.0])).backward()


def test_a_python_float_overflow_takes_the_engines_careful_path():
    """math.exp overflows on a Python float; eager redoes it on numpy scalars (inf, with numpy's warning)."""
    w = Value(800.0)
    f = jit(lambda x: (w * x).exp() * 0.0 + w * x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = (w * 1.0).exp() * 0.0 + w * 1.0
        r1 = f(0.5)  # the trace: exp(400) is finite
        r2 = f(1.0)
    assert np.isnan(e.data) and np.isnan(r2.data) and not np.isnan(r1.data)
    assert any("overflow" in str(c.message) for c in caught)


def test_nested_jit_inside_a_trace_is_traced_through():
    w = Value(np.array([1.0, -1.0]))
    inner = jit(lambda x: (w * x).relu())
    outer = jit(lambda x: inner(x).sum() * 2)
    for x in (np.array([1.0, 2.0]), np.array([-3.0, -4.0])):
        _close(outer(x).data, 2 * np.maximum(w.data * x, 0).sum())
    assert inner.n_traced == 0


def test_many_signatures_warn_once_and_are_bounded():
    w = Value(np.ones(2))
    f = jit(lambda lr: (w * lr).sum(), max_traces=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(10):
            f(0.1 * k)
    assert len(f._traces) == 4 and f.n_traced == 10
    assert sum("traced 9 times" in str(c.message) for c in caught) == 1


def test_tracing_in_one_thread_leaves_other_threads_alone():
    w = Value(np.array([1.0, 2.0]))
    inside, done = threading.Event(), threading.Event()

    def slow(x):
        inside.set()
        done.wait(5)
        return (w * x).sum()

    t = threading.Thread(target=lambda: jit(slow)(np.ones(2)))
    t.start()
    inside.wait(5)
    assert bool(Value(1.0) > 0.5) and float(w.sum()) == 3.0  # this thread is not tracing
    done.set()
    t.join()


# ---- the arithmetic written out in the code is the ops' own ---------------------------------------------


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1))
def test_ops_written_out_in_the_code_are_the_ops_forward_and_rules(seed):
    """Where jit writes an op's forward or rule as an expression (no Python call), it is the op's own."""
    rng = np.random.default_rng(seed)
    a, b, g = rng.standard_normal((3, 4, 5)) + 0.5
    x2, w2, g2 = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal((5, 4))
    cases = [(O.Add(), (a, b), g), (O.Sub(), (a, b), g), (O.Mul(), (a, b), g), (O.Div(), (a, b + 3.0), g), (O.Neg(), (a,), g),
             (O.MatMulT(), (x2, w2), g2), (O.Relu(), (a,), g), (O.Sum(None, False), (a,), 1.5), (O.Sum(1, True), (a,), g[:, :1])]  # fmt: skip
    env0 = {"_maximum": np.maximum, "_reduce": np.add.reduce}
    for op, xs, grad in cases:
        out = op.forward(*xs)
        env = {**env0, **{f"x{k}": x for k, x in enumerate(xs)}, "g": grad, "out": out}
        fwd = jit_codegen.inline_forward(op, list(xs))
        assert fwd is not None and np.array_equal(eval(fwd.format(*[f"x{k}" for k in range(len(xs))]), {}, env), out), op
        for k in range(len(xs)):
            rule = jit_codegen.inline_rule(op, k, list(xs))
            if rule is not None:
                expected = op._vjps[k](op, grad, out, *xs)
                assert np.array_equal(eval(rule[0].format(out="out", x0="x0", x1="x1"), {}, env), expected), (op, k)
                assert rule[1] == "x" or np.shape(expected) == np.shape(out)


def test_broadcasting_is_undone_by_the_reductions_unbroadcast_makes():
    from autograd.engine import unbroadcast

    rng = np.random.default_rng(0)
    for frm, to in [((4, 5), (5,)), ((2, 4, 5), (5,)), ((4, 5), (4, 1)), ((2, 4, 5), (1, 5)), ((3, 1), (1, 1)), ((4, 5), ())]:
        g = rng.standard_normal(frm)
        expr = jit_codegen._unbroadcast_expr("g", frm, to)
        got = eval(expr, {"_reduce": np.add.reduce, "_unbroadcast": unbroadcast}, {"g": g})
        assert np.array_equal(got, unbroadcast(g, to)) and "_unbroadcast" not in expr, (frm, to, expr)


# ---- random scalar graphs: the batcher against eager --------------------------------------------------

_UNARY = ["tanh", "sigmoid", "relu", "exp", "abs", "neg", "square"]
_BINARY = ["+", "-", "*", "/", "max"]


@settings(max_examples=30)
@given(st.data())
def test_random_scalar_graphs_replay_as_eager(data):
    """Random graphs of scalar Values (a weight per Value, shared sub-expressions, Python sums): the
    batched replay gives eager's loss and gradients."""
    n_leaves = data.draw(st.integers(2, 6))
    ws = [Value(float(v)) for v in data.draw(st.lists(st.floats(-1.5, 1.5), min_size=n_leaves, max_size=n_leaves))]
    steps = data.draw(st.lists(st.tuples(st.sampled_from(_UNARY + _BINARY), st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1, max_size=25))
    consts = data.draw(st.lists(st.floats(0.5, 2.0), min_size=2, max_size=2))

    def graph():
        vals = list(ws)
        for op, a, b in steps:
            x, y = vals[a % len(vals)], vals[b % len(vals)]
            if op == "tanh":
                v = x.tanh()
            elif op == "sigmoid":
                v = x.sigmoid()
            elif op == "relu":
                v = (x + 0.1).relu()
            elif op == "exp":
                v = (x * 0.1).exp()
            elif op == "abs":
                v = abs(x + 0.05)
            elif op == "neg":
                v = -x
            elif op == "square":
                v = x**2
            elif op == "+":
                v = x + y
            elif op == "-":
                v = x - consts[0] * y
            elif op == "*":
                v = x * y
            elif op == "/":
                v = x / (y * y + consts[1])
            else:
                v = autograd.maximum(x, y + 0.01)
            vals.append(v)
        return sum(vals[n_leaves:], vals[0] * 0.5)

    f = jit(graph)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jit_codegen, "_MIN_BATCHED", 0)  # batch even these small graphs
        f()
    assert f.n_traced == 1
    for _ in range(2):
        for w in ws:
            w.zero_grad()
        e = graph()
        e.backward()
        ge = [w.grad for w in ws]
        for w in ws:
            w.zero_grad()
        r = f()
        r.backward()
        _close(r.data, e.data, "value")
        for k, w in enumerate(ws):
            if ge[k] is None:
                assert w.grad is None
            else:
                _close(w.grad, ge[k], f"gradient of leaf {k}")
        for w in ws:
            if w.grad is not None:
                w.data = w.data - 0.1 * w.grad


# ---- memory: flat over 2,000 replayed steps --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tensor", "scalar"])
def test_no_memory_growth_over_2000_replayed_steps(kind):
    """Each replayed step allocates its buffers and frees them with its result: nothing accumulates
    (measured as tests/test_reliability_memory.py does: tracemalloc, cycle collector off)."""
    if kind == "tensor":
        model, opt = _mlp()
        step_fn = jit(lambda x, y: nn.cross_entropy(model(x), y))
        rng = np.random.default_rng(5)
        batches = [(rng.standard_normal((8, 6)), rng.integers(0, 4, size=8)) for _ in range(4)]
        params = model.parameters()
    else:
        d = W.w1_data({"points": 8, "hidden": (3, 3)})
        layers, params = _w1_values(d)
        xs, ys = d["x"].tolist(), d["y"].tolist()
        scalar = jit(lambda: W.w1_loss(layers, params, xs, ys, 1e-4))
        opt = nn.optim.SGD(params, lr=0.05)
        batches = [None]

        def step_fn(*_):
            return scalar()

    losses = np.empty(2100)
    k = [0]

    def step():
        b = batches[k[0] % len(batches)]
        loss = step_fn(*b) if b is not None else step_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses[k[0]] = float(loss.data)
        k[0] += 1

    for _ in range(100):
        step()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            step()
        grown = tracemalloc.get_traced_memory()[0] - base
        cycles = gc.collect()
    finally:
        tracemalloc.stop()
        if was:
            gc.enable()
    assert k[0] == 2100 and losses[-1] < losses[0]
    assert grown < 256 * 1024, f"memory grew by {grown / 1024:.0f} KiB over 2,000 replayed steps"
    assert cycles == 0, f"{cycles} objects were only reclaimable by the cycle collector"
    assert all(p.grad is not None for p in params)


def test_trace_error_is_importable_as_the_docs_say():
    assert autograd.TraceError is __import__("autograd.jit_trace", fromlist=["TraceError"]).TraceError
    assert issubclass(autograd.TraceError, TypeError) and "TraceError" in autograd.__all__
