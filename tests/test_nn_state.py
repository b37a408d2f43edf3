"""nn.save / nn.load: round trip through a file, atomic writes, and files that are refused without running code."""

import os
import pickle
import zipfile

import numpy as np
import pytest

import nn


def test_round_trip_through_a_file(tmp_path):
    a, b = nn.MLP(3, [5, 2], rng=0), nn.MLP(3, [5, 2], rng=1)
    path = tmp_path / "model.npz"
    nn.save(a.state_dict(), path)
    sd = nn.load(path)
    assert list(sd) == list(a.state_dict())
    b.load_state_dict(sd)
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_path_is_used_as_given_and_float32_kept(tmp_path):
    nn.save({"w": np.ones(3, dtype=np.float32), "n": 3}, tmp_path / "weights")
    assert os.listdir(tmp_path) == ["weights"]  # no ".npz" appended, no temporary file left behind
    sd = nn.load(str(tmp_path / "weights"))
    assert sd["w"].dtype == np.float32 and sd["n"] == 3


def test_keys_named_like_savez_arguments_are_fine(tmp_path):
    nn.save({"file": np.ones(1), "allow_pickle": np.zeros(1)}, tmp_path / "w.npz")
    assert set(nn.load(tmp_path / "w.npz")) == {"file", "allow_pickle"}


def test_load_into_wrong_model_leaves_it_unchanged(tmp_path):
    nn.save(nn.MLP(3, [5, 2], rng=0).state_dict(), tmp_path / "m.npz")
    other = nn.MLP(3, [4, 2], rng=1)
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"layers.0.weight: shape \(5, 3\) in the state dict, but the parameter has shape \(4, 3\)"):
        other.load_state_dict(nn.load(tmp_path / "m.npz"))
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_save_refuses_objects_and_bad_keys(tmp_path):
    with pytest.raises(TypeError, match="entry 'w' has dtype object"):
        nn.save({"w": np.array([{"a": 1}], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="key must be a non-empty str"):
        nn.save({1: np.ones(1)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="mapping"):
        nn.save([np.ones(1)], tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nn.save({"w": np.ones(1)}, tmp_path / "nope" / "x.npz")
    assert os.listdir(tmp_path) == []


class _Payload:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_crafted_pickle_npz_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned.txt"
    evil = tmp_path / "evil.npz"
    np.savez(evil, weight=np.array([_Payload(marker)], dtype=object))  # numpy pickles object arrays
    with pytest.raises(ValueError, match="entry 'weight' .* holds pickled Python objects; refused"):
        nn.load(evil)
    assert not marker.exists()
    # control: the file really is dangerous when unpickled
    with np.load(evil, allow_pickle=True) as f:
        f["weight"]
    assert marker.read_text() == "pwned"


def test_raw_pickle_and_pickle_inside_a_zip_are_refused(tmp_path):
    marker = tmp_path / "pwned.txt"
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="is not an .npz archive"):
        nn.load(raw)
    member = tmp_path / "member.npz"
    with zipfile.ZipFile(member, "w") as z:
        z.writestr("weight.npy", pickle.dumps(_Payload(marker)))  # not npy format: numpy would hand back raw bytes
    with pytest.raises(ValueError, match="entry 'weight' .* is not a .npy array"):
        nn.load(member)
    assert not marker.exists()


def test_truncated_corrupt_and_missing_files_are_refused(tmp_path):
    good = tmp_path / "good.npz"
    nn.save(nn.MLP(3, [50, 2], rng=0).state_dict(), good)
    data = good.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        nn.load(cut)
    flipped = bytearray(data)
    flipped[300:340] = bytes(40)  # inside the first array's bytes: the zip CRC check fails
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt or truncated"):
        nn.load(bad)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an .npz archive"):
        nn.load(text)
    with pytest.raises(FileNotFoundError, match="no file at"):
        nn.load(tmp_path / "missing.npz")


def test_crash_mid_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = nn.MLP(2, [3, 1], rng=0).state_dict()
    nn.save(old, path)
    before = path.read_bytes()
    calls = []

    def exploding_write_array(fp, array, *args, **kwargs):
        calls.append(1)
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", exploding_write_array)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.MLP(2, [3, 1], rng=1).state_dict(), path)
    assert calls and path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]  # the temporary file was removed
    monkeypatch.undo()
    for k, v in nn.load(path).items():
        np.testing.assert_array_equal(v, old[k])


def test_save_replaces_atomically_with_os_replace(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    nn.save({"w": np.zeros(2)}, path)
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), str(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    nn.save({"w": np.ones(2)}, path)
    assert seen == [(str(tmp_path), str(path))]  # written beside the destination, then renamed over it
    np.testing.assert_array_equal(nn.load(path)["w"], [1.0, 1.0])


def test_tied_modules_are_in_the_state_dict_under_every_name_as_in_pytorch():
    lin = nn.Linear(2, 2, rng=0)
    seq = nn.Sequential(lin, nn.Tanh(), lin)  # one Linear used twice
    sd = seq.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # torch.nn.Sequential(l, Tanh(), l).state_dict()
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]  # parameters: each once
    fresh_lin = nn.Linear(2, 2, rng=1)
    fresh = nn.Sequential(fresh_lin, nn.Tanh(), fresh_lin)
    assert fresh.load_state_dict(sd) == ([], [])
    np.testing.assert_array_equal(fresh_lin.weight.data, lin.weight.data)
    fresh.load_state_dict({"0.weight": sd["0.weight"] * 2, "0.bias": sd["0.bias"]})  # one name of each is enough
    np.testing.assert_array_equal(fresh_lin.weight.data, 2 * lin.weight.data)
    clash = dict(sd, **{"2.weight": sd["0.weight"] + 1})
    with pytest.raises(ValueError, match=r"2.weight: the same parameter as 0.weight \(tied\), but a different array"):
        fresh.load_state_dict(clash)
    np.testing.assert_array_equal(fresh_lin.weight.data, 2 * lin.weight.data)  # nothing changed
