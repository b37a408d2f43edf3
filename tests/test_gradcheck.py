"""gradcheck passes on correct rules, catches a wrong one, and says exactly where and by how much."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings

import autograd as ag
from autograd import GradcheckError, gradcheck
from autograd.engine import apply
from autograd.ops import Op

from . import strategies as S


class BrokenSquare(Op):
    """x * x with a wrong gradient (x instead of 2x): a test-only op that gradcheck must catch."""

    name = "broken_square"

    def forward(self, x):
        return x * x

    def vjp0(self, g, out, x):
        return g * x


class BrokenSecondInput(Op):
    """x * y whose rule for y is off by a factor of 3 (the rule for x is right)."""

    name = "broken_mul"

    def forward(self, x, y):
        return x * y

    def vjp0(self, g, out, x, y):
        return g * y

    def vjp1(self, g, out, x, y):
        return g * x * 3


def broken_square(v):
    return apply(BrokenSquare(), v)


def _numbers(msg: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r"(analytic|numeric|abs error|rel error) (-?[\d.e+-]+)", msg)}


@settings(max_examples=10)
@given(S.binary())
def test_passes_on_correct_rules(drawn):
    (a, b), _ = drawn
    assert gradcheck(lambda x, y: ((x * y).tanh() + x.exp() / (1 + y * y)).sum(), a, b) is True


def test_accepts_numbers_lists_and_arrays():
    assert gradcheck(lambda x: x * x, 3.0)
    assert gradcheck(lambda x, y: (x * y).sum(), [1.0, 2.0], np.array([3.0, 4.0]))
    assert gradcheck(lambda x: x.sum() * 2, np.float32([1.0, 2.0]))  # checked in float64 all the same


def test_catches_a_wrong_rule_and_pinpoints_it():
    x = np.array([[1.0, -3.0], [2.0, 0.0]])

    def loss(v):
        return broken_square(v).sum()

    with pytest.raises(GradcheckError) as info:
        gradcheck(loss, x)
    assert isinstance(info.value, AssertionError)
    msg = str(info.value)
    assert "gradcheck failed for loss" in msg
    assert "input 0 (shape (2, 2))" in msg
    assert "3 of 4 elements differ" in msg  # x = 0 is right by accident: 0 * 1 == 0 * 2
    assert "worst at element (0, 1)" in msg  # the largest |x|, where the error |x| is largest
    nums = _numbers(msg)
    assert nums["analytic"] == pytest.approx(-3.0)
    assert nums["numeric"] == pytest.approx(-6.0, rel=1e-6)
    assert nums["abs error"] == pytest.approx(3.0, rel=1e-3)
    assert nums["rel error"] == pytest.approx(0.5, rel=1e-3)
    assert "atol" in msg and "rtol" in msg and "hint" not in msg


def test_names_the_input_that_fails():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: apply(BrokenSecondInput(), x, y).sum(), [1.0, 2.0], 5.0)
    msg = str(info.value)
    assert "input 1 (shape ())" in msg and "the scalar" in msg and "1 of 1 elements" in msg
    nums = _numbers(msg)
    assert nums["analytic"] == pytest.approx(9.0) and nums["numeric"] == pytest.approx(3.0, rel=1e-6)


def test_a_wrong_rule_is_caught_on_every_drawn_shape():
    @settings(max_examples=10)
    @given(S.arrays(S.shapes(), avoid=(0.0,)))
    def check(a):
        with pytest.raises(GradcheckError, match=f"input 0 \\(shape {re.escape(str(a.shape))}\\): {a.size} of {a.size} elements"):
            gradcheck(lambda v: broken_square(v).sum(), a)

    check()


def test_non_scalar_output_is_checked_through_a_random_projection():
    x = np.array([0.5, -1.5, 2.0])
    assert gradcheck(lambda v: v.tanh() * v, x)  # a correct non-scalar f passes
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: broken_square(v) + v, x, seed=3)
    msg = str(info.value)
    assert "returns shape (3,)" in msg and "random projection with seed 3" in msg and "3 of 3 elements" in msg


@pytest.mark.parametrize(
    "f, x, words",
    [
        (lambda v: v.relu().sum(), [0.0, 1.0], ["relu", "within eps of 0", "kink"]),
        (lambda v: abs(v).sum(), [5e-7, 1.0], ["abs", "within eps of 0", "kink"]),
        (lambda v: v.leaky_relu(0.1).sum(), [5e-7], ["leaky_relu", "within eps of 0"]),
        (lambda v: v.binary_step().sum(), [0.0, 2.0], ["binary_step", "within eps of 0"]),
        (lambda v: v.max(), [1.0, 1.0 + 5e-7, 0.0], ["max", "tied"]),
        (lambda v: v.min(axis=0), [[1.0, 2.0], [1.0 + 5e-7, 3.0]], ["min", "tied"]),
        (lambda v: ag.maximum(v, 2.0).sum(), [2.0 + 5e-7], ["maximum", "tie"]),
        (lambda v: v.clip(0.0, 1.0).sum(), [1.0 + 5e-7], ["clip", "bound"]),
    ],
)
def test_kink_hint(f, x, words):
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, x)
    hint = str(info.value).split("hint: ", 1)[1]
    for w in words:
        assert w in hint, (w, hint)
    assert "finite differences are not meaningful" in hint


def test_the_same_points_pass_away_from_the_kink():
    assert gradcheck(lambda v: v.relu().sum(), [0.3, 1.0])
    assert gradcheck(lambda v: abs(v).sum(), [-0.3, 1.0])
    assert gradcheck(lambda v: v.max(), [1.0, 1.5, 0.0])


def test_exact_ties_agree_with_central_differences():
    # at a tie of two, the even split is what a central difference measures, so these pass
    # (three-way ties do not: one perturbed element sees 0 one way and 1 the other, so 1/2, not 1/3)
    assert gradcheck(lambda v: v.max(), [1.0, 1.0, 0.0])
    assert gradcheck(lambda v: v.min(axis=1), [[2.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    assert gradcheck(lambda a, b: ag.maximum(a, b) + ag.minimum(a, b) * 2, [1.0, 2.0], [1.0, 0.0])
    assert gradcheck(lambda v: abs(v) * 3, [0.0, -1.0])  # abs'(0) = 0 is the central difference too


def test_tolerances_are_used():
    # 1 + 1e-4 relative error: fails at rtol=1e-5, passes at the default rtol=1e-3
    class Slightly(Op):
        name = "slightly_off"

        def forward(self, x):
            return 2 * x

        def vjp0(self, g, out, x):
            return g * 2 * (1 + 1e-4)

    def f(v):
        return apply(Slightly(), v).sum()

    assert gradcheck(f, [1.0, 2.0])
    with pytest.raises(GradcheckError, match="rtol 1e-05"):
        gradcheck(f, [1.0, 2.0], rtol=1e-5, atol=0)


def test_inputs_are_not_modified():
    a = np.array([1.0, 2.0])
    gradcheck(lambda v: (v * v).sum(), a)
    np.testing.assert_array_equal(a, [1.0, 2.0])


def test_import_autograd_does_not_need_hypothesis():
    import subprocess
    import sys

    code = "import sys, autograd; assert 'hypothesis' not in sys.modules; import autograd.testing; assert 'hypothesis' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    from autograd import testing

    assert callable(testing.arrays) and callable(testing.broadcastable_shapes)


# ---- the public strategies of autograd.testing keep their promises ----------------------------


@settings(max_examples=20)
@given(S.arrays(S.shapes(), lo=-2.0, hi=2.0, avoid=(0.0, 1.0), margin=0.1))
def test_testing_arrays_stay_in_range_and_away_from_kinks(a):
    assert a.dtype == np.float64 and a.ndim <= 3
    assert ((a >= -2.0) & (a <= 2.0)).all()
    assert (np.abs(a) >= 0.1).all() and (np.abs(a - 1.0) >= 0.1).all()
    assert (a / S.GRID == np.round(a / S.GRID)).all()  # on the grid


@settings(max_examples=20)
@given(S.distinct_arrays(S.shapes()))
def test_testing_distinct_arrays_have_no_ties(a):
    flat = np.sort(a.reshape(-1))
    assert (np.diff(flat) >= 0.0625).all()


@settings(max_examples=20)
@given(S.broadcastable_shapes(3).flatmap(lambda s: S.tie_free_pair(s[:2]).map(lambda p: (s, p))))
def test_testing_shapes_broadcast_and_pairs_never_tie(drawn):
    shapes, (a, b) = drawn
    np.broadcast_shapes(*shapes)  # raises if they do not broadcast
    assert a.shape == shapes[0] and b.shape == shapes[1]
    assert (np.abs(a - b) >= 0.0625).all()
