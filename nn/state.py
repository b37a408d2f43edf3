"""Saving and loading weights as `.npz` archives: written atomically, read without ever unpickling."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Value

__all__ = ["save", "load"]


def save(state_dict: Any, path: str | os.PathLike) -> None:
    """Write {name: array} (e.g. `model.state_dict()`) to `path` as an uncompressed .npz archive.

    The file is written beside its destination under a temporary name and then renamed over it
    (os.replace), so a crash mid-save leaves the old file intact, never a broken one. The path is
    used exactly as given (no ".npz" is appended). Only real numeric arrays are accepted, so the
    archive never holds pickled objects.
    """
    if not hasattr(state_dict, "items"):
        raise TypeError(f"save needs a mapping of name -> array (e.g. model.state_dict()), got {type(state_dict).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for k, v in state_dict.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"save: every key must be a non-empty str, got {k!r}")
        a = np.asarray(v.data if isinstance(v, Value) else v)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"save: entry {k!r} has dtype {a.dtype}; only real numeric arrays can be saved (no objects, no pickles)")
        arrays[k] = a
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"save: the folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            # The layout np.savez writes, done by hand so no key can collide with savez's own arguments.
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for k, a in arrays.items():
                    with zf.open(k + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, a, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)  # mkstemp made it 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file written by `save` into {name: array}, with allow_pickle=False.

    Refuses, with a ValueError naming the file and the problem, anything that is not such an
    archive: a non-zip file, a truncated or corrupt one, an entry holding pickled objects
    (nothing is unpickled, so no code from the file can run) or an entry that is not an array.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {str(path)!r}")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"PK\x03\x04":
            raise ValueError(f"load: {str(path)!r} is a truncated or corrupt .npz archive (its zip directory is missing)")
        raise ValueError(f"load: {str(path)!r} is not an .npz archive (not a zip file); was it written by nn.save?")
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in npz.files:
                try:
                    a = npz[name]
                except ValueError as e:
                    if "allow_pickle" in str(e) or "Object arrays" in str(e):
                        raise ValueError(f"load: entry {name!r} of {str(path)!r} holds pickled Python objects; refused (loading never unpickles)") from None
                    raise
                if not isinstance(a, np.ndarray):
                    raise ValueError(f"load: entry {name!r} of {str(path)!r} is not a .npy array (raw bytes); refused")
                if a.dtype.kind not in "biuf":
                    raise ValueError(f"load: entry {name!r} of {str(path)!r} has dtype {a.dtype}, not a real numeric array; refused")
                out[name] = a
    except ValueError as e:
        if str(e).startswith("load: "):
            raise
        raise ValueError(f"load: {str(path)!r} is corrupt or truncated ({type(e).__name__}: {e})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        raise ValueError(f"load: {str(path)!r} is corrupt or truncated ({type(e).__name__}: {e})") from None
    return out
