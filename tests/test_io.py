import json

import numpy as np
import pytest

from mlreview.io import atomic_path, load_json, load_npz, save_json, save_npz, to_jsonable


def test_npz_roundtrip_and_no_pickle(tmp_path):
    path = tmp_path / "sub" / "a.npz"
    save_npz(path, x=np.arange(5), names=np.array(["a", "b"]))
    data = load_npz(path)
    assert data["x"].tolist() == [0, 1, 2, 3, 4]
    assert data["names"].tolist() == ["a", "b"]
    with pytest.raises(TypeError, match="dtype object"):
        save_npz(tmp_path / "b.npz", bad=np.array([{"a": 1}], dtype=object))


def test_json_converts_numpy_and_nonfinite(tmp_path):
    path = tmp_path / "m.json"
    save_json(path, {"a": np.float64(1.5), "b": np.arange(3), "c": float("nan"), 4: np.bool_(True)})
    assert load_json(path) == {"a": 1.5, "b": [0, 1, 2], "c": None, "4": True}
    assert json.loads(path.read_text())["b"] == [0, 1, 2]
    assert to_jsonable((np.int32(3),)) == [3]


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_written_files_are_readable_by_others(tmp_path):
    import os
    import stat

    save_json(tmp_path / "m.json", {"a": 1})
    mode = stat.S_IMODE(os.stat(tmp_path / "m.json").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
