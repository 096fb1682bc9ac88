"""Atomic reading and writing of the project's intermediate files, and the one loader that checks
what it reads.

Every file a step writes goes through :func:`atomic_path`: the data are written to a
temporary name in the destination folder and renamed into place only when complete,
so an interrupted job never leaves a half-written file behind. Intermediate data are
``.npz``, ``.json`` or ``.parquet``; pickle is never used (``allow_pickle=False``).

Every ``.npz`` carries a manifest (the array ``__manifest__``, JSON): the step that wrote it and
the dtype and shape of every array, plus the file's :class:`Contract` where its writer declares one
(named dimensions that must agree between arrays, and relations to the sizes the file stores,
such as ``row_bytes == (lattice * lattice + 7) // 8``). The contract is checked when the file is
written and when it is read; :func:`load_npz` checks the manifest too, so an array changed after
writing (cut, reshaped, retyped) is found. A file that cannot be read, or breaks its contract,
raises :class:`UnreadableFile`, whose message names the file, the rule that writes it and the
fix (``snakemake --forcerun <rule>``) and never suggests unpickling.
"""

from __future__ import annotations

import ast
import contextvars
import json
import math
import operator
import os
import tempfile
import zipfile
from base64 import urlsafe_b64encode
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlreview.errors import MlreviewError

#: the key of the manifest array in every .npz this project writes
MANIFEST = "__manifest__"
MANIFEST_FORMAT = 1
#: the modification time stored for every member of an .npz (the zip format's earliest)
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
#: the step running in this process (set by the CLI); recorded as the writer of every .npz
current_step: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_step", default=None)
#: Snakemake's record of the job that wrote each output (rule name among it), relative to the
#: workflow's folder, where every job runs
SNAKEMAKE_METADATA = Path(".snakemake") / "metadata"


class UnreadableFile(MlreviewError):
    """An intermediate file that cannot be read or breaks its contract; the message says which
    file, what is wrong, which rule writes it and how to rebuild it."""

    def __init__(self, path: str | os.PathLike, problem: str, writer: str | None = None):
        self.path, self.problem = Path(path), problem
        rule = writer or writer_rule(path)
        if rule:
            fix = f"it is written by the rule {rule}: rebuild it with `snakemake --forcerun {rule}` (and rerun)"
        else:
            fix = (f"rebuild it with `snakemake --force {path}` (the rule that writes it is not recorded "
                   "in .snakemake/metadata)")
        super().__init__(f"{path}: {problem}; {fix}")


def writer_rule(path: str | os.PathLike) -> str | None:
    """The rule that wrote ``path``, from Snakemake's metadata in the current folder (None when
    the file was not made by Snakemake here)."""
    encoded = urlsafe_b64encode(os.fspath(path).encode()).decode()
    record = SNAKEMAKE_METADATA / encoded
    try:
        return json.loads(record.read_text()).get("rule")
    except (OSError, ValueError, AttributeError):
        return None


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp creates 0600 files; give results the usual permissions (umask applies).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays and paths to plain JSON types; NaN/inf become None."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def save_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(to_jsonable(data), indent=2, sort_keys=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")


def load_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or unreadable one raises :class:`UnreadableFile`."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise UnreadableFile(path, "the file does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UnreadableFile(path, f"the file cannot be read ({err.__class__.__name__})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UnreadableFile(path, f"the file is not valid JSON ({err.msg} at line {err.lineno})") from None


@dataclass(frozen=True)
class Contract:
    """What a ``.npz`` file holds beyond its arrays' own shapes.

    ``dims``: array -> its shape as names and numbers, e.g. ``{"packed": ("n", "row_bytes"),
    "temperature": ("n",)}``: a name takes its size at its first use and every other use must
    agree. ``relations``: expressions of those names and of the file's scalar arrays that must
    hold, e.g. ``"row_bytes == (lattice * lattice + 7) // 8"``. ``required``: arrays the file
    must hold (every array named in ``dims`` is required).
    """

    dims: Mapping[str, tuple] = field(default_factory=dict)
    relations: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {"dims": {k: list(v) for k, v in self.dims.items()}, "relations": list(self.relations),
                "required": list(self.required)}

    @classmethod
    def from_json(cls, data: Mapping) -> Contract:
        return cls({k: tuple(v) for k, v in data.get("dims", {}).items()}, tuple(data.get("relations", ())),
                   tuple(data.get("required", ())))

    def violations(self, arrays: Mapping[str, np.ndarray]) -> list[str]:
        """What in ``arrays`` breaks the contract (empty when nothing does)."""
        problems = [f"the array {key!r} is missing" for key in (*self.required, *self.dims) if key not in arrays]
        sizes: dict[str, int] = {}
        first: dict[str, str] = {}
        for key, dims in self.dims.items():
            if key not in arrays:
                continue
            shape = tuple(np.shape(arrays[key]))
            if len(shape) != len(dims):
                problems.append(f"{key!r} has shape {shape}, but the contract gives it {len(dims)} dimensions "
                                f"{tuple(dims)}")
                continue
            for axis, (name, size) in enumerate(zip(dims, shape)):
                if isinstance(name, int):
                    if size != name:
                        problems.append(f"{key!r} has shape {shape}, but axis {axis} must have size {name}")
                elif name in sizes and sizes[name] != size:
                    other = first[name]
                    problems.append(f"{key!r} has shape {shape} and {other!r} has shape "
                                    f"{tuple(np.shape(arrays[other]))}: they disagree on {name} "
                                    f"({size} against {sizes[name]})")
                else:
                    sizes.setdefault(name, size)
                    first.setdefault(name, key)
        names = dict(sizes)
        for key, value in arrays.items():
            arr = np.asarray(value)
            if arr.ndim == 0 and arr.dtype.kind in "biuf":
                names.setdefault(key, arr.item())
        for relation in self.relations:
            try:
                holds = _evaluate(relation, names)
            except KeyError as err:
                problems.append(f"the relation {relation!r} needs {err.args[0]!r}, which the file does not hold")
                continue
            if not holds:
                used = {n: names[n] for n in sorted(_names(relation))}
                shapes = {first[n]: tuple(np.shape(arrays[first[n]])) for n in used if n in first}
                problems.append(f"{relation} does not hold for {used}" + (f" (shapes {shapes})" if shapes else ""))
        return problems


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
              ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod, ast.Eq: operator.eq,
              ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
              ast.GtE: operator.ge}


