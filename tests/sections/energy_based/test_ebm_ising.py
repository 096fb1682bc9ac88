"""Figs 66-68: the DBM-per-temperature step, its observables, the claim proxies and the figures."""

import json

import numpy as np
import pytest
import torch

from mlreview.cli import run_step
from mlreview.errors import MlreviewError
from mlreview.io import load_npz
from mlreview import ebm
from mlreview.sections.energy_based import ising as EI
from tests.conftest import save_tiny_ising

L = 6
TEMPS = [1.75, 2.25, 2.75]
PER_T = 200


def params(**over):
    p = {
        "device": "cpu", "train_fraction": 0.9, "split_seed": 1, "hidden": [16, 4], "l1": 1.0e-4, "k": 2,
        "n_chains": 20, "batch_size": 20, "mean_field_iter": 5, "seed": 2,
        "optimizer": "adam", "momentum": 0.0, "bias_lr_scale": 1.0, "centering": False, "centering_rate": 0.01,
        "flip_moves": False,
        "pretrain": {"epochs": 2, "lr": 1.0e-2, "schedule": "inverse_epoch"},
        "joint": {"epochs": 1, "lr": 1.0e-3, "schedule": "inverse_epoch"},
        "monitor": {"n_particles": 10, "steps": 5, "pl_sites": 8, "seed": 4},
        "fantasy": {"start": "random", "n_particles": 50, "steps": 10, "seed": 3}, "n_display": 4,
        "histogram_bins": 12,
        "c74": {"temperatures": [2.25, 2.75], "abs_m_tolerance": 0.1, "energy_rel_tolerance": 0.1},
        "c75": {"ordered": 1.75, "sign_fraction_tolerance": 0.2},
        "plot": {"cmap": "gray_r", "row_labels": ["data", "reconst", "fantasy"],
                 "title": "DBM", "lattice_label": "6 x 6 torus"},
    }
    p.update(over)
    return p


@pytest.fixture(scope="module")
def ising_file(tmp_path_factory):
    """Ordered states (both signs, 5% of spins against the majority) at 1.75, random ones above."""
    rng = np.random.default_rng(0)
    rows = []
    for T in TEMPS:
        if T < 2.0:
            sign = rng.choice([-1, 1], size=(PER_T, 1)).astype(np.int8)
            rows.append(np.where(rng.random((PER_T, L * L)) < 0.05, -sign, sign))
        else:
            rows.append(rng.choice([-1, 1], size=(PER_T, L * L)).astype(np.int8))
    return save_tiny_ising(tmp_path_factory.mktemp("ising") / "ising2d.npz", rows, TEMPS, L)


@pytest.fixture(scope="module")
def fitted(ising_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("fits")
    files = []
    for T in TEMPS:
        paths = {"model": out / f"T{T}_dbm.npz", "data": out / f"T{T}.npz", "metrics": out / f"T{T}.json"}
        run_step("ising_dbm_fit", {**params(), "temperature": T}, {"dataset": ising_file}, paths)
        files.append(paths)
    return files


def test_summarise_known_values():
    m = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.0])
    s = EI.summarise(m, -2 * np.ones(6), np.ones(6), bins=4)
    assert s["n"] == 6
    assert s["mean_abs_m"] == pytest.approx(4.0 / 6)
    assert s["fraction_positive"] == pytest.approx((3 + 0.5) / 6)  # m = 0 counts one half
    assert s["energy_per_spin"] == -2.0 and s["nn_correlation"] == 1.0
    assert sum(s["m_histogram"]["counts"]) == 6
    assert s["m_histogram"]["edges"] == pytest.approx([-1.0, -0.5, 0.0, 0.5, 1.0])


