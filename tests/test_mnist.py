"""MNIST: the real canonical files (through the offline mirror) -> .npz, the IDX reader's
errors on damaged files, the loader, and the Fig 26 step."""

from __future__ import annotations

import copy
import gzip
import socket
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlreview import cli
from mlreview.steps import registry
from mlreview.data import fetch as F
from mlreview.data import mnist as M
from mlreview.io import load_json, load_npz

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
HAVE_MIRROR = all((MIRROR / "mnist" / name).is_file() for name, _ in M.FILES.values())
needs_mirror = pytest.mark.skipif(
    not HAVE_MIRROR, reason=f"the offline MNIST mirror {MIRROR / 'mnist'} is missing (see shared/data/README.md)"
)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _step_name(target: str) -> str | None:
    """The CLI step registered for a function, if the lead has registered it."""
    return next((name for name, t in registry().items() if t == target), None)


def run(target: str, params: dict, inputs: dict, outputs: dict) -> dict | None:
    """Run a step through the CLI's run_step when registered, else call the function."""
    name = _step_name(target)
    if name is not None:
        return cli.run_step(name, params, inputs=inputs, outputs=outputs)
    module, _, func = target.partition(":")
    import importlib

    return getattr(importlib.import_module(module), func)(params, **inputs, **outputs)


@pytest.fixture(scope="module")
def paper() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["mnist"]


@pytest.fixture(scope="module")
def prepared(paper, tmp_path_factory):
    """prepare_step once per session: the real files from the mirror (no network: the URLs
    point at a closed local port)."""
    if not HAVE_MIRROR:
        pytest.skip(f"the offline MNIST mirror {MIRROR / 'mnist'} is missing")
    out = tmp_path_factory.mktemp("mnist")
    params = copy.deepcopy(paper)
    params.update(urls=[_closed_port_url()], cache_dir=str(out / "cache"), mirror=str(MIRROR))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(F.ENV_MIRROR, raising=False)
        metrics = run("mlreview.data.mnist:mnist_prepare", params, {},
                      {"npz": out / "mnist.npz", "metrics": out / "prepare.json"})
    return {"params": params, "npz": out / "mnist.npz", "metrics": metrics, "dir": out}


@needs_mirror
def test_prepare_writes_the_standard_split(prepared, paper):
    data = load_npz(prepared["npz"])
    assert sorted(data) == sorted(M.FILES)
    assert data["x_train"].shape == (60000, 28, 28) and data["x_test"].shape == (10000, 28, 28)
    assert data["y_train"].shape == (60000,) and data["y_test"].shape == (10000,)
    assert all(a.dtype == np.uint8 for a in data.values())
    assert data["y_train"].max() == 9 and data["y_test"].min() == 0
    m = prepared["metrics"]
    assert (m["n_train"], m["n_test"], m["n_total"]) == (60000, 10000, 70000)
    assert m["image_shape"] == [28, 28] and m["dtype"] == "uint8"
    assert (m["pixel_min"], m["pixel_max"], m["n_classes"]) == (0, 255, 10)
    assert sum(m["class_counts"]["train"].values()) == 60000
    assert m["class_counts"]["test"]["digit_1"] == int((data["y_test"] == 1).sum())
    assert m["all_sha256_verified"]
    for name, info in m["files"].items():
        assert info["source"] == "mirror" and info["sha256"] == paper["files"][name]
    assert not (prepared["dir"] / "cache").exists()  # the mirror is read in place
    if _step_name("mlreview.data.mnist:mnist_prepare"):
        assert load_json(prepared["dir"] / "prepare.json")["metrics"]["n_total"] == 70000


@needs_mirror
def test_load_mnist_scaling(prepared):
    raw = M.load_mnist(prepared["npz"])
    scaled = M.load_mnist(prepared["npz"], scale=True)
    assert scaled["x_train"].dtype == np.float32 and scaled["y_train"].dtype == np.uint8
    assert scaled["x_test"].min() == 0.0 and scaled["x_test"].max() == 1.0
    np.testing.assert_allclose(scaled["x_test"][3] * 255.0, raw["x_test"][3], atol=1e-4)


