"""Files: weights load without ever unpickling, bad files are refused clearly, saving is atomic."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import nn


class _Armed:
    """Unpickling this creates `path`: proof that code from the file ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _crafted_npz(path, marker) -> None:
    """A real .npz whose entry 'weight' is a pickled object array that runs code when unpickled."""
    buf = io.BytesIO()
    np.save(buf, np.array([_Armed(str(marker))], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("weight.npy", buf.getvalue())


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything calls pickle's loaders."""

    def refuse(*a, **k):
        raise AssertionError("pickle was used while loading")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_round_trip(tmp_path):
    model = nn.MLP(3, [4, 2], rng=0)
    path = tmp_path / "w.npz"
    nn.save(model.state_dict(), path)
    other = nn.MLP(3, [4, 2], rng=1)
    other.load_state_dict(nn.load(path))
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=k)


def test_crafted_file_is_armed_but_cannot_run_code(tmp_path, monkeypatch):
    # Control: numpy with allow_pickle=True really does run the file's code.
    armed, control_marker = tmp_path / "control.npz", tmp_path / "control-ran"
    _crafted_npz(armed, control_marker)
    with np.load(armed, allow_pickle=True) as z:
        z["weight"]
    assert control_marker.exists()

    path, marker = tmp_path / "evil.npz", tmp_path / "evil-ran"
    _crafted_npz(path, marker)
    with pytest.raises(ValueError, match="pickled") as e:
        nn.load(path)
    assert "weight" in str(e.value) and str(path) in str(e.value)
    assert not marker.exists()

    # The same payload as a bare pickle file, and nn.load with pickle's loaders booby-trapped.
    raw = tmp_path / "evil-raw.npz"
    raw.write_bytes(pickle.dumps(_Armed(str(marker))))
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, lambda *a, **k: pytest.fail("pickle was used while loading"))
    for p in (path, raw):
        with pytest.raises(ValueError):
            nn.load(p)
    assert not marker.exists()


def test_npz_with_pickled_objects_is_refused(tmp_path, no_unpickling):
    path = tmp_path / "objects.npz"
    np.savez(path, weight=np.ones(2), meta=np.array([{"lr": 0.1}], dtype=object))
    with pytest.raises(ValueError, match=r"'meta'.*pickled"):
        nn.load(path)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -22])
def test_truncated_file_is_refused(tmp_path, keep, no_unpickling):
    path = tmp_path / "w.npz"
    nn.save(nn.MLP(3, [8, 2], rng=0).state_dict(), path)
    data = path.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:n])
    with pytest.raises(ValueError) as e:
        nn.load(path)
    msg = str(e.value)
    assert str(path) in msg and ("truncated" in msg or "not an .npz" in msg)


@pytest.mark.parametrize("content", [b"hello, not weights\n", b"\x93NUMPY garbage", b"PK\x03\x04 and nothing else"])
def test_non_archive_is_refused(tmp_path, content, no_unpickling):
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError) as e:
        nn.load(path)
    assert str(path) in str(e.value) and ("not an .npz" in str(e.value) or "truncated" in str(e.value))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file"):
        nn.load(tmp_path / "nope.npz")


@pytest.mark.parametrize("crash", [OSError("disk full"), KeyboardInterrupt()])
def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, monkeypatch, crash):
    path = tmp_path / "w.npz"
    good = nn.MLP(3, [4, 2], rng=0).state_dict()
    nn.save(good, path)
    good_bytes = path.read_bytes()
    real_write = np.lib.format.write_array
    calls = []

    def write_then_crash(fp, array, *a, **k):
        calls.append(1)
        if len(calls) == 2:  # the second entry: half of it is written, then the "crash"
            fp.write(b"\x00" * 100)
            raise crash
        return real_write(fp, array, *a, **k)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    newer = {k: np.asarray(v) + 1 for k, v in good.items()}
    with pytest.raises(type(crash)):
        nn.save(newer, path)
    monkeypatch.undo()
    assert len(calls) == 2
    assert path.read_bytes() == good_bytes  # the good file was never touched
    loaded = nn.load(path)
    for k in good:
        np.testing.assert_array_equal(loaded[k], np.asarray(good[k]))
    assert os.listdir(tmp_path) == ["w.npz"]  # and the half-written temporary file was removed


def test_save_refuses_objects_so_nothing_pickled_is_ever_written(tmp_path):
    with pytest.raises(TypeError, match="object"):
        nn.save({"meta": np.array([{"a": 1}], dtype=object)}, tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()
