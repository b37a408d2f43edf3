"""NaN and infinity: numpy's values and warnings at the edge of a domain, detect_anomaly, stable forms."""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest

import autograd
import nn
from autograd import Value, detect_anomaly
from autograd.anomaly import AnomalyError, is_anomaly_enabled

# ---- log, sqrt and / at the edge of their domains: numpy's values and numpy's warnings ------------


def _grad_of(f, x):
    v = Value(x)
    f(v).backward(np.ones(np.shape(x)))
    return v.grad


def _warned(fn, *a):
    """fn(*a) and the messages of the RuntimeWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*a)
    return out, " | ".join(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning))


def test_log_at_zero_and_below_gives_numpys_values_and_warnings():
    x = np.array([0.0, -1.0, 1.0, np.inf])
    y, said = _warned(lambda: Value(x).log())
    assert "divide by zero" in said and "invalid value" in said  # numpy's own warnings, as np.log(x) gives
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(y.data, np.log(x))  # -inf, nan, 0, inf
    g, said = _warned(_grad_of, lambda v: v.log(), x)
    assert "divide by zero" in said
    np.testing.assert_array_equal(g, [np.inf, -1.0, 1.0, 0.0])  # d log x = 1/x, numpy's 1/0 = inf


def test_sqrt_at_zero_and_below_gives_numpys_values_and_warnings():
    x = np.array([0.0, -1.0, 4.0, np.inf])
    y, said = _warned(lambda: Value(x).sqrt())
    assert "invalid value" in said
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(y.data, np.sqrt(x))  # 0, nan, 2, inf
    g, said = _warned(_grad_of, lambda v: v.sqrt(), x)
    assert "divide by zero" in said
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(g, 0.5 / np.sqrt(x))  # inf, nan, 0.25, 0


def test_division_by_zero_gives_numpys_values_warnings_and_gradients():
    x, y = np.array([1.0, -1.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0, 4.0])
    q, said = _warned(lambda: Value(x) / Value(y))
    assert "divide by zero" in said and "invalid value" in said
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(q.data, x / y)  # inf, -inf, nan, 0.5
    a, b = Value(x), Value(y)
    _, said = _warned(lambda: (a / b).backward(np.ones(4)))
    assert "divide by zero" in said  # the user is told, not silently handed inf
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(a.grad, 1 / y)  # inf, inf, inf, 0.25
        np.testing.assert_array_equal(b.grad, -x / y**2)  # -inf, inf, nan, -0.125


# ---- detect_anomaly ---------------------------------------------------------------------------------


def _here() -> str:
    """file:line of the caller's next line."""
    f = sys._getframe(1)
    return f"{f.f_code.co_filename}:{f.f_lineno + 1}"


def test_anomaly_forward_names_op_and_user_line():
    x = Value([1.0, 0.0, -1.0], label="x")
    with detect_anomaly(), pytest.raises(AnomalyError) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = x * 2
        site = _here()
        h.log()
    msg = str(e.value)
    assert isinstance(e.value, RuntimeError)
    assert "'log'" in msg and site in msg and "1 nan, 1 inf of 3 elements" in msg
    assert not is_anomaly_enabled()  # restored on the way out of the block, exception or not


def test_anomaly_forward_raises_at_the_first_bad_op_not_later():
    x = Value([4.0, -1.0], label="x")
    seen = []
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = x - 1  # fine
        with pytest.raises(AnomalyError, match=r"'sqrt'") as e:
            site = _here()
            b = (a * 3).sqrt()  # nan here: the first non-finite op
            seen.append(b.exp())  # never reached
    assert site in str(e.value) and not seen


def test_anomaly_backward_names_op_label_and_creation_site():
    x = Value([0.0, 1.0], label="x")
    with detect_anomaly():
        site = _here()
        r = (x * x).sqrt()
        r.label = "root"
        loss = r.sum()
        with pytest.raises(AnomalyError) as e, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss.backward()
    msg = str(e.value)
    assert "backward" in msg and "'sqrt'" in msg and "'root'" in msg and site in msg and "1 inf" in msg
    assert x.grad is None  # the bad gradient never reached the leaf


def test_anomaly_site_is_the_users_line_through_grad_and_nn():
    def f(v):
        site.append(_here())
        return (v - 2).log().sum()

    site: list[str] = []
    with detect_anomaly(), pytest.raises(AnomalyError) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        autograd.grad(f)(np.array([1.0, 3.0]))
    assert site[0] in str(e.value)  # the line in f, not a line inside autograd/functional.py

    layer = nn.Linear(2, 1)
    x = np.array([[np.inf, 1.0]])
    with detect_anomaly(), pytest.raises(AnomalyError) as e, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        site = _here()
        layer(x)
    assert site in str(e.value) and "/nn/" not in str(e.value).split("created at")[1].split(")")[0]


