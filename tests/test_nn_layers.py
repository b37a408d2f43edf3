"""nn layers and activations: forward against numpy, gradients by gradcheck, shape errors, initialisation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value, gradcheck
from autograd.testing import arrays, shapes

_erf = np.vectorize(math.erf)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name -> (module factory, numpy reference, kinks to keep away from)
ACTS = {
    "Sigmoid": (nn.Sigmoid, np_sigmoid, ()),
    "Tanh": (nn.Tanh, np.tanh, ()),
    "ReLU": (nn.ReLU, lambda x: np.maximum(x, 0), (0.0,)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x), (0.0,)),
    "Softmax": (nn.Softmax, np_softmax, ()),
    "Softmax0": (lambda: nn.Softmax(axis=0), lambda x: np_softmax(x, 0), ()),
    "LogSoftmax": (nn.LogSoftmax, lambda x: np.log(np_softmax(x)), ()),
    "BinaryStep": (nn.BinaryStep, lambda x: (x >= 0).astype(float), (0.0,)),
    "Identity": (nn.Identity, lambda x: x, ()),
    "GELU": (nn.GELU, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), ()),
    "GELUtanh": (lambda: nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))), ()),
    "ELU": (lambda: nn.ELU(0.7), lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1)), (0.0,)),
    "Softplus": (nn.Softplus, lambda x: np.log1p(np.exp(x)), ()),
    "Softplus2": (lambda: nn.Softplus(beta=2.0, threshold=4.0), lambda x: np.where(2 * x > 4, x, np.log1p(np.exp(2 * x)) / 2), (2.0,)),
}


@pytest.mark.parametrize("name", list(ACTS))
@settings(max_examples=15)
@given(data=st.data())
def test_activation_forward_matches_numpy_and_gradcheck(name, data):
    make, ref, avoid = ACTS[name]
    x = data.draw(arrays(shapes(min_dims=1 if "Softmax" in name else 0), avoid=avoid))
    act = make()
    np.testing.assert_allclose(act(x).data, ref(x), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda v: act(v), x)


@pytest.mark.parametrize("name", list(ACTS))
def test_activation_is_finite_at_extremes(name):
    act = ACTS[name][0]()
    x = Value(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]))
    y = act(x)
    (y * np.arange(1.0, 6.0)).sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(x.grad).all(), (y.data, x.grad)


def test_activation_accepts_arrays_and_lists():
    np.testing.assert_array_equal(nn.ReLU()([-1.0, 2.0]).data, [0.0, 2.0])


def test_activation_by_name_and_unknown_name_lists_known_ones():
    assert isinstance(nn.get_activation("sigmoid"), nn.Sigmoid)
    assert isinstance(nn.get_activation("linear"), nn.Identity)
    assert isinstance(nn.get_activation(None), nn.Identity)
    relu = nn.ReLU()
    assert nn.get_activation(relu) is relu
    with pytest.raises(ValueError, match="unknown activation 'sigmod'; known: sigmoid, tanh, relu"):
        nn.Layer(2, 2, activation="sigmod")
    with pytest.raises(ValueError, match="unknown activation 'sigmod'"):
        nn.MLP(2, [1], activation="sigmod")  # no hidden layer uses it: still a mistake to report
    with pytest.raises(TypeError, match="activation must be"):
        nn.get_activation(3)


def test_gelu_and_softplus_argument_errors():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="beta"):
        nn.Softplus(beta=0)


# ---- layers -----------------------------------------------------------------------


@settings(max_examples=20)
@given(batch=st.sampled_from([(), (1,), (3,), (2, 2)]), nin=st.integers(1, 4), nout=st.integers(1, 3), bias=st.booleans(), data=st.data())
def test_linear_forward_and_gradcheck(batch, nin, nout, bias, data):
    lin = nn.Linear(nin, nout, bias=bias, rng=0)
    x = data.draw(arrays(batch + (nin,)))
    W, b = lin.weight.data.copy(), (lin.bias.data.copy() if bias else 0.0)
    y = lin(x)
    assert y.shape == batch + (nout,)
    np.testing.assert_allclose(y.data, x @ W.T + b, rtol=1e-12, atol=1e-12)

    def f(x, W, *b):
        lin.weight = W
        if b:
            lin.bias = b[0]
        return lin(x)

    assert gradcheck(f, x, W, *([b] if bias else []))


def test_linear_init_is_pytorch_default_and_seeded():
    lin = nn.Linear(100, 50, rng=0)
    bound = 1 / math.sqrt(100)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    assert np.abs(lin.weight.data).max() > 0.9 * bound  # uniform over the whole range
    np.testing.assert_array_equal(lin.weight.data, nn.Linear(100, 50, rng=0).weight.data)
    nn.manual_seed(3)
    a = nn.Linear(4, 4).weight.data.copy()
    nn.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Linear(4, 4).weight.data)
    assert not np.array_equal(a, nn.Linear(4, 4).weight.data)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu", "gelu"])
def test_layer_he_init_for_relu_family(act):
    layer = nn.Layer(400, 300, activation=act, rng=0)
    assert abs(layer.weight.data.std() - math.sqrt(2 / 400)) < 0.02 * math.sqrt(2 / 400) + 1e-3
    np.testing.assert_array_equal(layer.bias.data, 0.0)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "linear"])
def test_layer_xavier_init_for_sigmoid_tanh_linear(act):
    layer = nn.Layer(400, 200, activation=act, rng=0)
    a = math.sqrt(6 / 600)
    w = layer.weight.data
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.95 * a
    assert abs(w.std() - a / math.sqrt(3)) < 0.02 * a


def test_init_functions():
    v = nn.Parameter(np.zeros((30, 20)))
    assert nn.init.constant_(v, 2.5) is v and (v.data == 2.5).all()
    nn.init.zeros_(v)
    assert (v.data == 0).all()
    nn.init.ones_(v)
    assert (v.data == 1).all()
    nn.init.xavier_normal_(v, rng=0)
    assert abs(v.data.std() - math.sqrt(2 / 50)) < 0.03
    nn.init.kaiming_uniform_(v, nonlinearity="relu", rng=0)
    assert np.abs(v.data).max() <= math.sqrt(6 / 20)
    nn.init.normal_(v, 1.0, 0.01, rng=0)
    assert abs(v.data.mean() - 1) < 0.01
    assert nn.init.calculate_gain("tanh") == 5 / 3 and nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(v, mode="fan")
    with pytest.raises(TypeError, match="float Value or ndarray"):
        nn.init.zeros_([1, 2])
    with pytest.raises(TypeError, match="rng must be"):
        nn.init.normal_(v, rng="seed")


@settings(max_examples=20)
@given(batch=st.sampled_from([(), (1,), (4,)]), nin=st.integers(1, 4), act=st.sampled_from(["sigmoid", "tanh", "linear", "softplus"]), data=st.data())
def test_neuron_forward_and_gradcheck(batch, nin, act, data):
    neuron = nn.Neuron(nin, activation=act, rng=1)
    refs = {"sigmoid": np_sigmoid, "tanh": np.tanh, "linear": lambda z: z, "softplus": lambda z: np.log1p(np.exp(z))}
    x = data.draw(arrays(batch + (nin,)))
    w, b = neuron.weight.data.copy(), 0.25
    neuron.bias.data = b
    y = neuron(x)
    assert y.shape == batch
    np.testing.assert_allclose(y.data, refs[act](x @ w + b), rtol=1e-12, atol=1e-12)

    def f(x, w, b):
        neuron.weight, neuron.bias = w, b
        return neuron(x)

    assert gradcheck(f, x, w, np.array(b))


@settings(max_examples=20)
@given(batch=st.sampled_from([(), (3,)]), act=st.sampled_from(["sigmoid", "tanh", "softmax"]), data=st.data())
def test_layer_forward_and_gradcheck(batch, act, data):
    layer = nn.Layer(3, 2, activation=act, rng=2)
    x = data.draw(arrays(batch + (3,)))
    W = layer.weight.data.copy()
    ref = {"sigmoid": np_sigmoid, "tanh": np.tanh, "softmax": np_softmax}[act]
    np.testing.assert_allclose(layer(x).data, ref(x @ W.T), rtol=1e-12, atol=1e-12)

    def f(x, W, b):
        layer.weight, layer.bias = W, b
        return layer(x)

    assert gradcheck(f, x, W, np.array([0.5, -0.25]))


def test_mlp_forward_matches_numpy_and_gradcheck_through_all_weights():
    mlp = nn.MLP(3, [4, 4, 2], activation="tanh", output_activation="sigmoid", rng=0)
    x = np.random.default_rng(1).normal(size=(5, 3))
    h = x
    for i, layer in enumerate(mlp.layers):
        h = h @ layer.weight.data.T + layer.bias.data
        h = np.tanh(h) if i < 2 else np_sigmoid(h)
    np.testing.assert_allclose(mlp(x).data, h, rtol=1e-12)
    params = [p.data.copy() for p in mlp.parameters()]

    def f(x, *ps):
        for (name, _), p in zip(list(mlp.named_parameters()), ps):
            i, attr = name.split(".")[1], name.split(".")[2]
            setattr(mlp.layers[int(i)], attr, p)
        return mlp(x)

    assert gradcheck(f, x, *params)


def test_mlp_output_activation_default_is_linear():
    mlp = nn.MLP(2, [3, 1], rng=0)
    assert isinstance(mlp.layers[0].activation, nn.ReLU) and isinstance(mlp.layers[1].activation, nn.Identity)
    assert mlp(np.ones(2)).shape == (1,)
    assert mlp(np.ones((7, 2))).shape == (7, 1)


@pytest.mark.parametrize(
    "module, x, match",
    [
        (nn.Linear(3, 2), np.ones((4, 5)), r"expects inputs with 3 features in the last dimension .* got shape \(4, 5\)"),
        (nn.Linear(3, 2), np.ones(()), r"got shape \(\)"),
        (nn.Neuron(2), np.ones(3), r"Neuron\(nin=2.*expects inputs with 2 features.*got shape \(3,\)"),
        (nn.Layer(4, 2), np.ones((2, 3)), r"Layer\(nin=4, nout=2.*got shape \(2, 3\)"),
        (nn.MLP(4, [3, 1]), np.ones((8, 2)), r"expects inputs with 4 features.*got shape \(8, 2\)"),
        (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), np.ones((1, 2)), r"in_features=4.*got shape \(1, 3\)"),
    ],
)
def test_wrong_input_width_is_a_clear_error(module, x, match):
    with pytest.raises(ValueError, match=match):
        module(x)


@pytest.mark.parametrize(
    "make, err, match",
    [
        (lambda: nn.Linear(0, 2), ValueError, "in_features must be a positive int, got 0"),
        (lambda: nn.Linear(2, 2.5), ValueError, "out_features must be a positive int"),
        (lambda: nn.Neuron(-1), ValueError, "nin must be a positive int"),
        (lambda: nn.MLP(2, []), ValueError, "sizes must be a non-empty list"),
        (lambda: nn.MLP(2, 3), ValueError, "sizes must be a non-empty list"),
        (lambda: nn.MLP(2, [3, 0]), ValueError, "every size must be a positive int"),
        (lambda: nn.Sequential(nn.ReLU(), np.tanh), TypeError, "argument 1 is ufunc"),
        (lambda: nn.Dropout(1.5), ValueError, r"p must be in \[0, 1\]"),
    ],
)
def test_constructor_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_sequential_indexing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b)
    assert s.append(c) is s and len(s) == 3 and s[0] is a and s[-1] is c and list(s) == [a, b, c]
    tail = s[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c]
    with pytest.raises(IndexError, match="out of range for 3 modules"):
        s[3]
    x = np.ones((2, 2))
    np.testing.assert_array_equal(s(x).data, c(b(a(x))).data)


def test_dropout_train_and_eval():
    d = nn.Dropout(0.25, rng=0)
    x = Value(np.ones((200, 50)))
    y = d(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75)
    assert not np.array_equal(d(x).data, y.data)  # a new mask each call
    d.eval()
    assert d(x) is x
    assert (nn.Dropout(1.0)(x).data == 0).all()
    x32 = Value(np.ones((4, 5), dtype=np.float32))
    y32 = nn.Dropout(0.5, rng=0)(x32)
    y32.sum().backward()
    assert y32.dtype == np.float32 and x32.grad.dtype == np.float32  # the mask does not upcast


def test_softplus_and_gelu_have_second_derivatives():
    """The Softplus and Erf ops' rules run on Values too, so grad(grad(f)) works through them."""
    from autograd import grad

    x = 0.7
    s = 1 / (1 + math.exp(-x))
    d2_softplus = grad(grad(lambda v: nn.Softplus()(v)))(x)
    np.testing.assert_allclose(d2_softplus, s * (1 - s), rtol=1e-12)
    phi = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    d2_gelu = grad(grad(lambda v: nn.GELU()(v)))(x)
    np.testing.assert_allclose(d2_gelu, 2 * phi - x * x * phi, rtol=1e-12)  # d2/dx2 x*Phi(x) = 2 phi - x^2 phi
