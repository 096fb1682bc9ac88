"""The SUSY data set (Baldi, Sadowski & Whiteson 2014): download, conversion, loader, Fig 24.

Column names (label first, then the 8 low-level and the 10 high-level features, in the
order of the UCI file; names as in the spec, Section 2.3). The stand-in generator
(:mod:`mlreview.data.susy_toy`) writes the same columns.

Download (:func:`prepare_step`): the first of ``susy.uci.urls`` that can be had (a zip
holding ``SUSY.csv.gz``, or the plain ``SUSY.csv.gz``), through the mirror, the cache or the
network (:mod:`mlreview.data.fetch`). No checksum is published, so the first use records
the file's url, size, sha256 and time in ``<cache_dir>/<file>.provenance.json`` and every
later use checks size and sha256 against it.

Conversion: the CSV (no header, 19 columns written as ``%.18e``) is streamed, never held
whole in memory, into a parquet file with the :data:`COLUMNS` names, features float32 (the
UCI values are float32 numbers, so this is lossless) and the label int8, one row group per
``chunk_rows`` rows. The parquet schema metadata holds ``source`` (``uci``; the toy
generator writes ``toy``) and the JSON ``provenance``; :func:`parquet_source` reads it.

:func:`load_susy` is the one loader: it reads only the columns and row groups asked for.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from mlreview.data.fetch import (
    DataFormatError,
    Fetched,
    check_provenance,
    fetch_first,
    provenance_path,
    write_provenance,
)
from mlreview.errors import MlreviewError
from mlreview.io import atomic_path, save_npz
from mlreview.steps import step

#: Column 0 is the label (1 = signal), then 8 low-level and 10 high-level features.
LABEL = "label"
LOW_LEVEL = (
    "lepton1_pt",
    "lepton1_eta",
    "lepton1_phi",
    "lepton2_pt",
    "lepton2_eta",
    "lepton2_phi",
    "met",
    "met_phi",
)
HIGH_LEVEL = (
    "met_rel",
    "axial_met",
    "m_r",
    "m_tr_2",
    "r",
    "mt2",
    "s_r",
    "m_delta_r",
    "dphi_r_b",
    "cos_theta_r1",
)
FEATURES = LOW_LEVEL + HIGH_LEVEL
#: config name -> feature columns (the review compares these three sets)
FEATURE_SETS = {"all": FEATURES, "low": LOW_LEVEL, "high": HIGH_LEVEL}
COLUMNS = (LABEL,) + FEATURES

DATASET = "susy"
#: The member of the UCI zip archive that holds the data.
ZIP_MEMBER = "SUSY.csv.gz"
#: Schema-metadata keys of the parquet file.
META_SOURCE = b"source"
META_PROVENANCE = b"provenance"

log = logging.getLogger(__name__)

_CSV_BLOCK_BYTES = 1 << 24  # bytes pyarrow parses at a time (a buffer size, not a data choice)


# --- download ----------------------------------------------------------------------------

def url_filename(url: str) -> str:
    """The file name at the end of a URL (``.../susy.zip`` -> ``susy.zip``)."""
    name = PurePosixPath(urlparse(url).path).name
    if not name:
        raise ValueError(f"cannot tell a file name from the URL {url!r}; give the full URL of the file")
    return name


def obtain(params: Mapping) -> tuple[Fetched, dict]:
    """The SUSY file (mirror, cache or the first working URL) and its provenance record.

    A fresh download (or the first use of a mirror/cache copy) writes the record; a later
    use checks the file against it (:class:`~mlreview.data.fetch.ProvenanceMismatch`).
    """
    cache_dir = Path(params["cache_dir"])
    candidates = [(url_filename(url), url) for url in params["urls"]]
    got = fetch_first(candidates, dataset=DATASET, cache_dir=cache_dir, mirror=params.get("mirror"))
    # Records live in the cache folder (next to a downloaded file; the mirror may be read-only).
    record_path = provenance_path(cache_dir / got.path.name)
    if got.source != "url" and record_path.is_file():
        record = check_provenance(record_path, got.path)
    else:
        if got.source != "url":
            log.info("%s: no provenance record yet (%s copy); recording it now", got.path.name, got.source)
        record = write_provenance(record_path, got)
    return got, record


@contextmanager
def open_csv(path: str | Path) -> Iterator[io.BufferedIOBase]:
    """The decompressed CSV bytes of a zip holding ``SUSY.csv.gz`` (or ``.csv``), or of a
    ``.gz``, streamed (nothing is extracted to disk)."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = _zip_member(archive, path)
                with archive.open(member) as raw:
                    if member.endswith(".gz"):
                        with gzip.GzipFile(fileobj=raw) as stream:
                            yield stream
                    else:
                        yield raw
        else:
            with open(path, "rb") as fh:
                magic = fh.read(2)
            if magic != b"\x1f\x8b":
                raise DataFormatError(f"{path} is neither a zip archive nor a gzip file")
            with gzip.open(path, "rb") as stream:
                yield stream
    except (zipfile.BadZipFile, EOFError, gzip.BadGzipFile) as err:
        raise DataFormatError(
            f"{path}: corrupt or truncated archive ({type(err).__name__}: {err}). Delete it and its "
            ".provenance.json record from the cache to download it again."
        ) from err


