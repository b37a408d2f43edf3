"""Every example runs on its small setting and writes its files; the course's numbers are checked.

Examples are found the way `python -m examples` finds them, so a new example is run here the
moment it exists. Each is run once per session (quick=True, into a temp folder) and its result
shared by the tests of its numbers.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from examples.__main__ import discover  # noqa: E402

NAMES = discover()
_PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def run_example(tmp_path_factory):
    """run_example(name) -> (result dict, out_dir, printed text), each example run once."""
    cache: dict[str, tuple[dict, Path, str]] = {}

    def run(name: str, capsys=None) -> tuple[dict, Path, str]:
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            result = importlib.import_module(f"examples.{name}").main(out, quick=True)
            printed = capsys.readouterr().out if capsys is not None else ""
            cache[name] = (result, out, printed)
        return cache[name]

    return run


def _example(run_example, capsys, prefix: str) -> tuple[dict, Path, str]:
    names = [n for n in NAMES if n.startswith(prefix)]
    assert names, f"no example module examples/{prefix}*.py"
    return run_example(names[0], capsys)


def test_course_examples_exist():
    for prefix in ("01_", "02_", "03_", "04_"):
        assert any(n.startswith(prefix) for n in NAMES), f"examples/{prefix}*.py is missing"


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_and_writes_its_files(name, run_example, capsys):
    result, out, _ = run_example(name, capsys)
    assert isinstance(result, dict), f"{name}.main must return a dict of the numbers it shows"
    files = sorted(p for p in out.rglob("*") if p.is_file())
    if name != "00_demo":  # the demo only prints
        assert files, f"{name} wrote no files into {out}"
    for p in files:
        data = p.read_bytes()
        assert len(data) > 100, f"{name} wrote an (almost) empty file {p.name}"
        if p.suffix == ".png":
            assert data.startswith(_PNG), f"{p.name} is not a PNG"
    for f in result.get("files", []):
        assert (out / f).is_file(), f"{name} says it wrote {f}, but it is not in {out}"


# ---- example 1: gradient descent on a line ---------------------------------------------------


def test_gradient_descent_converges_to_two(run_example, capsys):
    r, _, printed = _example(run_example, capsys, "01_")
    rows = r["rows"]
    assert rows[0]["w"] == 0.2
    assert abs(r["w_final"] - 2) < 1e-6
    # As the notes say: the biggest drop of J at the first iteration, then smaller and smaller steps
    drops = [rows[i]["J"] - rows[i + 1]["J"] for i in range(len(rows) - 1)]
    assert all(d > 0 for d in drops)
    assert drops[0] == max(drops) and drops[0] > 0.5 * rows[0]["J"]
    steps = [abs(row["step"]) for row in rows]
    assert all(a > b for a, b in zip(steps, steps[1:]))
    assert all(row["w"] < 2 for row in rows)  # approaches from one side, never overshoots
    assert 0 < r["factor"] < 1
    assert "dJ/dw" in printed and "w = 1.99999" in printed


def test_gradient_descent_gradient_is_the_engines(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "01_")
    x = r["x"]
    for row in r["rows"][:5]:
        exact = -2 * np.sum(x * (2 * x - row["w"] * x))
        assert math.isclose(row["dJdw"], exact, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(row["step"], -0.4 * row["dJdw"], rel_tol=1e-12)


def test_gradient_descent_warnings(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "01_")
    big, small = r["big_rows"], r["small_rows"]
    dist_big = [abs(row["w"] - 2) for row in big]
    assert all(b > a for a, b in zip(dist_big, dist_big[1:])), "the large learning rate must move away from w = 2 every step"
    assert dist_big[-1] > 10 * dist_big[0]
    signs = [np.sign(row["w"] - 2) for row in big]
    assert any(a != b for a, b in zip(signs, signs[1:])), "the large learning rate overshoots the minimum"
    dist_small = [abs(row["w"] - 2) for row in small]
    assert all(b < a for a, b in zip(dist_small, dist_small[1:]))
    assert dist_small[-1] > 0.5, "the small learning rate still crawls far from the minimum"


# ---- example 2: backpropagation in a two-neuron network --------------------------------------


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_backprop_forward_values(run_example, capsys):
    r, _, printed = _example(run_example, capsys, "02_")
    assert "z1 = 0.415000" in printed and "a2 = 0.715252" in printed
    f = r["forward"]
    z1 = 0.15 * 0.1 + 0.4
    a1 = _sig(z1)
    z2 = 0.45 * a1 + 0.65
    a2 = _sig(z2)
    for k, v in {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "E": 0.5 * (0.25 - a2) ** 2}.items():
        assert math.isclose(f[k], v, rel_tol=1e-12), k
    # the course's rounded numbers
    assert round(f["z1"], 3) == 0.415 and round(f["a1"], 4) == 0.6023
    assert round(f["z2"], 4) == 0.9210 and round(f["a2"], 4) == 0.7153 and round(f["E"], 4) == 0.1082


def test_backprop_engine_agrees_with_formulas(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "02_")
    eng, form = r["engine_grads"], r["formula_grads"]
    assert set(eng) == set(form) == {"w1", "b1", "w2", "b2"}
    for k in eng:
        assert abs(eng[k] - form[k]) < 1e-12, (k, eng[k], form[k])
    # formulas written out independently here
    f = r["forward"]
    a1, a2 = f["a1"], f["a2"]
    d2 = -(0.25 - a2) * a2 * (1 - a2)
    expected = {"w2": d2 * a1, "b2": d2, "w1": d2 * 0.45 * a1 * (1 - a1) * 0.1, "b1": d2 * 0.45 * a1 * (1 - a1)}
    for k, v in expected.items():
        assert abs(eng[k] - v) < 1e-12, k


def test_backprop_updated_parameters(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "02_")
    u, g = r["updated"], r["engine_grads"]
    start = {"w1": 0.15, "b1": 0.4, "w2": 0.45, "b2": 0.65}
    for k in start:
        assert math.isclose(u[k], start[k] - 0.4 * g[k], rel_tol=1e-12)
    # the course's numbers after one step
    assert (round(u["w2"], 4), round(u["b2"], 4), round(u["w1"], 4), round(u["b1"], 4)) == (0.4272, 0.6121, 0.1496, 0.3959)


def test_backprop_training_reduces_error(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "02_")
    e = r["errors"]
    assert e[-1] < 1e-3 * e[0]
    assert all(b <= a for a, b in zip(e, e[1:]))


# ---- example 3: the vanishing gradient ---------------------------------------------------------


def test_vanishing_gradient_ordering(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "03_")
    norms = {k: np.asarray(v, dtype=float) for k, v in r["layer_grad_norms"].items()}
    assert set(norms) >= {"sigmoid", "tanh", "relu"}
    sig = norms["sigmoid"]
    assert len(sig) >= 11, "at least ten hidden layers (plus the output layer)"
    assert np.all(np.isfinite(sig)) and np.all(sig > 0)
    # sigmoid: earlier layers get smaller gradients, the first layer the smallest of all
    assert sig[0] == sig.min()
    assert sig[0] < 1e-3 * sig[-1]
    assert np.all(np.diff(np.log(sig[:-1])) > 0), "sigmoid's gradient norms grow from input to output"
    for other in ("tanh", "relu"):
        assert sig[0] < norms[other][0], f"sigmoid's first layer must get a smaller gradient than {other}'s"
    assert r["sigmoid_derivative_max"] <= 0.25


def test_vanishing_gradient_training_curves(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "03_")
    curves, var = r["losses"], r["target_variance"]
    for k in ("sigmoid", "tanh", "relu"):
        assert len(curves[k]) >= 2 and np.all(np.isfinite(curves[k]))
    # the deep sigmoid network learns nothing beyond predicting the mean; tanh and ReLU do
    assert min(curves["sigmoid"]) > 0.99 * var
    assert curves["tanh"][-1] < curves["sigmoid"][-1] and curves["relu"][-1] < 0.75 * var
    # earlier layers learn slower: the sigmoid network's first layers barely move
    moved = np.asarray(r["weight_change"]["sigmoid"])
    assert moved[:3].max() < 1e-4 * moved[-1]


def test_vanishing_gradient_chain_picture(run_example, capsys):
    r, out, _ = _example(run_example, capsys, "03_")
    g = r["chain_weight_grads"]
    assert len(g) >= 5 and all(a < b for a, b in zip(g, g[1:])), "|dE/dw| grows from the input neuron to the output neuron"
    assert (out / "03_sigmoid_graph_by_grad.png").read_bytes().startswith(_PNG)


# ---- example 4: the activation functions ---------------------------------------------------------


def test_activation_ranges(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "04_")
    fn = r["functions"]
    assert set(fn) == {"sigmoid", "tanh", "ReLU", "softmax", "binary step", "linear", "leaky ReLU"}
    s, t, re, sm = fn["sigmoid"], fn["tanh"], fn["ReLU"], fn["softmax"]
    assert s["range"] == "(0, 1)" and 0 < s["min"] < s["max"] < 1
    assert t["range"] == "(-1, 1)" and -1 < t["min"] < 0 < t["max"] < 1
    assert re["range"] == "[0, inf)" and re["min"] == 0 and re["max"] > 0
    assert sm["range"].startswith("(0, 1)") and 0 < sm["min"] < sm["max"] < 1
    assert set(np.unique(fn["binary step"]["y"])) == {0.0, 1.0}
    assert fn["linear"]["min"] < 0 < fn["linear"]["max"]
    assert fn["leaky ReLU"]["min"] < 0 < fn["leaky ReLU"]["max"]
    p = r["softmax_probs"]
    assert np.all(p > 0) and abs(p.sum() - 1) < 1e-12


def test_activation_derivatives_are_the_engines(run_example, capsys):
    r, _, _ = _example(run_example, capsys, "04_")
    z, fn = r["grid"], r["functions"]
    sig = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(fn["sigmoid"]["dy"], sig * (1 - sig), atol=1e-15)
    assert abs(fn["sigmoid"]["dmax"] - 0.25) < 1e-12  # z = 0 is on the grid
    np.testing.assert_allclose(fn["tanh"]["dy"], 1 - np.tanh(z) ** 2, atol=1e-12)
    np.testing.assert_array_equal(fn["ReLU"]["dy"], (z > 0).astype(float))
    np.testing.assert_array_equal(fn["binary step"]["dy"], 0.0)
    np.testing.assert_array_equal(fn["linear"]["dy"], 1.0)
    assert fn["leaky ReLU"]["dmin"] > 0
    p = r["softmax_probs"]
    np.testing.assert_allclose(r["softmax_grad"], p[0] * (np.eye(len(p))[0] - p), atol=1e-15)


# ---- example 10: the course's scalar network under autograd.jit ---------------------------------------


def test_jit_scalar_net_replays_eagers_numbers_and_learns(run_example, capsys):
    r, _, printed = _example(run_example, capsys, "10_")
    assert r["max_rel_diff"] <= 1e-12, "jit's losses and weights are eager's"
    losses = r["losses"]
    assert np.mean(losses[-5:]) < 0.6 * losses[0], "the network learns under jit"
    assert r["jit_forward_backward_ms"] > 0 and r["update_ms"] > 0
    assert "faster than eager" in printed and "first call" in printed


# ---- the pictures of the README and docs are the examples' ------------------------------------------------------


def test_documented_pictures_exist_and_come_from_examples(run_example, capsys):
    import re

    root = Path(__file__).resolve().parent.parent
    text = "\n".join(p.read_text() for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))])
    refs = sorted(set(re.findall(r"images/([\w.-]+\.png)", text)))
    assert refs, "the README and docs show no pictures"
    written = set()
    for name in NAMES:
        _, out, _ = run_example(name, capsys)
        written |= {p.name for p in out.rglob("*.png")}
    for ref in refs:
        path = root / "docs" / "images" / ref
        assert path.is_file() and path.read_bytes().startswith(_PNG), f"README shows docs/images/{ref}, which is missing"
        assert ref in written, f"docs/images/{ref} is not a picture any example writes (copy it from a real run)"


def test_the_run_script_explains_itself_and_names_an_unknown_command():
    import subprocess

    run = Path(__file__).resolve().parent.parent / "run"
    ok = subprocess.run(["bash", str(run), "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "./run examples" in ok.stdout and "./run test" in ok.stdout
    bad = subprocess.run(["bash", str(run), "tset"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'tset'" in bad.stderr and "./run test" in bad.stderr
