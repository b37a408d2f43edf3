"""Module buffers: register_buffer, named_buffers, state_dict order and loading (as PyTorch's), dtypes,
never trained, save/load through a file, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nn
from autograd import Value

from .torch_parity import load_both_ways


class Ours(nn.Module):
    """A child before a parameter, buffers around it: PyTorch orders a module's own parameters, then its
    buffers, then its children, whatever the order they were set in."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 3, rng=0)
        self.register_buffer("mask", np.array([1.0, 0.0, 1.0]))
        self.scale = nn.Parameter(np.ones(3))
        self.register_buffer("scratch", np.zeros(3), persistent=False)
        self.register_buffer("count", np.array(0, dtype=np.int64))
        self.register_buffer("unset", None)
        self.norm = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.norm(self.lin(x) * self.mask * self.scale)


class Theirs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 3)
        self.register_buffer("mask", torch.tensor([1.0, 0.0, 1.0]))
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("scratch", torch.zeros(3), persistent=False)
        self.register_buffer("count", torch.tensor(0))
        self.register_buffer("unset", None)
        self.norm = torch.nn.BatchNorm1d(3)


def test_names_and_order_are_pytorchs():
    ours, theirs = Ours(), Theirs().double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert len(ours.buffers()) == 6 and all(isinstance(b, np.ndarray) for b in ours.buffers())
    load_both_ways(ours, theirs)  # (torch keeps mask float64 after .double(); count stays int64 on both sides)


def test_a_buffer_is_an_attribute_never_a_parameter_and_never_trained():
    m = Ours()
    assert isinstance(m.mask, np.ndarray) and m.mask.tolist() == [1.0, 0.0, 1.0]
    assert all(p is not m.mask for p in m.parameters()) and len(m.parameters()) == 5
    opt = nn.optim.SGD(m.parameters(), lr=0.1)
    before = m.mask.copy()
    m(np.ones((4, 2))).sum().backward()
    opt.step()
    np.testing.assert_array_equal(m.mask, before)
    assert m.count.dtype == np.int64


def test_assigning_replaces_a_buffer_and_keeps_the_given_dtype():
    m = Ours()
    m.mask = np.ones(5, dtype=np.float32)
    assert m.state_dict()["mask"].dtype == np.float32 and m.state_dict()["mask"].shape == (5,)
    m.count = np.int64(4)  # a numpy scalar becomes a 0-d array
    assert isinstance(m.count, np.ndarray) and m.state_dict()["count"] == 4
    m.unset = np.ones(1)
    assert "unset" in m.state_dict()  # registered as None, then given an array: saved from now on
    m.mask = None
    assert "mask" not in m.state_dict()
    m.register_buffer("mask", np.zeros(2), persistent=False)  # registering again changes the array and the flag
    assert "mask" not in m.state_dict() and "mask" in dict(m.named_buffers())
    del m.count
    assert "count" not in m.state_dict() and not hasattr(m, "count")


def test_state_dict_is_a_copy_and_loading_copies_in_place():
    m = Ours()
    sd = m.state_dict()
    sd["mask"][...] = 7
    assert (m.mask != 7).any()
    held = m.mask
    sd["count"] = np.array(3.0)  # a whole float into an int64 buffer (as a PyTorch float tensor would be)
    m.load_state_dict(sd)
    assert m.mask is held and (held == 7).all()  # whoever holds the array sees the loaded numbers
    assert m.count.dtype == np.int64 and int(m.count) == 3


def test_a_read_only_buffer_is_replaced_when_loaded():
    m = nn.Module()
    m.register_buffer("grid", np.broadcast_to(np.arange(3.0), (2, 3)))
    m.load_state_dict({"grid": np.ones((2, 3))})
    np.testing.assert_array_equal(m.grid, np.ones((2, 3)))


def test_tied_buffers_are_saved_under_each_name_and_loaded_once():
    shared = np.zeros(2)
    a, b = nn.Module(), nn.Module()
    a.register_buffer("t", shared)
    b.register_buffer("t", shared)
    holder = nn.Sequential(a, b)
    assert list(holder.state_dict()) == ["0.t", "1.t"] and [n for n, _ in holder.named_buffers()] == ["0.t"]
    holder.load_state_dict({"0.t": np.ones(2), "1.t": np.ones(2)})
    assert a.t is b.t and (shared == 1).all()
    with pytest.raises(ValueError, match=r"1.t: the same buffer as 0.t \(tied\), but a different array"):
        holder.load_state_dict({"0.t": np.ones(2), "1.t": np.zeros(2)})


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda sd: sd.pop("norm.running_var"), r"missing keys: \['norm.running_var'\]"),
        (lambda sd: sd.__setitem__("scratch", np.zeros(3)), r"unexpected keys: \['scratch'\]"),
        (lambda sd: sd.__setitem__("mask", np.zeros(4)), r"mask: shape \(4,\) in the state dict, but the buffer has shape \(3,\)"),
        (
            lambda sd: sd.__setitem__("count", np.array(2.5)),
            r"count: the buffer holds integers \(int64\), but the state dict has fractional",
        ),
        (lambda sd: sd.__setitem__("norm.num_batches_tracked", np.array("x")), r"norm.num_batches_tracked: expected a real numeric array"),
    ],
)
def test_loading_is_all_or_nothing_with_buffers_too(edit, match):
    m = Ours()
    before = {k: v.copy() for k, v in m.state_dict().items()}
    sd = {k: v + 1 for k, v in m.state_dict().items()}  # every good entry would change the model
    edit(sd)
    with pytest.raises(ValueError, match=match) as e:
        m.load_state_dict(sd)
    assert "nothing was changed" in str(e.value)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_save_and_load_carry_buffers_and_their_dtypes(tmp_path):
    nn.manual_seed(0)
    a = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    for _ in range(3):
        a(np.random.default_rng(0).standard_normal((5, 3)))
    nn.save(a.state_dict(), tmp_path / "bn.npz")
    sd = nn.load(tmp_path / "bn.npz")
    assert list(sd) == list(a.state_dict()) and sd["1.num_batches_tracked"].dtype == np.int64
    b = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    b.load_state_dict(sd)
    assert int(b[1].num_batches_tracked) == 3
    a.eval(), b.eval()
    x = np.ones((2, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: m.register_buffer(1, np.zeros(1)), TypeError, "the buffer name must be a str"),
        (lambda m: m.register_buffer("a.b", np.zeros(1)), KeyError, "must be non-empty and contain no '.'"),
        (lambda m: m.register_buffer("", np.zeros(1)), KeyError, "must be non-empty"),
        (lambda m: m.register_buffer("scale", np.zeros(1)), KeyError, "already has an attribute 'scale' that is not a buffer"),
        (
            lambda m: m.register_buffer("b", [1.0, 2.0]),
            TypeError,
            r"cannot assign list as buffer 'b' of Ours \(a numpy array or None expected\)",
        ),
        (lambda m: m.register_buffer("b", Value(1.0)), TypeError, r"a buffer is not trained: pass its .data"),
        (lambda m: m.register_buffer("b", np.array(["x"])), TypeError, "must be a real numeric array, got dtype <U1"),
        (lambda m: setattr(m, "mask", 3), TypeError, "cannot assign int as buffer 'mask'"),
        (lambda m: setattr(m, "mask", nn.Parameter(np.ones(3))), TypeError, "cannot assign Value as buffer 'mask'"),
    ],
)
def test_bad_buffers_are_refused(call, error, match):
    m = Ours()
    with pytest.raises(error, match=match):
        call(m)
    assert list(m.state_dict()) == list(Ours().state_dict())
