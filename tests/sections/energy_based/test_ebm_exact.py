"""Exact-likelihood studies of energy-based models (mlreview.sections.energy_based.exact) and their figures."""

import numpy as np
import pytest
import torch

from mlreview.sections.energy_based import exact_plots as figs
from mlreview.io import load_npz, save_npz
from mlreview.ising.exact import brute_force
from mlreview import ebm
from mlreview.sections.energy_based import exact as ebm_exact


def test_ising_energies_and_distribution_match_brute_force():
    for L, T in ((3, 2.0), (4, 2.25)):
        dist = ebm_exact.ising_distribution(L, T, 1.0)
        p = np.exp(dist["log_p"])
        ref = brute_force(L, T)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert p @ dist["energy_per_spin"] == pytest.approx(float(ref["energy_per_spin"]), rel=1e-10)
        assert p @ dist["abs_m"] == pytest.approx(float(ref["mean_abs_m"]), rel=1e-10)
    # ground states: all up / all down have energy -2 J per spin
    states = np.array([np.zeros(9), np.ones(9)])
    assert np.allclose(ebm_exact.ising_state_energies(3, 1.0, states) / 9, -2.0)


def test_kl_divergence():
    log_p = np.log(np.array([0.5, 0.25, 0.25]))
    assert ebm_exact.kl_divergence(log_p, log_p) == 0.0
    log_q = np.log(np.full(3, 1 / 3))
    assert ebm_exact.kl_divergence(log_p, log_q) == pytest.approx(np.log(3) - 1.5 * np.log(2))


def test_ais_table_rows():
    m = ebm.RBM(6, 3, dtype=torch.float64)
    with torch.no_grad():
        m.W.normal_(generator=ebm.make_generator(0))
    rows = ebm_exact.ais_table({"tiny": m}, [10, 100], {"n_runs": 20, "schedule": "linear", "seed": 0}, None, "cpu")
    assert [r["n_steps"] for r in rows] == [10, 100]
    assert all(r["error"] == pytest.approx(r["log_z"] - r["exact"]) for r in rows)
    summary = ebm_exact._ais_summary(rows)
    assert set(summary) == {"10", "100"}


def fake_mnist(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    strokes = rng.integers(0, 2, (n, 1, 1)) * np.ones((1, 28, 28))
    strokes[:, :, :14] = 1 - strokes[:, :, :14]
    x = (strokes * 255 * (rng.random((n, 28, 28)) < 0.9)).astype(np.uint8)
    y = rng.integers(0, 10, n).astype(np.uint8)
    save_npz(path, x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])


TRAIN = {"epochs": 2, "batch_size": 20, "lr": 1.0e-2, "schedule": "inverse_epoch", "n_chains": 20}


def test_likelihood_step_and_plot(tmp_path):
    fake_mnist(tmp_path / "mnist.npz")
    params = {
        "device": "cpu", "n_images": None, "binarize": 0.5, "train_fraction": 0.9, "split_seed": 0,
        "n_hidden": 4, "init_seed": 1, "methods": {"CD-1": {"method": "cd", "k": 1}, "PCD-1": {"method": "pcd", "k": 1}},
        "training": {**TRAIN, "seed": 2},
        "dbm": {"hidden": [4, 3], "k": 1, "mean_field_iter": 3, "seed": 3, "pretrain": {**TRAIN, "epochs": 1},
                "joint": {**TRAIN, "epochs": 1}},
        "ais": {"n_runs": 10, "n_steps": [10, 50], "schedule": "piecewise", "seed": 4},
    }
    m = ebm_exact.rbm_likelihood(params, npz=tmp_path / "mnist.npz", data=tmp_path / "out.npz")
    assert m["n_train"] == 108 and m["n_val"] == 12
    for name in ("CD-1", "PCD-1"):
        curve = m["methods"][name]["per_epoch"]["ll_val"]
        assert len(curve) == 3 and curve[-1] > curve[0]
    assert m["dbm"]["val_lower_bound"] < 0
    assert len(m["ais_rows"]) == 3 * 2
    d = load_npz(tmp_path / "out.npz")
    assert d["ll_train"].shape == (2, 3)
    figs.rbm_likelihood_plot(params, data=tmp_path / "out.npz", pdf=tmp_path / "f.pdf", png=tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0


def test_ising_kl_step_and_plot(tmp_path):
    params = {
        "device": "cpu", "L": 3, "J": 1.0, "temperatures": [2.0, 3.0], "n_samples": 500, "sample_seed": 5,
        "hidden_kinds": ["bernoulli", "gaussian"], "hidden_sizes": [2, 4], "init_seed": 6,
        "training": {**TRAIN, "method": "pcd", "k": 1, "epochs": 3, "seed": 7},
        "ais": {"temperature": 3.0, "n_runs": 10, "n_steps": [10], "schedule": "linear", "seed": 8},
    }
    m = ebm_exact.rbm_ising_kl(params, data=tmp_path / "out.npz")
    d = load_npz(tmp_path / "out.npz")
    assert d["kl"].shape == (2, 2, 2, 4)
    assert np.all(d["kl"] >= -1e-12)
    assert np.all(d["kl"][..., -1] < d["kl"][..., 0])  # training lowers the exact KL
    assert m["temperatures"]["2"]["exact_abs_m"] == pytest.approx(float(brute_force(3, 2.0)["mean_abs_m"]))
    assert len(m["ais_rows"]) == 2
    figs.rbm_ising_kl_plot(params, data=tmp_path / "out.npz", pdf=tmp_path / "f.pdf", png=tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
    with pytest.raises(Exception, match="ais.temperature"):
        ebm_exact.rbm_ising_kl({**params, "hidden_sizes": [2], "ais": {**params["ais"], "temperature": 9.0}},
                                data=tmp_path / "x.npz")