def _names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


def _evaluate(expression: str, names: Mapping[str, Any]):
    """Evaluate a relation of names, numbers, arithmetic and comparisons (nothing else)."""

    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _OPERATORS:
            return _OPERATORS[type(node.ops[0])](value(node.left), value(node.comparators[0]))
        raise ValueError(f"unsupported expression in a contract: {ast.dump(node)}")

    return value(ast.parse(expression, mode="eval"))


def save_npz(path: str | os.PathLike, contract: Contract | None = None, **arrays: Any) -> None:
    """Write arrays to a compressed ``.npz`` with its manifest, atomically. Object arrays are
    refused; the ``contract`` (when given) is checked before anything is written."""
    converted = {}
    for name, value in arrays.items():
        if name == MANIFEST:
            raise ValueError(f"{MANIFEST} is the manifest's own key")
        arr = np.asarray(value)
        if arr.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; store numbers or strings only")
        converted[name] = arr
    if contract is not None:
        problems = contract.violations(converted)
        if problems:
            raise ValueError(f"{path} would break its contract: " + "; ".join(problems))
    manifest = {
        "format": MANIFEST_FORMAT,
        "writer": current_step.get(),
        "arrays": {name: {"dtype": arr.dtype.str, "shape": list(arr.shape)} for name, arr in converted.items()},
        "contract": contract.as_json() if contract is not None else None,
    }
    converted[MANIFEST] = np.array(json.dumps(manifest, sort_keys=True))
    with atomic_path(path) as tmp:
        # numpy's savez stamps every member with the current time; a fixed stamp makes the same
        # arrays give the same bytes, so a rerun's file is byte-identical to the first one
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, arr in converted.items():
                member = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_TIMESTAMP)
                member.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(member, "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)


class NpzData(dict):
    """The arrays of one ``.npz`` file: a dict whose missing key is an :class:`UnreadableFile`
    naming the file, instead of a bare KeyError."""

    def __init__(self, path: Path, arrays: Mapping[str, np.ndarray], writer: str | None):
        super().__init__(arrays)
        self.path, self.writer = path, writer

    def __missing__(self, key):
        raise UnreadableFile(self.path, f"it has no array {key!r} (it holds {sorted(self)})", self.writer)


def load_npz(path: str | os.PathLike, contract: Contract | None = None) -> NpzData:
    """Read every array of a project ``.npz`` (pickle disabled) and check it: the manifest's
    dtypes and shapes, the contract stored in the file and, when given, ``contract`` (what the
    reader needs). Any failure raises :class:`UnreadableFile`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise UnreadableFile(path, "the file does not exist") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        # numpy's own message would suggest allow_pickle for a file that is not an .npz at all
        kind = "truncated or not a zip archive" if isinstance(err, (zipfile.BadZipFile, EOFError)) else "not an .npz"
        raise UnreadableFile(path, f"the file cannot be read as .npz ({kind})") from None
    text = arrays.pop(MANIFEST, None)
    if text is None:
        raise UnreadableFile(path, "it has no manifest: it was not written by this project's save_npz, "
                                   "or by an older version of it")
    try:
        manifest = json.loads(str(text))
    except (json.JSONDecodeError, TypeError):
        raise UnreadableFile(path, "its manifest is not valid JSON") from None
    writer = manifest.get("writer")
    problems = []
    expected = manifest.get("arrays", {})
    for name in sorted(set(expected) | set(arrays)):
        if name not in arrays:
            problems.append(f"the array {name!r} is missing")
        elif name not in expected:
            problems.append(f"the array {name!r} was not written with the file")
        else:
            shape, dtype = tuple(expected[name]["shape"]), expected[name]["dtype"]
            if arrays[name].shape != shape:
                problems.append(f"{name!r} has shape {arrays[name].shape}, but was written with shape {shape}")
            if arrays[name].dtype.str != dtype:
                problems.append(f"{name!r} has dtype {arrays[name].dtype.str}, but was written as {dtype}")
    for stored in (manifest.get("contract"), contract):
        if stored is not None and not problems:
            problems += (stored if isinstance(stored, Contract) else Contract.from_json(stored)).violations(arrays)
    if problems:
        raise UnreadableFile(path, "; ".join(problems), writer)
    return NpzData(path, arrays, writer)


def as_list(value: Path | list[Path] | None) -> list[Path]:
    """Normalise an input that may be one path or several (a repeated NAME)."""
    if value is None:
        return []
    return [Path(v) for v in value] if isinstance(value, (list, tuple)) else [Path(value)]
