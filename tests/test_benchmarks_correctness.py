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


def test_w5_matches_numpy():
    d = W.w5_data({"n": 50, "calls": 3})
    _assert_same(_steps(W.w5_engine, d, 2), _steps(W.w5_numpy, d, 2))


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