def test_deviations_in_units_of_the_tolerances():
    mc = {"mean_abs_m": 0.9, "energy_per_spin": -1.8, "fraction_positive": 0.5, "nn_correlation": 0.9}
    model = {"mean_abs_m": 0.75, "energy_per_spin": -1.71, "fraction_positive": 0.9, "nn_correlation": 0.855}
    d = EI.deviations(model, mc, params()["c74"], params()["c75"])
    assert d["scaled"]["abs_m"] == pytest.approx(1.5)
    assert d["scaled"]["energy"] == pytest.approx(0.5)
    assert d["scaled"]["sign"] == pytest.approx(2.0)
    assert d["score"] == pytest.approx(2.0)
    assert d["energy_rel_deviation"] == pytest.approx(0.05)
    assert not d["within_c74"]
    assert EI.deviations(mc, mc, params()["c74"], params()["c75"])["within_c74"]


def test_claims_compare_the_ordered_temperature_with_the_others():
    def entry(score, within):
        return {"deviation": {"fantasy": {"score": score, "within_c74": within}}}

    per_t = {"T_1.75": entry(5.0, False), "T_2.25": entry(0.5, True), "T_2.75": entry(0.8, True)}
    c = EI.claims(per_t, params())
    assert c["c74"]["holds"] and c["c75"]["holds"]
    assert c["c75"]["largest_other_score"] == 0.8
    per_t["T_2.75"] = entry(6.0, False)
    c = EI.claims(per_t, params())
    assert not c["c74"]["holds"] and not c["c75"]["holds"] and not c["c75"]["larger"]
    # worst at 1.75, but failing everywhere: no contrast between the phases
    per_t["T_2.75"] = entry(4.0, False)
    c = EI.claims(per_t, params())
    assert c["c75"]["larger"] and not c["c75"]["holds"]
    with pytest.raises(MlreviewError, match="not run"):
        EI.claims({"T_2.25": entry(1.0, True)}, params())


def test_fit_step_outputs(fitted):
    m = json.loads(fitted[0]["metrics"].read_text())["metrics"]
    assert m["temperature"] == 1.75 and m["layers"] == [36, 16, 4]
    assert m["n_train"] == 180 and m["n_validation"] == 20
    assert set(m["observables"]) == set(EI.SETS)
    assert m["observables"]["fantasy"]["n"] == 50 and m["observables"]["mc"]["n"] == PER_T
    # the data's observables are the generator's: ordered, both signs, 5% flipped spins
    mc = m["observables"]["mc"]
    assert mc["mean_abs_m"] == pytest.approx(0.9, abs=0.03)
    assert 0.35 < mc["fraction_positive"] < 0.65
    z = load_npz(fitted[0]["data"])
    assert z["data"].shape == z["reconstruction"].shape == z["fantasy"].shape == (4, L * L)
    assert set(np.unique(z["fantasy"])) <= {0.0, 1.0}
    assert len(z["m/fantasy"]) == 50 and len(z["energy/reconstruction"]) == 20
    model = ebm.load_model(fitted[0]["model"])
    assert model.layer_sizes == [36, 16, 4]
    # the drawn reconstructions are the mean-field pass's, most probable v'; both passes' errors are kept
    assert set(m["reconstruction_mse"]) == {"mean_field", "one_sided"}
    v = torch.as_tensor(z["data"], dtype=torch.float32)
    np.testing.assert_array_equal(z["reconstruction"], model.mean_field_reconstruct(v, 5).numpy())


