"""The benchmark workloads compute the same losses as hand-written numpy, step for step, to 1e-12 in float64.

Small sizes and a few steps, so this is fast; speed itself is measured only by `python -m benchmarks`.
"""

from pathlib import Path

import numpy as np
import pytest

from benchmarks import workloads as W

TOL = 1e-12


def _steps(make, d, n):
    run = make(d)
    return [run() for _ in range(n)]


def _assert_same(ours, ref):
    ours, ref = np.array(ours), np.array(ref)
    assert np.all(np.isfinite(ref)) and len(ours) == len(ref)
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() <= TOL, f"losses differ: engine {ours}, numpy {ref} (max relative {rel.max():.2e})"


def test_w1_scalar_mlp_matches_numpy_and_learns():
    d = W.w1_data({"points": 12, "hidden": (4, 3)})
    ref = _steps(W.w1_numpy, d, 4)
    _assert_same(_steps(W.w1_engine, d, 4), ref)
    assert ref[-1] < ref[0]  # the steps really train: a wrong gradient would not lower the loss


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_w2_w3_tensor_mlp_matches_numpy(dtype):
    size = {"dims": (6, 9, 7, 4), "batch": 5, "batches": 2, "dtype": dtype, "lr": 0.5, "steps": 3}
    d = W.mlp_data(size)
    ref = _steps(W.mlp_numpy, d, 3)
    ours = _steps(W.mlp_engine, d, 3)
    if dtype == "float64":
        _assert_same(ours, ref)
    else:  # float32 stays float32 end to end, so agreement is to float32's precision
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    assert len(set(ref)) == 3  # different batches and updated weights: the losses move


def test_w3_keeps_float32_weights():
    size = {"dims": (6, 9, 4), "batch": 5, "batches": 1, "dtype": "float32", "lr": 0.1, "steps": 2}
    run = W.mlp_engine(W.mlp_data(size))
    run()
    model = run.model
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize("n", [1, 40])
def test_w4_chain_gradient_matches_numpy(n):
    d = W.w4_data({"n": n})
    _assert_same(_steps(W.w4_engine, d, 2), _steps(W.w4_numpy, d, 2))


def test_the_scalar_floor_computes_the_same_losses():
    """The floor (benchmarks/floor.py) is a fair reference only if it does the same work."""
    d = W.w1_data({"points": 12, "hidden": (4, 3)})
    _assert_same(_steps(W.w1_floor, d, 4), _steps(W.w1_numpy, d, 4))
    for n in (1, 40):
        d = W.w4_data({"n": n})
        _assert_same(_steps(W.w4_floor, d, 2), _steps(W.w4_numpy, d, 2))


def test_w5_matches_numpy():
    d = W.w5_data({"n": 50, "calls": 3})
    _assert_same(_steps(W.w5_engine, d, 2), _steps(W.w5_numpy, d, 2))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_w6_cnn_matches_numpy_and_learns(dtype):
    from benchmarks import cnn

    size = {"batch": 6, "image": 10, "channels": (1, 3, 4), "classes": 5, "batches": 2, "dtype": dtype, "lr": 0.5, "steps": 4}
    d = cnn.w6_data(size)
    ref = _steps(cnn.w6_numpy, d, 6)
    ours = _steps(cnn.w6_engine, d, 6)
    if dtype == "float64":
        _assert_same(ours, ref)
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    assert ref[4] < ref[2] < ref[0] and ref[5] < ref[3] < ref[1]  # the steps really train (two batches, alternating)
    run = cnn.w6_engine(d)
    run()
    assert all(p.data.dtype == np.dtype(dtype) and p.grad.dtype == np.dtype(dtype) for p in run.model.parameters())


def test_the_jit_runners_compute_numpys_losses():
    """W1, W2 and W5 under autograd.jit (traced on the first step, replayed after): numpy's losses, step for step."""
    d = W.w1_data({"points": 12, "hidden": (4, 3)})
    _assert_same(_steps(W.w1_jit, d, 4), _steps(W.w1_numpy, d, 4))
    size = {"dims": (6, 9, 7, 4), "batch": 5, "batches": 2, "dtype": "float64", "lr": 0.5, "steps": 4}
    d = W.mlp_data(size)
    _assert_same(_steps(W.mlp_jit, d, 4), _steps(W.mlp_numpy, d, 4))
    d = W.w5_data({"n": 50, "calls": 3})
    _assert_same(_steps(W.w5_jit, d, 2), _steps(W.w5_numpy, d, 2))


def test_every_workload_has_a_quick_size_and_both_implementations():
    for w in W.WORKLOADS:
        assert {"numpy", "engine"} <= set(w.impls), w.key
        assert w.units(w.quick) >= 1 and w.calls(w.quick) >= 1


def test_suite_writes_table_and_chart(tmp_path):
    from benchmarks.__main__ import main

    assert main(["--quick", "--no-peers", "--reps", "1", "--threads", "0", "--only", "W2,W5", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "results.md").read_text()
    assert "| W2 |" in md and "| W5 |" in md and "Machine:" in md
    png = Path(tmp_path / "ratios.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_suite_reports_the_scalar_floor_beside_the_engine(tmp_path):
    from benchmarks.__main__ import main

    assert main(["--quick", "--no-peers", "--reps", "1", "--threads", "0", "--only", "W4 N=1,000", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "results.md").read_text()
    assert "The floor for scalar graphs" in md and "W4 N=1,000 " in md.split("The floor for scalar graphs")[1]


# ---- engine properties the speed-ups rely on ------------------------------------------------------


def test_weight_gradient_of_x_at_w_transposed_is_exact_c_ordered_and_owned():
    from autograd import Value

    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    w, b = Value(rng.standard_normal((3, 4))), Value(rng.standard_normal(3))
    y = x @ w.T + b
    y.backward(np.ones((5, 3)))
    np.testing.assert_allclose(w.grad, np.ones((5, 3)).T @ x, rtol=1e-14)
    assert w.grad.flags.c_contiguous and w.grad.flags.writeable  # an SGD update walks it in w's order
    grads = [w.grad, b.grad, y.grad]
    w.grad[...] = 0  # editing one gradient in place changes no other
    assert np.all(grads[1] != 0) and np.all(grads[2] == 1)


def test_fan_out_and_kept_intermediate_gradients_never_share_memory():
    from autograd import Value

    a = Value(np.arange(3.0))
    s = a + a  # Add hands the same gradient to both inputs
    t = s * 1.0
    t.backward(np.ones(3))
    arrays = [a.grad, s.grad, t.grad]
    assert not any(np.shares_memory(p, q) for i, p in enumerate(arrays) for q in arrays[i + 1 :])
    np.testing.assert_array_equal(a.grad, 2.0)


def test_scalar_leaves_keep_their_0d_arrays_and_update_in_place():
    from autograd import Value

    w = Value(2.0)
    loss = (w * 3.0 + 1.0) * w
    loss.backward()
    assert type(w.data) is np.ndarray and w.data.shape == () and float(w.grad) == 2 * 3.0 * 2.0 + 1.0
    d = w.data
    d -= 0.5 * w.grad  # an optimizer's in-place update reaches the leaf
    assert float(w.data) == 2.0 - 0.5 * 13.0
