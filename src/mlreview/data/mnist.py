"""MNIST: the four canonical gzipped IDX files -> one ``.npz``, its loader, and Fig 26's data.

The files (config ``mnist.files``, with their sha256) come through
:func:`mlreview.data.fetch.fetch_file` (mirror, cache or one of ``mnist.urls``). The
``.npz`` holds ``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,) uint8, ``x_test``
(10000, 28, 28) and ``y_test``: the standard split [spec 2.4, decision o], grey values
0-255 as stored. :func:`load_mnist` is the one loader of every MNIST figure.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.fetch import DataFormatError, fetch_file
from mlreview.errors import MlreviewError
from mlreview.io import Contract, load_npz, save_npz
from mlreview.steps import step

#: IDX magic numbers: unsigned bytes (0x08) with 3 dimensions (images) or 1 (labels).
MAGIC_IMAGES = 2051
MAGIC_LABELS = 2049
_MAGIC_KIND = {MAGIC_IMAGES: "images", MAGIC_LABELS: "labels"}

#: The array each canonical file becomes, and the magic number it must carry.
FILES = {
    "x_train": ("train-images-idx3-ubyte.gz", MAGIC_IMAGES),
    "y_train": ("train-labels-idx1-ubyte.gz", MAGIC_LABELS),
    "x_test": ("t10k-images-idx3-ubyte.gz", MAGIC_IMAGES),
    "y_test": ("t10k-labels-idx1-ubyte.gz", MAGIC_LABELS),
}
DATASET = "mnist"
#: the MNIST file: images and labels of the training and test sets
MNIST = Contract(dims={"x_train": ("n_train", "rows", "cols"), "y_train": ("n_train",),
                       "x_test": ("n_test", "rows", "cols"), "y_test": ("n_test",)})


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes (images 2051 or labels 2049) into an array.

    The header's dimensions must account for every byte of the data: a truncated or padded
    file, a corrupt gzip stream or an unknown magic number raises :class:`DataFormatError`
    naming the file.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (EOFError, zlib.error, OSError) as err:  # gzip.BadGzipFile is an OSError
        raise DataFormatError(
            f"{path}: not a complete gzip file ({type(err).__name__}: {err}). The file is truncated "
            "or corrupt: delete it (from the cache) and fetch it again."
        ) from err
    if len(raw) < 4:
        raise DataFormatError(f"{path}: {len(raw)} bytes after decompression, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _MAGIC_KIND:
        raise DataFormatError(
            f"{path}: bad IDX magic number {magic} (0x{magic:08x}); expected {MAGIC_IMAGES} (images) "
            f"or {MAGIC_LABELS} (labels). This is not an MNIST IDX file."
        )
    if expected_magic is not None and magic != expected_magic:
        raise DataFormatError(
            f"{path}: holds {_MAGIC_KIND[magic]} (magic {magic}) where {_MAGIC_KIND[expected_magic]} "
            f"(magic {expected_magic}) were expected; check the file names"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(f"{path}: the IDX header is cut short ({len(raw)} of {header} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(dims, dtype=np.int64))
    payload = len(raw) - header
    if payload != expected:
        what = "truncated" if payload < expected else "longer than its header says"
        raise DataFormatError(
            f"{path}: {what}: the header gives dimensions {dims} = {expected} bytes of data, "
            f"the file holds {payload}. Delete it and fetch it again."
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


@step
def mnist_prepare(params: Mapping, *, npz: Path) -> dict:
    """Workflow step: fetch the four files, check them, write one ``.npz``.

    ``params``: the config's ``mnist`` section plus ``cache_dir`` and ``mirror``.
    """
    checksums = params["files"]
    arrays, files = {}, {}
    for name, (filename, magic) in FILES.items():
        if filename not in checksums:
            raise KeyError(f"config mnist.files has no sha256 for {filename}; it lists {sorted(checksums)}")
        got = fetch_file(filename, urls=params["urls"], sha256=checksums[filename], dataset=DATASET,
                         cache_dir=params["cache_dir"], mirror=params.get("mirror"))
        arrays[name] = read_idx(got.path, expected_magic=magic)
        files[filename] = {
            "source": got.source,
            "url": got.url,
            "bytes": got.path.stat().st_size,
            "sha256": got.sha256,
            "sha256_verified": got.verified,
        }
    check_arrays(arrays, params)
    save_npz(npz, contract=MNIST, **arrays)
    summary = summarise(arrays)
    summary["class_counts"] = {
        split: {f"digit_{c}": int(n) for c, n in enumerate(np.bincount(arrays[f"y_{split}"],
                                                                        minlength=int(params["n_classes"])))}
        for split in ("train", "test")
    }
    summary["files"] = files
    summary["all_sha256_verified"] = all(f["sha256_verified"] for f in files.values())
    return summary


def check_arrays(arrays: Mapping[str, np.ndarray], params: Mapping) -> None:
    """Counts, image shape and label range against the config; :class:`DataFormatError` if not."""
    shape = tuple(int(s) for s in params["image_shape"])
    n_classes = int(params["n_classes"])
    problems = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        n = int(params[f"n_{split}"])
        if len(x) != n or len(y) != n:
            problems.append(f"{split}: {len(x)} images and {len(y)} labels, expected {n} of each")
        if x.shape[1:] != shape:
            problems.append(f"{split}: images of shape {x.shape[1:]}, expected {shape}")
        if len(y) and int(y.max()) >= n_classes:
            problems.append(f"{split}: label {int(y.max())} outside 0..{n_classes - 1}")
    if problems:
        raise DataFormatError("MNIST files do not have the expected structure: " + "; ".join(problems))


def summarise(arrays: Mapping[str, np.ndarray]) -> dict:
    """Counts, shape, dtype, pixel range over all images and the number of classes."""
    x_train, x_test = arrays["x_train"], arrays["x_test"]
    labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    return {
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "n_total": int(len(x_train) + len(x_test)),
        "image_shape": [int(s) for s in x_train.shape[1:]],
        "dtype": str(x_train.dtype),
        "pixel_min": int(min(x_train.min(), x_test.min())),
        "pixel_max": int(max(x_train.max(), x_test.max())),
        "n_classes": int(len(np.unique(labels))),
    }


def load_mnist(path: str | Path, scale: bool = False) -> dict[str, np.ndarray]:
    """The four arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``.

    ``scale=True``: images as float32 in [0, 1] (pixels / 255); labels stay uint8.
    """
    data = load_npz(path, contract=MNIST)
    missing = [name for name in FILES if name not in data]
    if missing:
        raise DataFormatError(f"{path} is not an MNIST file of this project: arrays {missing} are missing")
    out = {name: data[name] for name in FILES}
    if scale:
        for name in ("x_train", "x_test"):
            out[name] = scale_images(out[name])
    return out


def scale_images(x) -> np.ndarray:
    """Pixels as float32 in [0, 1] (pixels / 255), what ``load_mnist(scale=True)`` returns: a step that
    uses a subset scales only its rows (the whole training set in float32 is 188 MB)."""
    return np.asarray(x).astype(np.float32) / np.float32(np.iinfo(np.uint8).max)


@step
def fig26_select(params: Mapping, *, npz: Path, data: Path) -> dict:
    """Workflow step (Fig 26): one training image and the data set's vital statistics.

    ``params``: the config's ``mnist.fig26`` section (``index``), optionally with the
    expected ``n_train``, ``n_test``, ``image_shape`` and ``n_classes`` of the ``mnist``
    section. ``checks`` holds one boolean per part of claim C39 (pixel values: unsigned
    8-bit integers spanning 0..255; the others against those expected values, where given),
    ``checks/all`` their conjunction and ``checked`` the names of the checks made.
    """
    arrays = load_mnist(npz)
    index = int(params["index"])
    image, label = arrays["x_train"][index], int(arrays["y_train"][index])
    stats = summarise(arrays)
    uint8 = np.iinfo(np.uint8)
    save_npz(data, image=image, label=label, index=index,
             pixel_range=np.array([stats["pixel_min"], stats["pixel_max"]]))
    checks = {
        "pixels_integer_0_255": stats["dtype"] == "uint8"
        and stats["pixel_min"] == uint8.min and stats["pixel_max"] == uint8.max,
    }
    for key in ("n_train", "n_test", "n_classes"):
        if key in params:
            checks[key] = stats[key] == int(params[key])
    if "image_shape" in params:
        checks["image_shape"] = stats["image_shape"] == [int(s) for s in params["image_shape"]]
    checked = sorted(checks)
    checks["all"] = all(checks.values())
    return {
        "index": index,
        "label": label,
        **stats,
        "image_height": stats["image_shape"][0],
        "image_width": stats["image_shape"][1],
        "pixels_integer": bool(np.issubdtype(arrays["x_train"].dtype, np.integer)),
        "checks": checks,
        "checked": checked,
    }


def load_mnist_sets(npz: Path, params: Mapping) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (X, y), "test": (X, y)}``: the first ``n_train`` / ``n_test`` images in [0, 1]."""
    data = load_mnist(npz)
    sets = {}
    for name in ("train", "test"):
        n = int(params[f"n_{name}"])
        X, y = data[f"x_{name}"], data[f"y_{name}"]
        if n > len(y):
            raise MlreviewError(f"n_{name} = {n}, but the MNIST {name} set has {len(y)} images")
        sets[name] = (scale_images(X[:n]), y[:n])
    return sets
