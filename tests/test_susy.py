"""SUSY: download (a zip holding SUSY.csv.gz, or the plain .gz) from a local HTTP server,
provenance recorded then verified, streamed conversion to parquet, structure errors,
the loader's column/row selection, and the Fig 24 step."""

from __future__ import annotations

import gzip
import importlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.localserver import closed_port_url, serve
from mlreview import cli
from mlreview.steps import registry
from mlreview.data import fetch as F
from mlreview.data import susy as S
from mlreview.io import load_json, load_npz

ROOT = Path(__file__).resolve().parents[1]
HEAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "susy" / "SUSY_head5.csv"
N_ROWS = 1000
CHUNK = 300





def run(target: str, params: dict, inputs: dict, outputs: dict):
    """Through the CLI's run_step when the step is registered, else the function itself."""
    name = next((n for n, t in registry().items() if t == target), None)
    if name is not None:
        return cli.run_step(name, params, inputs=inputs, outputs=outputs)
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)(params, **inputs, **outputs)


def csv_lines(n: int = N_ROWS, seed: int = 0) -> list[str]:
    """The 5 real rows of the UCI file, then rows in the same format (%.18e, label first)."""
    head = HEAD.read_text().splitlines() if HEAD.is_file() else []
    rng = np.random.default_rng(seed)
    rest = n - len(head)
    values = rng.gamma(2.0, 0.5, (rest, len(S.FEATURES))).astype(np.float32)
    labels = rng.integers(0, 2, rest)
    lines = [",".join(["%.18e" % float(lab)] + ["%.18e" % float(v) for v in row]) for lab, row in zip(labels, values)]
    return head + lines


def write_gz(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))
    return path