def test_anomaly_mode_off_costs_nothing_and_changes_nothing():
    x = Value([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = x.log()  # -inf, no error outside anomaly mode
    assert np.isneginf(y.data[0])
    assert getattr(y, "_site", None) is None  # creation sites are recorded only in anomaly mode
    with detect_anomaly():
        z = x + 1
    assert getattr(z, "_site", "").startswith(__file__)


def test_anomaly_no_false_alarm_on_finite_work_including_second_derivatives():
    x = Value(np.linspace(-3, 3, 7))
    with detect_anomaly():
        loss = (x.tanh() * x.sigmoid() + x.softmax() * 1e3).sum()
        loss.backward(create_graph=True)
        x.grad.sum().backward()
    assert np.isfinite(x.grad.data).all()


def test_detect_anomaly_is_nestable_and_a_decorator():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        with detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()  # the inner block restored the outer state, not "off"
        with detect_anomaly(False):
            assert not is_anomaly_enabled()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Value(0.0).log()  # switched off: no error
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()

    @detect_anomaly
    def bare():
        return is_anomaly_enabled()

    @detect_anomaly()
    def called():
        return is_anomaly_enabled()

    assert bare() and called() and not is_anomaly_enabled()


def test_detect_anomaly_is_thread_local():
    other = {}
    go, done = threading.Event(), threading.Event()

    def worker():
        go.wait()
        other["enabled"] = is_anomaly_enabled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other["value"] = Value(0.0, label="w").log().item()  # must not raise: anomaly is off here
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with detect_anomaly():
        go.set()
        done.wait(10)
        with pytest.raises(AnomalyError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Value(0.0).log()
    t.join()
    assert other == {"enabled": False, "value": -np.inf}


# ---- stable forms: finite values and finite gradients where a naive formula overflows -----------------


def _finite_value_and_grad(f, x):
    v = Value(np.asarray(x, dtype=np.float64))
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("error")  # not even an overflow warning
        out = f(v)
        out.backward()
    assert np.isfinite(out.data).all() and np.isfinite(v.grad).all()
    return out.data, v.grad


LOGITS = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0]]


def test_softmax_log_softmax_at_logits_plus_minus_1000():
    s, g = _finite_value_and_grad(lambda v: (v.softmax(axis=-1) * np.arange(3)).sum(), LOGITS)
    ls, lg = _finite_value_and_grad(lambda v: v.log_softmax(axis=-1)[:, 0].sum(), LOGITS)
    np.testing.assert_allclose(ls, 0.0 + np.log(1 / 3) + np.log(1 / 2))
    np.testing.assert_allclose(lg, [[0, 0, 0], [2 / 3, -1 / 3, -1 / 3], [0.5, -0.5, 0]], atol=1e-12)


def test_cross_entropy_at_logits_plus_minus_1000():
    loss, g = _finite_value_and_grad(lambda v: nn.cross_entropy(v, np.array([1, 0, 2])), LOGITS)
    np.testing.assert_allclose(loss, (2000 + np.log(3) + 2000 + np.log(2)) / 3)
    np.testing.assert_allclose(g, np.array([[1, -1, 0], [-2 / 3, 1 / 3, 1 / 3], [0.5, 0.5, -1]]) / 3, atol=1e-12)  # (softmax - onehot) / batch


def test_sigmoid_at_plus_minus_1000():
    s, g = _finite_value_and_grad(lambda v: v.sigmoid().sum(), [1000.0, -1000.0, 0.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.25])
    s = Value([1000.0, -1000.0]).sigmoid().data
    assert s[0] == 1.0 and s[1] == 0.0


def test_binary_cross_entropy_at_probabilities_0_and_1():
    p = np.array([0.0, 1.0, 0.0, 1.0])
    t = np.array([0.0, 1.0, 1.0, 0.0])
    loss, g = _finite_value_and_grad(lambda v: nn.binary_cross_entropy(v, t, reduction="sum"), p)
    assert loss == pytest.approx(200.0)  # the two wrong certain answers cost 100 each (log clamped at -100)
    loss, g = _finite_value_and_grad(lambda v: nn.binary_cross_entropy_with_logits(v, t, reduction="sum"), [-1000.0, 1000.0, -1000.0, 1000.0])
    assert loss == pytest.approx(2000.0)
    np.testing.assert_allclose(g, [0.0, 0.0, -1.0, 1.0])


def test_a_zero_exponent_has_gradient_zero_even_at_zero():
    """x ** 0 is 1 everywhere, so its derivative is 0 at x = 0 too (y x**(y-1) would be 0 * inf = nan), as in PyTorch."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero or invalid-value warning either
        x = Value(np.array([0.0, 1.0, -2.0]))
        (x**0).sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
        poly = lambda v: sum(c * v**k for k, c in enumerate([1.0, 2.0, 3.0]))  # 1 + 2v + 3v^2  # noqa: E731
        assert autograd.grad(poly)(0.0) == 2.0
        np.testing.assert_array_equal(autograd.hessian(lambda v: (v**1).sum())(np.array([0.0, 1.0])), np.zeros((2, 2)))
        assert autograd.grad(autograd.grad(autograd.grad(lambda v: v**2)))(0.0) == 0.0
        y = Value(np.array([0.0, 2.0]))  # an exponent array with a zero in it
        x = Value(np.array([0.0, 0.0]))
        (x**y).sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # numpy's, for the gradient being refused
def test_a_backward_refused_by_detect_anomaly_stores_no_gradient():
    a, b = Value(np.ones(2)), Value(np.array([1.0, 0.0]))
    a.grad = np.full(2, 7.0)  # a gradient from an earlier pass stays as it was
    with detect_anomaly():
        loss = (a * 2).sum() + (b.sqrt() * b).sum()  # sqrt's gradient at 0 is inf: refused
        with pytest.raises(AnomalyError):
            loss.backward()
    np.testing.assert_array_equal(a.grad, [7.0, 7.0])
    assert b.grad is None and loss.grad is None
