"""Junk thrown at nn's public functions: each works or raises ValueError/TypeError with a message, never anything else."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn

DOCUMENTED = (ValueError, TypeError)

junk = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(0, 3), max_size=3),
    st.lists(st.lists(st.floats(-2, 2), min_size=1, max_size=3), min_size=1, max_size=3),  # maybe ragged
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]), hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
    hnp.arrays(np.dtype("U2"), hnp.array_shapes(max_dims=2, max_side=3)),
)

LOSSES = [nn.mse_loss, nn.sse, nn.half_sse, nn.cross_entropy, nn.binary_cross_entropy, nn.binary_cross_entropy_with_logits, nn.hinge_loss]


def _call(fn, *args):  # noqa: D103
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            fn(*args)
        except DOCUMENTED as e:
            assert str(e), f"{fn.__name__} raised {type(e).__name__} without a message"


@pytest.mark.parametrize("fn", LOSSES, ids=lambda f: f.__name__)
@settings(max_examples=40)
@given(a=junk, b=junk)
def test_losses_on_junk(fn, a, b):
    _call(fn, a, b)


MODULES = [nn.Linear(3, 2, rng=0), nn.Neuron(3, rng=0), nn.MLP(3, [2, 2], rng=0), nn.Sequential(nn.Linear(3, 2, rng=0), nn.Softmax()), nn.GELU(), nn.ELU()]


@pytest.mark.parametrize("m", MODULES, ids=lambda m: type(m).__name__)
@settings(max_examples=40)
@given(x=junk)
def test_modules_on_junk(m, x):
    _call(m, x)


@settings(max_examples=40)
@given(a=junk, b=junk, n=st.one_of(st.integers(-2, 5), st.none(), st.floats(-1, 2), st.text(max_size=2)))
def test_data_and_state_helpers_on_junk(a, b, n):
    _call(lambda: nn.one_hot(a, 3))
    _call(lambda: nn.accuracy(a, b))
    _call(lambda: nn.DataLoader(a, b, batch_size=n))
    _call(lambda: nn.train_test_split(a, b, test_size=n))
    _call(lambda: nn.Linear(2, 2).load_state_dict({"weight": a, "bias": b}))
    _call(lambda: nn.optim.SGD(nn.Linear(2, 2).parameters(), lr=n))