def test_early_stopping_and_doubled_weights_in_the_fit_step(ising_file, tmp_path):
    p = params(pretrain={"epochs": 4, "lr": 1.0e-2, "schedule": "inverse_epoch", "keep_best": "pseudo_ll",
                         "patience": 1, "doubled_weights": True})
    paths = {"model": tmp_path / "m.npz", "data": tmp_path / "d.npz", "metrics": tmp_path / "m.json"}
    m = run_step("ising_dbm_fit", {**p, "temperature": 2.25}, {"dataset": ising_file}, paths)
    t = m["training"]
    z = load_npz(paths["data"])
    pll = z["history/pretrain0_pseudo_ll"]
    # the first RBM stops one epoch after its best validation pseudo-likelihood and keeps that epoch;
    # the upper RBM, which the monitor does not see, trains every epoch
    assert t["pretrain_kept_epoch"][0] == int(np.argmax(pll)) + 1 == int(np.argmax(z["history/pretrain0_kept"])) + 1
    assert t["pretrain_epochs"][0] in (t["pretrain_kept_epoch"][0] + 1, 4) and t["pretrain_epochs"][1] == 4
    assert t["monitor"]["pretrain"]["pseudo_ll"] == pytest.approx(float(pll.max()))


def test_fit_step_saves_the_per_epoch_monitors(fitted):
    m = json.loads(fitted[0]["metrics"].read_text())["metrics"]
    z = load_npz(fitted[0]["data"])
    for stage, epochs in (("pretrain0", 2), ("joint", 1)):
        for key in ("recon_mse", "fantasy_abs_m", "fantasy_energy", "fantasy_nn", "chains_abs_m", "chains_energy"):
            assert z[f"history/{stage}_{key}"].shape == (epochs,), (stage, key)
    assert z["history/pretrain0_pseudo_ll"].shape == (2,) and "history/joint_pseudo_ll" not in z
    assert "history/pretrain1_fantasy_abs_m" not in z  # the upper RBM does not see the lattice
    assert np.all(z["history/pretrain0_pseudo_ll"] < 0)
    # e = -2 <s_i s_j> on the torus, and the metrics carry the last epoch of each stage
    np.testing.assert_allclose(z["history/joint_chains_energy"], -2 * z["history/joint_chains_nn"])
    assert m["training"]["monitor"]["joint"]["chains_abs_m"] == pytest.approx(float(z["history/joint_chains_abs_m"][-1]))
    assert set(m["training"]["cpu_seconds"]) == {"pretrain", "joint"}


def test_monitor_skips_models_off_the_lattice_and_keeps_the_chains():
    X = np.random.default_rng(0).integers(0, 2, size=(30, L * L)).astype(np.float32)
    mon = EI.Monitor(params(), L, X[:10])
    assert len(mon.sites) == 8
    rbm = ebm.RBM(L * L, 5).initialize(X, ebm.make_generator(0))
    out = mon.model(rbm, 1)
    assert set(out) == {"fantasy_abs_m", "fantasy_energy", "fantasy_nn", "pseudo_ll"}
    assert out == mon.model(rbm, 2)  # the same seeded particles every epoch
    assert mon.model(ebm.RBM(5, 3), 1) == {} and mon.chains([torch.zeros(4, 5)], 1) == {}
    chains = [torch.ones(4, L * L)]
    assert mon.chains(chains, 1) == {"chains_abs_m": 1.0, "chains_energy": -2.0, "chains_nn": 1.0}
    assert mon.last_chains is chains


def test_persistent_fantasy_particles_continue_the_joint_chains(ising_file, tmp_path):
    p = params(optimizer="sgd", momentum=0.5, bias_lr_scale=0.1, centering=True, flip_moves=True,
               pretrain={"epochs": 2, "lr": 5.0e-2, "schedule": "constant"},
               joint={"epochs": 1, "lr": 1.0e-2, "schedule": "constant"},
               fantasy={"start": "persistent", "n_particles": 12, "steps": 3, "seed": 3})
    paths = {"model": tmp_path / "m.npz", "data": tmp_path / "d.npz", "metrics": tmp_path / "m.json"}
    m = run_step("ising_dbm_fit", {**p, "temperature": 1.75}, {"dataset": ising_file}, paths)
    assert m["observables"]["fantasy"]["n"] == 12
    too_many = {**p, "fantasy": {**p["fantasy"], "n_particles": 21}, "temperature": 1.75}
    with pytest.raises(MlreviewError, match="persistent chains"):
        run_step("ising_dbm_fit", too_many, {"dataset": ising_file}, paths)