def _zip_member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    exact = [n for n in names if PurePosixPath(n).name == ZIP_MEMBER]
    if exact:
        return exact[0]
    csvs = [n for n in names if n.endswith((".csv.gz", ".csv"))]
    if len(csvs) == 1:
        return csvs[0]
    raise DataFormatError(f"{path}: expected a member {ZIP_MEMBER} in the zip archive, found {names}")


# --- conversion --------------------------------------------------------------------------

def _rebatch(reader, chunk_rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``chunk_rows`` rows (the last one shorter) from a batch reader."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        while count >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, chunk_rows)
            rest = table.slice(chunk_rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _convert_chunk(table: pa.Table, first_row: int, source: str) -> pa.Table:
    """float64 CSV columns -> label int8 (checked to be 0/1) and float32 features (finite)."""
    label = table.column(LABEL).to_numpy()
    bad = ~np.isin(label, (0.0, 1.0))
    if bad.any():
        row = first_row + int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"{source}: row {row + 1} has label {float(label[bad][0])}; labels must be 0 or 1")
    columns = {LABEL: pa.array(label.astype(np.int8))}
    for name in FEATURES:
        values = table.column(name).to_numpy().astype(np.float32)
        if not np.isfinite(values).all():
            row = first_row + int(np.flatnonzero(~np.isfinite(values))[0])
            raise DataFormatError(f"{source}: row {row + 1}, column {name}: value {values[row - first_row]} "
                                  "is not a finite number")
        columns[name] = pa.array(values)
    return pa.table(columns)


def schema(metadata: Mapping[bytes, bytes] | None = None) -> pa.Schema:
    """The parquet schema: label int8, 18 float32 features."""
    fields = [pa.field(LABEL, pa.int8())] + [pa.field(name, pa.float32()) for name in FEATURES]
    return pa.schema(fields, metadata=dict(metadata or {}))


def convert_csv(source: str | Path, parquet: str | Path, *, rows: int, chunk_rows: int,
                metadata: Mapping[bytes, bytes] | None = None) -> dict:
    """Stream the SUSY CSV in ``source`` (zip or gz) into ``parquet``; check its structure.

    Exactly ``rows`` rows of 19 numeric columns and labels in {0, 1}, else
    :class:`DataFormatError` and no parquet file. Returns the row count, the signal count
    and the sums of the lepton pT columns (float64, of the stored float32 values).
    """
    parse = pacsv.ParseOptions(delimiter=",")
    read = pacsv.ReadOptions(column_names=list(COLUMNS), block_size=_CSV_BLOCK_BYTES)
    convert = pacsv.ConvertOptions(column_types={name: pa.float64() for name in COLUMNS})
    sums = {"lepton1_pt": 0.0, "lepton2_pt": 0.0}
    done = signal = chunks = 0
    name = Path(source).name
    with atomic_path(parquet) as tmp, open_csv(source) as stream:
        writer = pq.ParquetWriter(tmp, schema(metadata))
        try:
            reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
            for table in _rebatch(reader, chunk_rows):
                if done + table.num_rows > rows:
                    raise DataFormatError(f"{name}: more than the expected {rows} rows; wrong file, or "
                                          "a wrong susy.uci.rows in the config")
                chunk = _convert_chunk(table, done, name)
                writer.write_table(chunk, row_group_size=chunk_rows)
                done += chunk.num_rows
                chunks += 1
                signal += int(chunk.column(LABEL).to_numpy().sum(dtype=np.int64))
                for col in sums:
                    sums[col] += float(chunk.column(col).to_numpy().sum(dtype=np.float64))
                log.info("%s: %d of %d rows converted (%.0f%%)", name, done, rows, 100.0 * done / rows)
        except pa.ArrowInvalid as err:
            raise DataFormatError(
                f"{name}: not the SUSY CSV format (no header, {len(COLUMNS)} numeric columns per row) "
                f"({done} rows converted before the error): {' '.join(str(err).split())[:300]}"
            ) from err
        finally:
            writer.close()
        if done != rows:
            raise DataFormatError(f"{name}: {done} rows, expected {rows}; the file is incomplete or not "
                                  "the SUSY data set (or susy.uci.rows is wrong)")
    return {"rows": done, "signal": signal, "sums": sums, "chunks": chunks}


@step
def susy_prepare(params: Mapping, *, parquet: Path, threads: int = 1) -> dict:
    """Workflow step: the SUSY data set as ``parquet``: the UCI file downloaded, checked and
    converted (``source: uci``, :func:`download_susy`), or its physics stand-in generated
    (``source: toy``, :func:`mlreview.data.susy_toy.generate_susy`).

    ``params``: ``source`` and the config section of that source (``susy.uci`` with ``cache_dir``
    and ``mirror``, or ``susy.toy``).
    """
    if params["source"] == "toy":
        from mlreview.data.susy_toy import generate_susy

        return generate_susy(params, parquet=parquet, threads=threads)
    return download_susy(params, parquet=parquet)


def download_susy(params: Mapping, *, parquet: Path) -> dict:
    """Fetch the UCI SUSY file, check it and convert it to ``parquet``.

    ``params``: the config's ``susy.uci`` section plus ``cache_dir`` and ``mirror``.
    """
    got, record = obtain(params)
    metadata = {META_SOURCE: b"uci", META_PROVENANCE: json.dumps(record, sort_keys=True).encode()}
    result = convert_csv(got.path, parquet, rows=int(params["rows"]), chunk_rows=int(params["chunk_rows"]),
                         metadata=metadata)
    n = result["rows"]
    return {
        "rows": n,
        "columns": len(COLUMNS),
        "signal_fraction": result["signal"] / n,
        "means": {col: total / n for col, total in result["sums"].items()},
        "chunks": result["chunks"],
        "source": "uci",
        "file_source": got.source,
        "provenance": record,
    }


# --- reading -----------------------------------------------------------------------------

def parquet_metadata(path: str | Path) -> dict:
    """The parquet schema metadata as text; ``provenance`` decoded from JSON when present."""
    raw = pq.read_schema(path).metadata or {}
    meta = {key.decode(): value.decode() for key, value in raw.items() if not key.startswith(b"ARROW:")}
    if "provenance" in meta:
        try:
            meta["provenance"] = json.loads(meta["provenance"])
        except json.JSONDecodeError:
            pass
    return meta


def parquet_source(path: str | Path) -> str | None:
    """``"uci"`` or ``"toy"`` (the ``source`` of the parquet metadata), or None when absent."""
    return parquet_metadata(path).get("source")


def count_rows(path: str | Path) -> int:
    """The number of events in the parquet file (from its metadata; nothing is read)."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def _row_range(rows, n: int) -> tuple[int, int] | np.ndarray:
    """Normalise a row selection: int (the first n), slice or (start, stop) -> range;
    a sequence/array of row numbers -> sorted-as-given int64 array."""
    if isinstance(rows, (int, np.integer)):
        return 0, min(int(rows), n)
    if isinstance(rows, slice):
        start, stop, step = rows.indices(n)
        if step != 1:
            return np.arange(start, stop, step, dtype=np.int64)
        return start, max(start, stop)
    if isinstance(rows, tuple) and len(rows) == 2 and all(isinstance(v, (int, np.integer)) for v in rows):
        return _row_range(slice(*rows), n)
    index = np.asarray(rows, dtype=np.int64)
    if index.ndim != 1:
        raise ValueError("rows: give an int, a slice, a (start, stop) pair or a 1D sequence of row numbers")
    index = np.where(index < 0, index + n, index)
    if len(index) and (index.min() < 0 or index.max() >= n):
        raise IndexError(f"rows out of range for a file of {n} rows")
    return index


def load_susy(path: str | Path, columns: Sequence[str] | None = None, rows=None) -> pd.DataFrame:
    """The SUSY parquet as a DataFrame, reading only the columns and row groups asked for.

    ``columns``: names from :data:`COLUMNS` (default all). ``rows``: None (all), an int n
    (the first n rows), a slice or ``(start, stop)`` (e.g. ``slice(-500_000, None)`` for the
    last 500,000), or a sequence of row numbers (returned in that order). The index of the
    frame is the row number in the file.
    """
    file = pq.ParquetFile(path)
    available = file.schema_arrow.names
    columns = list(available if columns is None else columns)
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise KeyError(f"unknown SUSY columns {unknown}; the file has {available}")
    n = file.metadata.num_rows
    sizes = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    selection = (0, n) if rows is None else _row_range(rows, n)
    if isinstance(selection, tuple):
        start, stop = selection
        wanted = np.arange(start, stop, dtype=np.int64)
    else:
        wanted = selection
    if len(wanted) == 0:
        return file.schema_arrow.empty_table().select(columns).to_pandas()
    group_of = np.searchsorted(starts, wanted, side="right") - 1
    groups = np.unique(group_of)
    table = file.read_row_groups(groups.tolist(), columns=columns)
    # Row numbers of the table's first row per group read, to map file rows to table rows.
    offset = np.concatenate([[0], np.cumsum([sizes[g] for g in groups])])[:-1]
    local = offset[np.searchsorted(groups, group_of)] + (wanted - starts[group_of])
    if isinstance(selection, tuple):
        table = table.slice(int(local[0]), len(wanted))
    else:
        table = table.take(pa.array(local))
    frame = table.to_pandas()
    frame.index = pd.Index(wanted, name="row")
    return frame


# --- Fig 24 ------------------------------------------------------------------------------

def held_out_rows(n_rows: int, params: Mapping) -> tuple[int, int]:
    """The test rows: the last min(test_rows, floor(test_fraction * n_rows)) rows."""
    n_test = min(int(params["test_rows"]), int(math.floor(float(params["test_fraction"]) * n_rows)))
    if n_test <= 0:
        raise ValueError(f"no test rows in a file of {n_rows} rows (test_rows={params['test_rows']}, "
                         f"test_fraction={params['test_fraction']})")
    return n_rows - n_test, n_rows


def overlap_coefficient(x_s, y_s, x_b, y_b, limits, bins: int) -> tuple[float, np.ndarray, np.ndarray, list]:
    """sum over cells of min(p_signal, p_background) of the 2D histograms on ``bins`` x ``bins``
    cells over [0, limit_x] x [0, limit_y]; each histogram is normalised by its class's event
    count, so events outside the window count as no overlap."""
    edges = [np.linspace(0.0, limit, bins + 1) for limit in limits]
    h_s = np.histogram2d(x_s, y_s, bins=edges)[0] / max(len(x_s), 1)
    h_b = np.histogram2d(x_b, y_b, bins=edges)[0] / max(len(x_b), 1)
    return float(np.minimum(h_s, h_b).sum()), h_s, h_b, edges


@step
def fig24_select(params: Mapping, *, parquet: Path, data: Path) -> dict:
    """Workflow step (Fig 24): leading vs sub-leading lepton pT of signal and background.

    ``params``: the config's ``susy.fig24`` section. Draws ``events_per_class`` events of each
    class at random (seeded) from the test rows (:func:`held_out_rows`); axes from 0 to the
    ``percentile`` of each variable over the drawn events.
    """
    x_name, y_name = "lepton1_pt", "lepton2_pt"
    frame = load_susy(parquet, columns=[LABEL, x_name, y_name])
    n_rows = len(frame)
    x_all = frame[x_name].to_numpy()
    y_all = frame[y_name].to_numpy()
    label_all = frame[LABEL].to_numpy()
    means = {x_name: float(x_all.mean(dtype=np.float64)), y_name: float(y_all.mean(dtype=np.float64))}

    start, stop = held_out_rows(n_rows, params)
    label = label_all[start:stop]
    rng = np.random.default_rng(int(params["seed"]))
    wanted = int(params["events_per_class"])
    picks = {}
    for cls, code in (("signal", 1), ("background", 0)):
        rows = start + np.flatnonzero(label == code)
        if len(rows) < wanted:
            log.warning("only %d %s events in the test rows; drawing all of them (asked for %d)",
                        len(rows), cls, wanted)
        picks[cls] = np.sort(rng.choice(rows, size=min(wanted, len(rows)), replace=False))
    sample = np.concatenate([picks["signal"], picks["background"]])
    x, y, lab = x_all[sample], y_all[sample], label_all[sample]
    q = float(params["percentile"])
    limits = [float(np.percentile(x, q)), float(np.percentile(y, q))]
    bins = int(params["grid"])
    sig, bkg = lab == 1, lab == 0
    overlap, h_s, h_b, edges = overlap_coefficient(x[sig], y[sig], x[bkg], y[bkg], limits, bins)
    test_sig = label == 1
    x_t, y_t = x_all[start:stop], y_all[start:stop]
    overlap_test, *_ = overlap_coefficient(x_t[test_sig], y_t[test_sig], x_t[~test_sig], y_t[~test_sig],
                                           limits, bins)
    source = parquet_source(parquet)
    save_npz(data, pt1=x, pt2=y, label=lab.astype(np.int8), rows=sample, limits=np.array(limits),
             percentile=q, hist_signal=h_s, hist_background=h_b, edges_x=edges[0], edges_y=edges[1],
             source=np.array(source or ""))
    return {
        "source": source,
        "rows": n_rows,
        "means": means,
        "test_rows": {"start": start, "stop": stop, "n": stop - start},
        "signal_fraction_test": float(test_sig.mean()),
        "n_signal": int(sig.sum()),
        "n_background": int(bkg.sum()),
        "limits": {x_name: limits[0], y_name: limits[1]},
        "grid": bins,
        "overlap_coefficient": overlap,
        "overlap_coefficient_all_test_rows": overlap_test,
    }


def feature_names(features: str) -> tuple[str, ...]:
    try:
        return FEATURE_SETS[features]
    except KeyError:
        raise MlreviewError(f"features must be one of {sorted(FEATURE_SETS)}, got {features!r}") from None


def standardize(sets: Mapping[str, tuple]) -> tuple[dict, np.ndarray, np.ndarray]:
    """Every set ``{name: (X, y)}`` scaled to zero mean and unit variance with the mean and
    standard deviation of the ``train`` rows (a constant column keeps scale 1); float32 out.
    Returns (the scaled sets, mean, scale)."""
    X = sets["train"][0]
    mean = X.mean(axis=0, dtype=np.float64)
    scale = X.std(axis=0, dtype=np.float64)
    scale[scale == 0.0] = 1.0
    scaled = {name: (((Xs - mean) / scale).astype(np.float32), ys) for name, (Xs, ys) in sets.items()}
    return scaled, mean, scale