def write_zip(path: Path, gz: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(gz, S.ZIP_MEMBER)
    return path


def reference(lines: list[str]) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")] for line in lines])


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(F.ENV_MIRROR, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def paper() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["susy"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """susy.zip (holding SUSY.csv.gz) and SUSY.csv.gz, in the real format."""
    folder = tmp_path_factory.mktemp("site")
    lines = csv_lines()
    gz = write_gz(folder / "SUSY.csv.gz", lines)
    write_zip(folder / "susy.zip", gz)
    return {"dir": folder, "lines": lines, "ref": reference(lines)}


def uci_params(paper, urls, cache, mirror=None) -> dict:
    params = dict(paper["uci"], urls=urls, rows=N_ROWS, chunk_rows=CHUNK, source="uci")
    params.update(cache_dir=str(cache), mirror=mirror)
    return params


def check_parquet(path: Path, ref: np.ndarray) -> None:
    file = pq.ParquetFile(path)
    assert file.schema_arrow.names == list(S.COLUMNS)
    assert file.schema_arrow.field(S.LABEL).type == pa.int8()
    assert all(file.schema_arrow.field(name).type == pa.float32() for name in S.FEATURES)
    assert file.metadata.num_rows == N_ROWS and file.num_row_groups == -(-N_ROWS // CHUNK)
    frame = S.load_susy(path)
    np.testing.assert_array_equal(frame[S.LABEL].to_numpy(), ref[:, 0].astype(np.int8))
    np.testing.assert_array_equal(frame[list(S.FEATURES)].to_numpy(), ref[:, 1:].astype(np.float32))


def test_prepare_from_zip_records_then_verifies_provenance(paper, site, tmp_path):
    cache = tmp_path / "cache"
    with serve(site["dir"]) as url:
        params = uci_params(paper, [url + "susy.zip", url + "SUSY.csv.gz"], cache)
        metrics = run("mlreview.data.susy:susy_prepare", params, {},
                      {"parquet": tmp_path / "susy.parquet", "metrics": tmp_path / "prep.json"})
    check_parquet(tmp_path / "susy.parquet", site["ref"])
    ref = site["ref"]
    assert metrics["rows"] == N_ROWS and metrics["columns"] == 19 and metrics["chunks"] == 4
    assert metrics["signal_fraction"] == pytest.approx(ref[:, 0].mean(), abs=1e-12)
    for i, name in ((1, "lepton1_pt"), (4, "lepton2_pt")):
        assert metrics["means"][name] == pytest.approx(ref[:, i].astype(np.float32).mean(dtype=np.float64), rel=1e-12)
    record = json.loads((cache / "susy.zip.provenance.json").read_text())
    assert record["url"] == url + "susy.zip" and record["size"] == (site["dir"] / "susy.zip").stat().st_size
    assert record["sha256"] == F.sha256_of(site["dir"] / "susy.zip")
    assert metrics["provenance"] == record and metrics["file_source"] == "url"
    meta = S.parquet_metadata(tmp_path / "susy.parquet")
    assert S.parquet_source(tmp_path / "susy.parquet") == "uci" and meta["provenance"]["sha256"] == record["sha256"]
    # Second run: no server; the cached zip is verified against its record and used.
    again = S.susy_prepare(params, parquet=tmp_path / "again.parquet")
    assert again["file_source"] == "cache" and again["provenance"] == record
    # Tampering with the cached file: clear error, the file is not used.
    with open(cache / "susy.zip", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(F.ProvenanceMismatch, match="susy.zip.provenance.json.*size"):
        S.susy_prepare(params, parquet=tmp_path / "tampered.parquet")
    assert not (tmp_path / "tampered.parquet").exists()


def test_prepare_from_plain_gz_when_the_zip_is_missing(paper, site, tmp_path):
    with serve(site["dir"]) as url:
        params = uci_params(paper, [url + "gone/susy.zip", url + "SUSY.csv.gz"], tmp_path / "cache")
        metrics = S.susy_prepare(params, parquet=tmp_path / "susy.parquet")
    check_parquet(tmp_path / "susy.parquet", site["ref"])
    assert metrics["provenance"]["url"].endswith("/SUSY.csv.gz") and metrics["file_source"] == "url"
    assert (tmp_path / "cache" / "SUSY.csv.gz.provenance.json").is_file()
    assert not (tmp_path / "cache" / "susy.zip").exists()


def test_prepare_from_mirror(paper, site, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "susy").mkdir(parents=True)
    (mirror / "susy" / "SUSY.csv.gz").write_bytes((site["dir"] / "SUSY.csv.gz").read_bytes())
    params = uci_params(paper, [closed_port_url() + "susy.zip", closed_port_url() + "SUSY.csv.gz"],
                        tmp_path / "cache", mirror=str(mirror))
    metrics = S.susy_prepare(params, parquet=tmp_path / "susy.parquet")
    assert metrics["file_source"] == "mirror" and metrics["provenance"]["url"].startswith("file://")
    check_parquet(tmp_path / "susy.parquet", site["ref"])
    assert S.susy_prepare(params, parquet=tmp_path / "second.parquet")["provenance"] == metrics["provenance"]


def test_unavailable_names_both_files(paper, tmp_path):
    params = uci_params(paper, [closed_port_url() + "susy.zip", closed_port_url() + "SUSY.csv.gz"],
                        tmp_path / "cache")
    with pytest.raises(F.DataUnavailable) as info:
        S.susy_prepare(params, parquet=tmp_path / "susy.parquet")
    message = str(info.value).replace("\\", "/")
    assert "<mirror>/susy/susy.zip" in message and "<mirror>/susy/SUSY.csv.gz" in message
    assert not (tmp_path / "susy.parquet").exists()


@pytest.mark.parametrize(
    "damage, rows, match",
    [
        ("short_row", N_ROWS, "Expected 19 columns, got 18"),
        ("none", N_ROWS - 1, f"more than the expected {N_ROWS - 1} rows"),
        ("none", N_ROWS + 1, f"{N_ROWS} rows, expected {N_ROWS + 1}"),
        ("label_2", N_ROWS, "row 701 has label 2.0; labels must be 0 or 1"),
        ("header", N_ROWS, "not the SUSY CSV format"),
    ],
)
def test_wrong_structure_gives_clear_error_and_no_parquet(site, tmp_path, damage, rows, match):
    lines = list(site["lines"])
    if damage == "short_row":
        lines[700] = ",".join(lines[700].split(",")[:18])
    elif damage == "label_2":
        lines[700] = "2" + lines[700][1:]
    elif damage == "header":
        lines.insert(0, ",".join(S.COLUMNS))
    source = write_gz(tmp_path / "SUSY.csv.gz", lines)
    out = tmp_path / "out" / "susy.parquet"
    with pytest.raises(F.DataFormatError, match=match):
        S.convert_csv(source, out, rows=rows, chunk_rows=CHUNK)
    assert list(out.parent.iterdir()) == []  # no parquet, no temporary


def test_corrupt_archives(site, tmp_path):
    whole = (site["dir"] / "SUSY.csv.gz").read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(F.DataFormatError, match="cut.gz: corrupt or truncated"):
        S.convert_csv(cut, tmp_path / "a.parquet", rows=N_ROWS, chunk_rows=CHUNK)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("README.txt", "no data here")
        archive.writestr("notes.md", "none")
    with pytest.raises(F.DataFormatError, match="expected a member SUSY.csv.gz"):
        S.convert_csv(other, tmp_path / "b.parquet", rows=N_ROWS, chunk_rows=CHUNK)
    assert not (tmp_path / "a.parquet").exists() and not (tmp_path / "b.parquet").exists()


# --- loader and Fig 24 on a generated parquet ---------------------------------------------

def write_parquet(path: Path, n: int, seed: int, separated: bool = False, source: bytes = b"toy") -> dict:
    """A parquet in the project's layout: half signal; the two pT columns either drawn from
    the same law for both classes, or from disjoint ranges (``separated``)."""
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.5).astype(np.int8)
    columns = {S.LABEL: label}
    for name in S.FEATURES:
        columns[name] = rng.gamma(2.0, 0.5, n).astype(np.float32)
    if separated:
        for name in ("lepton1_pt", "lepton2_pt"):
            columns[name] = np.where(label == 1, 3.0 + rng.random(n), rng.random(n)).astype(np.float32)
    table = pa.table(columns, schema=S.schema({S.META_SOURCE: source}))
    pq.write_table(table, path, row_group_size=700)
    return columns


def test_load_susy_selects_columns_and_rows(tmp_path):
    path = tmp_path / "s.parquet"
    cols = write_parquet(path, 5000, seed=1)
    full = S.load_susy(path)
    assert list(full.columns) == list(S.COLUMNS) and len(full) == 5000
    part = S.load_susy(path, columns=["lepton2_pt", S.LABEL], rows=(1390, 2810))
    assert list(part.columns) == ["lepton2_pt", S.LABEL] and part.index[0] == 1390 and len(part) == 1420
    np.testing.assert_array_equal(part["lepton2_pt"].to_numpy(), cols["lepton2_pt"][1390:2810])
    last = S.load_susy(path, columns=["met"], rows=slice(-500, None))
    np.testing.assert_array_equal(last["met"].to_numpy(), cols["met"][-500:])
    assert len(S.load_susy(path, columns=["met"], rows=10)) == 10
    picks = [4999, 3, 701, 700, 3]
    chosen = S.load_susy(path, columns=["m_r"], rows=picks)
    assert chosen.index.tolist() == picks
    np.testing.assert_array_equal(chosen["m_r"].to_numpy(), cols["m_r"][picks])
    assert len(S.load_susy(path, columns=["met"], rows=slice(10, 10))) == 0
    with pytest.raises(KeyError, match="unknown SUSY columns"):
        S.load_susy(path, columns=["pt"])
    with pytest.raises(IndexError):
        S.load_susy(path, rows=[5000])


def test_held_out_rows(paper):
    params = paper["fig24"]
    assert S.held_out_rows(5_000_000, params) == (4_500_000, 5_000_000)  # the UCI test set
    assert S.held_out_rows(1_000_000, params) == (900_000, 1_000_000)  # smaller files: last 10%


def test_overlap_coefficient_limits():
    rng = np.random.default_rng(3)
    x, y = rng.random(4000), rng.random(4000)
    assert S.overlap_coefficient(x, y, x, y, [1.0, 1.0], 10)[0] == pytest.approx(1.0)
    assert S.overlap_coefficient(x, y, x + 2.0, y + 2.0, [3.0, 3.0], 10)[0] == 0.0


def fig24_params(paper) -> dict:
    return dict(paper["fig24"], events_per_class=300, grid=20, test_rows=5000, test_fraction=0.2)


def test_fig24_step(paper, tmp_path):
    path = tmp_path / "toy.parquet"
    cols = write_parquet(path, 8000, seed=2)
    params = fig24_params(paper)
    metrics = run("mlreview.data.susy:fig24_select", params, {"parquet": path},
                  {"data": tmp_path / "fig24.npz", "metrics": tmp_path / "fig24.json"})
    data = load_npz(tmp_path / "fig24.npz")
    assert metrics["source"] == "toy" and metrics["rows"] == 8000
    assert metrics["test_rows"] == {"start": 6400, "stop": 8000, "n": 1600}
    assert metrics["n_signal"] == metrics["n_background"] == 300
    assert data["rows"].min() >= 6400 and len(np.unique(data["rows"])) == 600
    np.testing.assert_array_equal(data["pt1"], cols["lepton1_pt"][data["rows"]])
    np.testing.assert_array_equal(data["label"], cols[S.LABEL][data["rows"]])
    assert metrics["means"]["lepton1_pt"] == pytest.approx(cols["lepton1_pt"].mean(dtype=np.float64), rel=1e-12)
    assert metrics["means"]["lepton2_pt"] == pytest.approx(cols["lepton2_pt"].mean(dtype=np.float64), rel=1e-12)
    assert metrics["limits"]["lepton1_pt"] == pytest.approx(np.percentile(data["pt1"], params["percentile"]))
    assert data["hist_signal"].shape == (20, 20) and data["edges_x"][-1] == pytest.approx(data["limits"][0])
    # Same law for both classes: a large overlap; sampling noise in the 300-event histograms
    # keeps it well below 1, and the 1600 test rows give less noise, so more overlap.
    assert 0.4 < metrics["overlap_coefficient"] < 1.0
    assert metrics["overlap_coefficient_all_test_rows"] > metrics["overlap_coefficient"]
    if (tmp_path / "fig24.json").exists():
        assert load_json(tmp_path / "fig24.json")["metrics"]["overlap_coefficient"] == metrics["overlap_coefficient"]
    # Seeded: the same sample again; another seed: another sample.
    S.fig24_select(params, parquet=path, data=tmp_path / "again.npz")
    np.testing.assert_array_equal(load_npz(tmp_path / "again.npz")["rows"], data["rows"])
    S.fig24_select(dict(params, seed=params["seed"] + 1), parquet=path, data=tmp_path / "other.npz")
    assert not np.array_equal(load_npz(tmp_path / "other.npz")["rows"], data["rows"])


def test_fig24_separated_classes_and_small_test_set(paper, tmp_path):
    path = tmp_path / "sep.parquet"
    write_parquet(path, 2000, seed=4, separated=True, source=b"uci")
    metrics = S.fig24_select(fig24_params(paper), parquet=path, data=tmp_path / "d.npz")
    assert metrics["source"] == "uci" and metrics["overlap_coefficient"] == 0.0
    # 400 test rows hold fewer than 300 events of a class: all of them are drawn.
    n_signal = int((S.load_susy(path, columns=[S.LABEL], rows=(1600, 2000))[S.LABEL] == 1).sum())
    assert metrics["n_signal"] == n_signal and metrics["n_background"] == 400 - n_signal