def test_fit_step_is_deterministic(ising_file, fitted, tmp_path):
    paths = {"model": tmp_path / "m.npz", "data": tmp_path / "d.npz", "metrics": tmp_path / "m.json"}
    again = run_step("ising_dbm_fit", {**params(), "temperature": 1.75}, {"dataset": ising_file}, paths)
    first = json.loads(fitted[0]["metrics"].read_text())["metrics"]
    assert again["observables"] == first["observables"]


def test_the_dbm_learns_the_ordered_states(ising_file, tmp_path):
    # enough training on 6 x 6 ordered states: reconstructions keep the order and the sign
    p = params(pretrain={"epochs": 10, "lr": 3.0e-2, "schedule": "constant"})
    paths = {"model": tmp_path / "m.npz", "data": tmp_path / "d.npz", "metrics": tmp_path / "m.json"}
    m = run_step("ising_dbm_fit", {**p, "temperature": 1.75}, {"dataset": ising_file}, paths)
    rec, val = m["observables"]["reconstruction"], m["observables"]["validation"]
    assert rec["mean_abs_m"] > 0.8
    assert abs(rec["fraction_positive"] - val["fraction_positive"]) < 0.2


def test_unknown_temperature(ising_file, tmp_path):
    paths = {"model": tmp_path / "m.npz", "data": tmp_path / "d.npz", "metrics": tmp_path / "m.json"}
    with pytest.raises(MlreviewError, match="no Ising states"):
        run_step("ising_dbm_fit", {**params(), "temperature": 0.5}, {"dataset": ising_file}, paths)


def test_observables_step_and_figures(fitted, tmp_path):
    data, models = [f["data"] for f in fitted], [f["model"] for f in fitted]
    m = run_step("ising_dbm_observables", params(), {"data": data, "models": models},
                 {"summary": tmp_path / "s.npz", "metrics": tmp_path / "s.json"})
    assert m["temperatures"] == TEMPS and m["n_train"] == 180 and m["layers"] == [36, 16, 4]
    assert set(m["by_temperature"]) == {"T_1.75", "T_2.25", "T_2.75"}
    t = m["by_temperature"]["T_1.75"]
    assert t["deviation"]["fantasy"]["delta_abs_m"] == pytest.approx(
        t["observables"]["fantasy"]["mean_abs_m"] - t["observables"]["mc"]["mean_abs_m"])
    # the gather's summaries are the fit step's
    fit = json.loads(fitted[1]["metrics"].read_text())["metrics"]
    assert m["by_temperature"]["T_2.25"]["observables"] == fit["observables"]
    assert isinstance(m["c74"]["holds"], bool) and isinstance(m["c75"]["holds"], bool)
    w = t["weights"]
    assert set(w) == {"W1", "W2"}
    assert w["W1"]["glorot_init_mean_abs"] == pytest.approx(np.sqrt(2 / (36 + 16)) * np.sqrt(2 / np.pi))
    assert w["W1"]["mean_abs"] == pytest.approx(float(ebm.load_model(fitted[0]["model"]).Ws[0].detach().abs().mean()))
    for f in fitted[:1]:
        run_step("ising_dbm_plot", params(), {"data": f["data"]}, {"pdf": tmp_path / "a.pdf", "png": tmp_path / "a.png"})
    run_step("ising_dbm_observables_plot", params(), {"summary": tmp_path / "s.npz"},
             {"pdf": tmp_path / "b.pdf", "png": tmp_path / "b.png"})
    run_step("ising_dbm_training_plot", params(), {"data": data}, {"pdf": tmp_path / "c.pdf", "png": tmp_path / "c.png"})
    for name in ("a.pdf", "a.png", "b.pdf", "b.png", "c.pdf", "c.png"):
        assert (tmp_path / name).stat().st_size > 0