@needs_mirror
def test_fig26_step(prepared, paper, tmp_path):
    params = {**paper["fig26"], **{k: paper[k] for k in ("n_train", "n_test", "image_shape", "n_classes")}}
    metrics = run("mlreview.data.mnist:fig26_select", params, {"npz": prepared["npz"]},
                  {"data": tmp_path / "fig26.npz", "metrics": tmp_path / "fig26.json"})
    raw = M.load_mnist(prepared["npz"])
    data = load_npz(tmp_path / "fig26.npz")
    index = paper["fig26"]["index"]
    np.testing.assert_array_equal(data["image"], raw["x_train"][index])
    assert int(data["label"]) == int(raw["y_train"][index]) == metrics["label"]
    assert data["pixel_range"].tolist() == [0, 255]
    assert metrics["checks"] == {"n_train": True, "n_test": True, "image_shape": True,
                                 "pixels_integer_0_255": True, "n_classes": True, "all": True}
    assert metrics["checked"] == ["image_shape", "n_classes", "n_test", "n_train", "pixels_integer_0_255"]
    assert (metrics["n_total"], metrics["image_height"], metrics["image_width"]) == (70000, 28, 28)
    assert (metrics["pixel_min"], metrics["pixel_max"], metrics["n_classes"]) == (0, 255, 10)
    # Expected values that disagree with the data make the claim's check false.
    wrong = M.fig26_select(dict(params, n_classes=11), npz=prepared["npz"], data=tmp_path / "f.npz")
    assert wrong["checks"]["n_classes"] is False and wrong["checks"]["all"] is False
    # The fig26 section alone (index only): the data-only check is made.
    alone = M.fig26_select(paper["fig26"], npz=prepared["npz"], data=tmp_path / "g.npz")
    assert alone["checked"] == ["pixels_integer_0_255"] and alone["checks"]["all"] is True


# --- the IDX reader on damaged files (small synthetic files: no mirror needed) ------------

def _idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + payload


def test_read_idx_roundtrip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "imgs.gz"
    path.write_bytes(gzip.compress(_idx(M.MAGIC_IMAGES, (2, 3, 4), images.tobytes())))
    np.testing.assert_array_equal(M.read_idx(path, expected_magic=M.MAGIC_IMAGES), images)
    labels = tmp_path / "labels.gz"
    labels.write_bytes(gzip.compress(_idx(M.MAGIC_LABELS, (5,), bytes([0, 1, 2, 9, 4]))))
    assert M.read_idx(labels).tolist() == [0, 1, 2, 9, 4]
    with pytest.raises(F.DataFormatError, match="holds labels"):
        M.read_idx(labels, expected_magic=M.MAGIC_IMAGES)


def test_read_idx_truncated_gzip(tmp_path):
    whole = gzip.compress(_idx(M.MAGIC_IMAGES, (50, 28, 28), np.random.default_rng(0).bytes(50 * 784)))
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(F.DataFormatError, match="cut.gz.*truncated or corrupt"):
        M.read_idx(path)
    path.write_bytes(b"plain bytes, not gzip at all")
    with pytest.raises(F.DataFormatError, match="not a complete gzip file"):
        M.read_idx(path)


def test_read_idx_payload_shorter_or_longer_than_header(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(_idx(M.MAGIC_LABELS, (10,), bytes(7))))
    with pytest.raises(F.DataFormatError, match=r"short.gz: truncated.*10 bytes.*holds 7"):
        M.read_idx(path)
    path.write_bytes(gzip.compress(_idx(M.MAGIC_LABELS, (10,), bytes(12))))
    with pytest.raises(F.DataFormatError, match="longer than its header"):
        M.read_idx(path)


def test_read_idx_bad_magic(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(_idx(2052, (1, 2, 2), bytes(4))))
    with pytest.raises(F.DataFormatError, match="bad.gz: bad IDX magic number 2052"):
        M.read_idx(path)


@needs_mirror
def test_read_idx_truncated_real_file(tmp_path):
    real = (MIRROR / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(real[:-100])
    with pytest.raises(F.DataFormatError, match="t10k-labels-idx1-ubyte.gz"):
        M.read_idx(path)


def test_check_arrays_rejects_wrong_structure(paper):
    params = dict(paper, n_train=3, n_test=2)
    good = {
        "x_train": np.zeros((3, 28, 28), np.uint8), "y_train": np.array([0, 9, 1], np.uint8),
        "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.array([2, 3], np.uint8),
    }
    M.check_arrays(good, params)
    with pytest.raises(F.DataFormatError, match="test: 2 images and 2 labels, expected 5"):
        M.check_arrays(good, dict(params, n_test=5))
    with pytest.raises(F.DataFormatError, match="label 10 outside 0..9"):
        M.check_arrays(dict(good, y_train=np.array([0, 10, 1], np.uint8)), params)
    with pytest.raises(F.DataFormatError, match=r"shape \(27, 28\)"):
        M.check_arrays(dict(good, x_test=np.zeros((2, 27, 28), np.uint8)), params)


def test_prepare_without_any_source_says_where_to_put_the_files(paper, tmp_path, monkeypatch):
    monkeypatch.delenv(F.ENV_MIRROR, raising=False)
    params = dict(paper, urls=[_closed_port_url()], cache_dir=str(tmp_path / "cache"),
                  mirror=str(tmp_path / "no_mirror"))
    with pytest.raises(F.DataUnavailable, match="train-images-idx3-ubyte.gz"):
        M.mnist_prepare(params, npz=tmp_path / "mnist.npz")
    assert not (tmp_path / "mnist.npz").exists()
