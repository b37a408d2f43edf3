"""Embedding and F.embedding: against PyTorch (float64), the gradient's row sums against np.add.at on both of
its paths, finite differences (second order too), initialisation and seeds, float32, the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

import nn
import nn.functional as F
from autograd import Value, gradcheck, gradgradcheck
from nn.embedding import _row_sums

from .strategies import embedding_args
from .torch_parity import compare, compare_module, load_both_ways


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("indices", [[[0, 4, 1], [1, 1, 3]], [2, 2, 2, 0], 3, []], ids=["2-d repeats", "1-d repeats", "0-d", "empty"])
def test_embedding_matches_pytorch(indices, padding_idx):
    ours, theirs = nn.Embedding(5, 3, padding_idx=padding_idx), torch.nn.Embedding(5, 3, padding_idx=padding_idx).double()
    assert repr(ours) == repr(theirs)
    load_both_ways(ours, theirs)
    idx = np.array(indices, dtype=np.int64)
    compare_module(ours, theirs, idx)  # (an integer input: only the weight's gradient)


@settings(max_examples=20)
@given(embedding_args())
def test_functional_embedding_matches_pytorch_and_finite_differences(drawn):
    (table,), kw = drawn
    idx, pad = kw["indices"], kw["padding_idx"]
    compare(lambda w: F.embedding(idx, w, pad), lambda w: torch.nn.functional.embedding(torch.from_numpy(idx), w, pad), [table])
    # (finite differences without padding_idx: its row's gradient is 0 by design, not the derivative)
    assert gradcheck(lambda w: F.embedding(idx, w) ** 2, table)
    assert gradgradcheck(lambda w: F.embedding(idx, w) ** 2, table)


@pytest.mark.parametrize("rows, n", [(7, 50), (1000, 20)], ids=["most rows hit", "few of many rows"])
def test_row_sums_add_repeats_like_add_at(rows, n):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, min(rows, 9), n)  # many repeats
    g = rng.standard_normal((n, 4))
    expected = np.zeros((rows, 4))
    np.add.at(expected, idx, g)
    np.testing.assert_allclose(_row_sums(idx, g, rows), expected, rtol=1e-13, atol=1e-14)


def test_repeated_indices_add_up_and_the_padding_row_gets_nothing():
    emb = nn.Embedding(4, 2, padding_idx=1)
    emb.weight.data = np.arange(8.0).reshape(4, 2)
    y = emb([[0, 1, 0], [1, 3, 0]])
    np.testing.assert_array_equal(y.data[0, 1], [2.0, 3.0])  # the padding row is looked up as it is
    y.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad, [[3, 3], [0, 0], [0, 0], [1, 1]])
    opt = nn.optim.SGD(emb.parameters(), lr=1.0)
    emb.weight.data[1] = 0.0
    opt.step()
    assert (emb.weight.data[1] == 0).all()  # so it stays 0 in training


def test_initial_weights_are_standard_normal_seeded_by_manual_seed():
    nn.manual_seed(7)
    a = nn.Embedding(300, 40, padding_idx=5)
    nn.manual_seed(7)
    b = nn.Embedding(300, 40, padding_idx=5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert (a.weight.data[5] == 0).all()
    w = np.delete(a.weight.data, 5, axis=0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    assert not np.array_equal(nn.Embedding(300, 40, rng=1).weight.data, a.weight.data)
    assert a.weight.dtype == np.float64 and [n for n, _ in a.named_parameters()] == ["weight"]


def test_indices_as_lists_arrays_and_whole_number_values():
    emb = nn.Embedding(5, 2, rng=0)
    expected = emb.weight.data[[1, 4]]
    for idx in ([1, 4], np.array([1, 4], dtype=np.int32), np.array([1, 4], dtype=np.uint8), Value([1.0, 4.0])):
        np.testing.assert_array_equal(emb(idx).data, expected)
    assert emb(np.zeros((2, 0, 3), dtype=int)).shape == (2, 0, 3, 2)


def test_float32_table_gives_float32_output_and_gradient():
    w = Value(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    y = F.embedding([[1, 2], [2, 2]], w)
    (y * y).sum().backward()
    assert y.dtype == np.float32 and w.grad.dtype == np.float32


def test_from_pretrained_copies_and_freezes():
    table = np.arange(6.0).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    table[0, 0] = 99
    assert emb.weight.data[0, 0] == 0 and not emb.weight.requires_grad
    assert [n for n, _ in emb.named_parameters()] == ["weight"]  # frozen, still a parameter
    assert nn.Embedding.from_pretrained(table, freeze=False, padding_idx=2).weight.requires_grad


@pytest.mark.parametrize(
    "indices, error, match",
    [
        (
            [[0, 5]],
            IndexError,
            r"Embedding\(5, 2\): index 5 at position \(0, 1\) is out of range for a table of 5 rows \(indices must be in \[0, 4\]\)",
        ),
        ([-1], IndexError, r"index -1 at position \(0,\) is out of range for a table of 5 rows"),
        (
            np.array([1.0, 2.0]),
            TypeError,
            r"Embedding\(5, 2\): indices must be an integer array, got dtype float64 \(convert with .astype\(int\)\)",
        ),
        ([0.5], TypeError, "indices must be an integer array, got dtype float64"),
        ([True, False], TypeError, "got dtype bool"),
        (Value([0.5]), TypeError, "indices must be integers, got a Value holding non-integer values"),
        (np.array(["a"]), TypeError, "got dtype <U1"),
    ],
)
def test_bad_indices_are_refused_with_the_layer_and_the_table_size(indices, error, match):
    emb = nn.Embedding(5, 2)
    with pytest.raises(error, match=match):
        emb(indices)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nn.Embedding(0, 2), "num_embeddings must be a positive int"),
        (lambda: nn.Embedding(3, 2.0), "embedding_dim must be a positive int"),
        (lambda: nn.Embedding(3, 2, padding_idx=3), r"padding_idx must be an int in \[-3, 2\]"),
        (lambda: nn.Embedding(3, 2, padding_idx=-4), r"padding_idx must be an int in \[-3, 2\]"),
        (lambda: F.embedding([0], np.ones(3)), r"weight must be a 2-D table \(num_embeddings, embedding_dim\), got shape \(3,\)"),
        (lambda: F.embedding([0], np.ones((3, 2)), padding_idx=9), "padding_idx must be an int"),
    ],
)
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_functional_error_names_the_function():
    with pytest.raises(IndexError, match=r"^embedding: index 3 at position \(1,\) is out of range for a table of 3 rows"):
        F.embedding([0, 3], np.ones((3, 2)))
