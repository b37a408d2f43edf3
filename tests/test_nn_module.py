"""nn.Module: parameter discovery, names, zero_grad, train/eval, repr, the scope contract, state dicts."""

import numpy as np
import pytest

import nn
from autograd import Value, modes


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.ones((2, 3)))
        self.blocks = [nn.Linear(3, 3, rng=0), nn.Linear(3, 2, rng=1)]
        self.table = {"a": nn.Parameter(np.zeros(2)), "b": nn.Neuron(2, rng=2)}
        self.const = Value(np.ones(3), requires_grad=False)  # not a parameter
        self._private = nn.Parameter(np.ones(1))  # private: not searched
        self.cached = None

    def forward(self, x):
        self.cached = x @ self.w  # a computed Value stored on the module is not a parameter
        h = self.cached
        for b in self.blocks:
            h = b(h)
        return self.table["b"](h + self.table["a"])


def test_parameters_found_in_attributes_lists_and_dicts_with_dotted_names():
    m = Custom()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["w", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "table.a", "table.b.weight", "table.b.bias"]
    assert len(m.parameters()) == 8
    assert m.num_parameters() == 6 + 9 + 3 + 6 + 2 + 2 + 2 + 1
    m(np.ones((4, 2)))
    assert [n for n, _ in m.named_parameters()] == names  # the cached output did not become a parameter


def test_parameters_get_their_attribute_name_as_label():
    lin = nn.Linear(2, 3)
    assert lin.weight.label == "weight" and lin.bias.label == "bias"
    assert lin.weight.requires_grad and lin.weight.shape == (3, 2)

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lst = [nn.Parameter(np.zeros(1))]
            self.tup = (nn.Parameter(np.zeros(1)),)
            self.d = {"b": nn.Parameter(np.zeros(1))}

    h = Holder()
    assert [p.label for p in h.parameters()] == [n for n, _ in h.named_parameters()] == ["lst.0", "tup.0", "d.b"]


def test_shared_parameter_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


def test_zero_grad_clears_every_parameter():
    m = nn.MLP(3, [4, 1], rng=0)
    m(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_eval_propagate_to_submodules():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.1)))
    m.eval()
    assert not any(x.training for x in m.modules())
    assert m.train() is m and all(x.training for x in m.modules())


def test_repr_shows_the_tree():
    m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.MLP(4, [3, 1], rng=0))
    r = repr(m)
    assert r.splitlines()[0] == "Sequential("
    assert "  (0): Linear(in_features=2, out_features=4, bias=True)" in r
    assert "  (1): ReLU()" in r
    assert "    (layers.0): Layer(nin=4, nout=3, activation='relu')" in r
    assert "    (layers.1): Layer(nin=3, nout=1, activation='linear')" in r
    assert r.endswith(")")


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(2, 2, rng=0)

    def forward(self, x):
        seen.append(modes.mode.scope)
        return self.inner(x).relu()


seen: list = []


def test_call_sets_and_restores_the_module_scope():
    o = Outer()
    modes.mode.scope = None
    y = o(np.ones((1, 2)))
    assert seen[-1] == (o,)
    assert modes.mode.scope is None
    # the matmul and the + inside Linear are recorded under (outer, inner); relu under (outer,)
    assert y.scope == (o,)
    assert y.parents[0].scope == (o, o.inner)


def test_scope_restored_when_forward_raises():
    lin = nn.Linear(3, 2)
    modes.mode.scope = None
    with pytest.raises(ValueError):
        lin(np.ones((2, 5)))
    assert modes.mode.scope is None


def test_forward_missing_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1.0)


def test_state_dict_is_a_copy_in_parameter_order():
    m = nn.MLP(2, [3, 1], rng=0)
    sd = m.state_dict()
    assert list(sd) == [n for n, _ in m.named_parameters()]
    sd["layers.0.weight"][...] = 99
    assert not (m.layers[0].weight.data == 99).any()


