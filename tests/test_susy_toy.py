"""The physics stand-in for the SUSY data set: kinematics, features, scaling, the step and its plot."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlreview.data import susy_toy as T
from mlreview.data.susy import COLUMNS, FEATURES, LABEL

ROOT = Path(__file__).resolve().parents[1]
N = 20_000
ANGLES = ("lepton1_phi", "lepton2_phi", "met_phi")


@pytest.fixture(scope="module")
def params() -> dict:
    p = copy.deepcopy(yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["susy"]["toy"])
    p.update(n_events=N, chunk_events=7_000)  # several chunks, a partial last one
    p["auc"].update(events=N, n_estimators=100)
    return p


@pytest.fixture(scope="module")
def sample(params):
    labels, raw, counts = T.generate_raw(N, params, seed=11)
    scales = T.column_scales(raw)
    return labels, raw, T.to_frame(labels, raw, scales), scales, counts


def _no_detector(params: dict) -> dict:
    return {**params, "lepton_resolution": 0.0, "met_resolution": 0.0}


# ----------------------------------------------------------------- kinematics
def test_boost_preserves_mass_and_round_trips():
    rng = np.random.default_rng(0)
    p = np.empty((500, 4))
    p[:, 1:] = rng.normal(0, 50, (500, 3))
    p[:, 0] = np.sqrt((p[:, 1:] ** 2).sum(1) + rng.uniform(0, 100, 500) ** 2)
    beta = rng.normal(0, 0.4, (500, 3))
    beta /= np.maximum(1.0, np.linalg.norm(beta, axis=1) / 0.95)[:, None]
    q = T.boost(p, beta)
    np.testing.assert_allclose(T.mass(q), T.mass(p), rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(T.boost(q, -beta), p, rtol=1e-9, atol=1e-7)


def test_two_body_decay_conserves_four_momentum_and_masses():
    rng = np.random.default_rng(1)
    n, m_parent = 1000, 400.0
    parent = np.zeros((n, 4))
    parent[:, 1:] = rng.normal(0, 300, (n, 3))
    parent[:, 0] = np.sqrt((parent[:, 1:] ** 2).sum(1) + m_parent**2)
    a, b = T.two_body_decay(parent, m_parent, 80.0, 100.0, rng)
    np.testing.assert_allclose(a + b, parent, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(T.mass(a), 80.0, rtol=1e-7)
    np.testing.assert_allclose(T.mass(b), 100.0, rtol=1e-7)


def test_breit_wigner_window_and_on_shell_guard(params):
    rng = np.random.default_rng(2)
    m = T.breit_wigner(20_000, 80.4, 2.1, 70.0, 90.0, rng)
    assert m.min() >= 70.0 and m.max() <= 90.0
    assert abs(np.median(m) - 80.4) < 0.2  # the peak sits at the pole mass
    with pytest.raises(ValueError):  # chargino too light for an on-shell W
        T.simulate_truth(10, True, {**params, "chargino_mass": 150.0, "neutralino_mass": 100.0}, rng)


def test_truth_conserves_pair_momentum_without_recoil(params):
    rng = np.random.default_rng(3)
    for signal in (True, False):
        truth = T.simulate_truth(2000, signal, {**params, "recoil_width": 0.0}, rng)
        total = truth["lepton1"] + truth["lepton2"] + truth["invisible"]
        np.testing.assert_allclose(total[:, 1:3], 0.0, atol=1e-6)
        np.testing.assert_allclose(T.mass(total), truth["sqrt_shat"], rtol=1e-7)
        np.testing.assert_allclose(T.mass(truth["lepton1"]), 0.0, atol=1e-3)
        threshold = (
            2 * params["chargino_mass"]
            if signal
            else 2 * (params["w_mass"] - params["w_window_widths"] * params["w_width"])
        )
        assert truth["sqrt_shat"].min() >= threshold - 1e-9
        assert truth["sqrt_shat"].max() <= params["sqrt_s"]


def test_background_mt2_and_m_delta_end_at_the_w_mass_without_smearing(params):
    """MT2 (massless hypothesis, true missing pT) of W pairs cannot exceed the W mass; the
    estimator M_Delta^R has its endpoint there too (up to the rare events where the
    estimated frames are poor). Chargino pairs reach far beyond both."""
    p = _no_detector(params)
    w_max = p["w_mass"] + p["w_window_widths"] * p["w_width"]
    raw, _ = T.simulate_accepted(4000, False, p, np.random.default_rng(4))
    assert raw["mt2"].max() <= w_max * (1 + 1e-6)
    assert (raw["m_delta_r"] > w_max).mean() < 0.01
    sig, _ = T.simulate_accepted(4000, True, p, np.random.default_rng(5))
    assert (sig["mt2"] > w_max).mean() > 0.2
    assert (sig["m_delta_r"] > w_max).mean() > 0.2


# ----------------------------------------------------------------- features
def test_feature_definitions_on_hand_made_events():
    """Parents at rest: two 50 GeV leptons, missing pT balancing them (see the module docstring)."""
    l1 = np.array([[50.0, 50.0, 0.0, 0.0], [50.0, 50.0, 0.0, 0.0]])
    l2 = np.array([[50.0, 0.0, 50.0, 0.0], [50.0, 50.0, 0.0, 0.0]])  # perpendicular; parallel
    metx, mety = -(l1[:, 1] + l2[:, 1]), -(l1[:, 2] + l2[:, 2])
    sr = T.super_razor(l1, l2, metx, mety)
    np.testing.assert_allclose(sr["s_r"], [200.0, 200.0])  # 2 M_R when the pair has no pT
    np.testing.assert_allclose(sr["m_delta_r"], [200.0 / (2 * math.sqrt(2)), 100.0])  # endpoint M_Delta = 100
    np.testing.assert_allclose(sr["dphi_r_b"][0], math.pi / 4)
    meas = {
        "pt1": np.array([50.0, 50.0]),
        "eta1": np.zeros(2),
        "phi1": np.zeros(2),
        "pt2": np.array([50.0, 50.0]),
        "eta2": np.zeros(2),
        "phi2": np.array([math.pi / 2, 0.0]),
        "metx": metx,
        "mety": mety,
    }
    f = T.features(meas, {"mt2_invisible_mass": 0.0})
    np.testing.assert_allclose(f["m_r"], [100.0, 100.0])
    np.testing.assert_allclose(f["axial_met"], f["met"])  # missing pT exactly opposite the dileptons
    np.testing.assert_allclose(f["met_rel"], f["met"])  # no lepton within pi/2 of the missing pT
    np.testing.assert_allclose(f["m_tr_2"][1], 100.0)  # sqrt((100*100 + 100*100)/2)
    np.testing.assert_allclose(f["r"][1], 1.0)
    np.testing.assert_allclose(
        f["mt2"][0], math.sqrt(5000.0), rtol=1e-6
    )  # each invisible opposite the other lepton


def test_columns_and_dtypes(sample):
    frame = sample[2]
    assert tuple(frame.columns) == COLUMNS
    assert frame[LABEL].dtype == np.int8 and set(np.unique(frame[LABEL])) == {0, 1}
    assert all(frame[name].dtype == np.float32 for name in FEATURES)
    assert len(frame) == N


def test_deterministic_for_a_seed(params):
    a = T.generate(3000, params, seed=5)
    b = T.generate(3000, params, seed=5)
    c = T.generate(3000, params, seed=6)
    assert a.equals(b)
    assert not a.equals(c)


def test_features_finite_and_in_physical_ranges(sample, params):
    labels, raw, frame, _, _ = sample
    values = frame[list(FEATURES)].to_numpy()
    assert np.isfinite(values).all()
    for name in ("lepton1_pt", "lepton2_pt", "met", "m_r", "m_tr_2", "s_r", "m_delta_r"):
        assert (frame[name] > 0).all(), name
    for name in ANGLES:
        assert (frame[name].abs() <= math.pi + 1e-6).all()
    for name in ("lepton1_eta", "lepton2_eta"):
        assert (frame[name].abs() < params["lepton_eta_max"]).all()
    assert (frame["mt2"] >= 0).all() and (frame["met_rel"] >= 0).all()
    assert (frame["dphi_r_b"] >= 0).all() and (frame["dphi_r_b"] <= math.pi + 1e-6).all()
    assert (frame["cos_theta_r1"] >= 0).all() and (frame["cos_theta_r1"] <= 1).all()
    assert (frame["r"] >= 0).all()
    assert (frame["r"] > 1).mean() < 0.1  # R is mostly below one (not bounded: large missing pT)
    # Raw (GeV) relations.
    assert (raw["lepton1_pt"] >= raw["lepton2_pt"]).all()  # leading, sub-leading
    assert (raw["lepton2_pt"] > params["lepton_pt_min"]).all()
    assert (raw["m_r"] >= (raw["lepton1_pt"] + raw["lepton2_pt"]) * (1 - 1e-9)).all()
    assert (raw["met_rel"] <= raw["met"] * (1 + 1e-9)).all()
    assert (np.abs(raw["axial_met"]) <= raw["met"] * (1 + 1e-9)).all()
    # Some events have a scaled sub-leading pT above the scaled leading one, as in the UCI file.
    assert (frame["lepton2_pt"] > frame["lepton1_pt"]).any()


def test_scaling_to_unit_mean(sample):
    labels, raw, frame, scales, _ = sample
    for name in T.SCALED:
        assert frame[name].astype(np.float64).mean() == pytest.approx(1.0, rel=1e-5)
        np.testing.assert_allclose(frame[name] * scales[name], raw[name], rtol=1e-5, atol=1e-4)
    for name in set(FEATURES) - set(T.SCALED):
        np.testing.assert_allclose(frame[name], raw[name], rtol=1e-6, atol=1e-6)


def test_signal_and_background_differ_as_physics_says(sample, params):
    labels, raw, frame, _, counts = sample
    assert abs(labels.mean() - params["signal_fraction"]) < 0.02
    sig, bkg = frame[labels == 1], frame[labels == 0]
    for name in ("mt2", "met", "m_delta_r", "lepton1_pt"):
        assert sig[name].mean() > 1.3 * bkg[name].mean(), name
    for name in ("lepton1_eta", "lepton1_phi", "met_phi"):  # symmetric: no class information
        assert abs(sig[name].mean() - bkg[name].mean()) < 0.1, name
    assert all(0.3 < c["accepted"] / c["simulated"] <= 1 for c in counts.values())


def test_classifier_auc_between_chance_and_perfect(sample, params):
    auc = T.classifier_auc(sample[2], params["auc"], threads=2)
    print(f"toy AUC on {auc['events']} events: {auc['value']:.4f}")
    assert auc["test"] == pytest.approx(params["auc"]["test_fraction"] * N, abs=1)
    assert 0.75 < auc["value"] < 0.98


# ----------------------------------------------------------------- step and plot
def test_toy_step_parquet_metadata_and_metrics(params, tmp_path):
    """The registered steps end to end: susy_prepare with source toy writes the parquet and
    metrics, and susy_features_plot draws it."""
    import pyarrow.parquet as pq

    from mlreview.cli import run_step
    from mlreview.io import load_json

    p = {**params, "n_events": 4000, "chunk_events": 1500, "source": "toy"}
    p["auc"] = {**params["auc"], "events": 4000, "n_estimators": 20}
    path, metrics_path = tmp_path / "susy_toy.parquet", tmp_path / "susy.json"
    metrics = run_step("susy_prepare", p, outputs={"parquet": path, "metrics": metrics_path})
    assert metrics_path.exists() and load_json(metrics_path)
    pf = pq.ParquetFile(path)
    assert pf.metadata.num_rows == 4000 and pf.num_row_groups == 3
    assert pf.schema_arrow.names == list(COLUMNS)
    assert str(pf.schema_arrow.field(LABEL).type) == "int8"
    assert all(str(pf.schema_arrow.field(n).type) == "float" for n in FEATURES)
    meta = pf.schema_arrow.metadata
    assert meta[b"source"] == b"toy"
    assert json.loads(meta[b"params"]) == json.loads(json.dumps(p))
    assert set(json.loads(meta[b"scales_gev"])) == set(T.SCALED)
    table = pf.read().to_pandas()
    assert table.equals(T.generate(4000, p, p["seed"]))
    for key in ("n_events", "signal_fraction", "mean", "auc", "wall_time_s", "scales_gev", "acceptance"):
        assert key in metrics
    assert set(metrics["mean"]) == {"signal", "background"}
    assert set(metrics["mean"]["signal"]) == set(FEATURES)
    assert 0.5 < metrics["auc"]["value"] < 1.0
    assert not list(tmp_path.glob(".*.tmp"))

    pdf, png = tmp_path / "f.pdf", tmp_path / "f.png"
    plot_config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["susy"]["features_plot"]
    plot_params = {**plot_config, "max_events": 3000}
    run_step("susy_features_plot", plot_params, inputs={"parquet": path}, outputs={"pdf": pdf, "png": png})
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0