def test_load_state_dict_copies_values():
    a, b = nn.MLP(2, [3, 1], rng=0), nn.MLP(2, [3, 1], rng=1)
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    x = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_array_equal(a(x).data, b(x).data)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda sd: sd.pop("layers.1.bias"), r"missing keys: \['layers.1.bias'\]"),
        (lambda sd: sd.__setitem__("extra.weight", np.zeros(2)), r"unexpected keys: \['extra.weight'\]"),
        (lambda sd: sd.__setitem__("layers.0.weight", np.zeros((2, 3))), r"layers.0.weight: shape \(2, 3\) in the state dict, but the parameter has shape \(3, 2\)"),
        (lambda sd: sd.__setitem__("layers.0.bias", np.array(["a", "b", "c"])), r"layers.0.bias: expected a real numeric array"),
    ],
)
def test_load_state_dict_rejects_bad_entries_and_changes_nothing(edit, match):
    m = nn.MLP(2, [3, 1], rng=0)
    before = m.state_dict()
    sd = {k: v + 1.0 for k, v in m.state_dict().items()}  # every good entry would change the model
    edit(sd)
    with pytest.raises(ValueError, match=match) as e:
        m.load_state_dict(sd)
    assert "nothing was changed" in str(e.value)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_reports_and_still_checks_shapes():
    m = nn.MLP(2, [3, 1], rng=0)
    sd = m.state_dict()
    w = sd.pop("layers.1.weight")
    sd["junk"] = np.zeros(1)
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["layers.1.weight"] and res.unexpected_keys == ["junk"]
    sd["layers.0.bias"] = np.zeros(7)
    with pytest.raises(ValueError, match="layers.0.bias"):
        m.load_state_dict(sd, strict=False)
    assert w.shape == (1, 3)


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_linear_layout_matches_pytorch_state_dict():
    """A state dict in PyTorch's layout (weight (out, in), names 0.weight...) loads and computes x @ W.T + b."""
    rng = np.random.default_rng(0)
    W0, b0, W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2)
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    seq.load_state_dict({"0.weight": W0, "0.bias": b0, "2.weight": W1, "2.bias": b1})
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(seq(x).data, np.tanh(x @ W0.T + b0) @ W1.T + b1, rtol=1e-12)


def test_a_frozen_parameter_stays_a_parameter_as_in_pytorch():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=0))
    names = [n for n, _ in model.named_parameters()]
    first = model[0]
    first.weight.requires_grad = False  # freeze the first layer's weight
    assert [n for n, _ in model.named_parameters()] == names and list(model.state_dict()) == names
    assert model.num_parameters() == 3 + 3 + 1  # trainable numbers only: 2*3 weights frozen
    opt = nn.optim.SGD(model.parameters(), lr=0.1)  # a frozen parameter is accepted, and skipped
    before = first.weight.data.copy()
    model.zero_grad()
    nn.mse_loss(model(np.ones((4, 2))), np.zeros((4, 1))).backward()
    opt.step()
    assert first.weight.grad is None and np.array_equal(first.weight.data, before)
    first.weight.requires_grad = True  # unfrozen: the same optimizer updates it again
    model.zero_grad()
    nn.mse_loss(model(np.ones((4, 2))), np.zeros((4, 1))).backward()
    opt.step()
    assert not np.array_equal(first.weight.data, before)
    with pytest.raises(ValueError, match="requires_grad=False"):  # a constant that never was a parameter
        nn.optim.SGD([Value(1.0, requires_grad=False)], lr=0.1)


def test_assigning_a_non_parameter_over_a_parameter_is_refused():
    lin = nn.Linear(2, 1, rng=0)
    for bad in (np.ones((1, 2)), lin.weight * 2.0, 3.0):
        with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight' of Linear"):
            lin.weight = bad
    lin.weight = nn.Parameter(np.zeros((1, 2)))  # a new parameter, or None, is fine
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_repr_of_a_module_that_refers_back_to_its_parent_ends():
    class Block(nn.Module):
        def __init__(self, owner):
            super().__init__()
            self.lin = nn.Linear(2, 2, rng=0)
            self.owner = owner  # a back-reference: a cycle of modules

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block(self)

    text = repr(Net())
    assert "(owner): Net(...)  # an enclosing module, shown above" in text and text.count("Linear(") == 1
