"""The MNIST energy-based models of Figs 60, 64, 65 (mlreview.sections.energy_based.mnist, figures.ebm_mnist)
on a tiny stand-in for MNIST: helpers against known answers, the steps end to end."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import yaml

from mlreview import ebm
from mlreview.cli import run_step
from mlreview.steps import registry
from mlreview.data.splits import split_indices
from mlreview.errors import MlreviewError
from mlreview.io import load_json, load_npz, save_npz
from mlreview.sections.energy_based import mnist as em
from tests.conftest import ROOT

SIDE = 4
N_IMAGES = 240


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


@pytest.fixture(scope="module")
def section(config) -> dict:
    return config["energy_based"]["mnist"]


@pytest.fixture(scope="module")
def mnist_file(tmp_path_factory):
    """Three 'digits' on 4 x 4 pixels (16 visible units: even the Gaussian-hidden RBM is enumerable):
    a bright row, column or diagonal per class plus a little noise."""
    rng = np.random.default_rng(3)

    def draw(n):
        y = rng.integers(0, 3, n).astype(np.uint8)
        x = (rng.random((n, SIDE, SIDE)) < 0.05).astype(np.uint8) * 200
        for i, label in enumerate(y):
            if label == 0:
                x[i, 2, :] = 255
            elif label == 1:
                x[i, :, 3] = 255
            else:
                x[i, np.arange(SIDE), np.arange(SIDE)] = 255
        return x, y

    (xtr, ytr), (xte, yte) = draw(N_IMAGES), draw(60)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    save_npz(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return path


def tiny(section: dict) -> dict:
    """The config section at a size that trains in a second."""
    s = copy.deepcopy(section)
    s.update(n_images=None, n_hidden=6, monitor={"n_train": 30})
    s["training"].update(epochs=3, batch_size=20, n_chains=20)
    s["dbm"].update(hidden=[6, 4], pretrain={"epochs": 2, "lr": 1.0e-2}, joint={"epochs": 2, "lr": 1.0e-3},
                    mean_field_iter=5)
    s["ais"].update(n_runs=50, n_steps=300, n_repeats=2)
    s["samples"].update(n_fantasy=40, gibbs_steps=5, n_shown=8)
    for own in s["models"].values():  # a model's own fit settings: shortened, kept where the config has them
        if "fit" in own:
            own["fit"] = {**own["fit"], "epochs": 4}
    return s


DATA_KEYS = ("device", "n_images", "binarize", "train_fraction", "split_seed", "monitor")


def data_params(s: dict) -> dict:
    return {k: s[k] for k in DATA_KEYS}


def fit_params(s: dict, name: str) -> dict:
    own = s["dbm"] if name == "dbm" else s["models"][name]
    return {**data_params(s), "n_hidden": s["n_hidden"], "training": s["training"], **own, "name": name}


def test_steps_are_registered():
    for step in ("ebm_mnist_fit", "ebm_mnist_dbm_fit", "ebm_mnist_ais", "ebm_mnist_samples", "fig60_plot",
                 "fig64_plot", "fig65_plot", "ebm_filters_plot", "ebm_free_energy_plot"):
        assert step in registry()


def test_load_split_binarises_and_uses_the_shared_split(mnist_file, section):
    params = {**data_params(section), "n_images": 200}
    train, val = em.load_split(mnist_file, params)
    assert train.shape == (190, SIDE * SIDE) and val.shape == (10, SIDE * SIDE)
    assert train.dtype == np.float32 and set(np.unique(train)) <= {0.0, 1.0}
    x = load_npz(mnist_file)["x_train"][:200].reshape(200, -1) / 255.0
    rows, _ = split_indices(200, section["train_fraction"], section["split_seed"])
    np.testing.assert_array_equal(train, (x[rows] > section["binarize"]).astype(np.float32))
    with pytest.raises(MlreviewError, match="n_images"):
        em.load_split(mnist_file, {**params, "n_images": N_IMAGES + 1})


def test_monitor_rows_are_evenly_spaced_and_capped():
    np.testing.assert_array_equal(em.monitor_rows(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(em.monitor_rows(3, 10), [0, 1, 2])


def tiny_rbm(hidden="bernoulli", n_visible=5, n_hidden=3, seed=0):
    rbm = ebm.RBM(n_visible, n_hidden, hidden, dtype=torch.float64)
    gen = ebm.make_generator(seed)
    with torch.no_grad():
        rbm.W.copy_(torch.randn(rbm.W.shape, generator=gen, dtype=torch.float64))
        rbm.a.copy_(torch.randn(rbm.a.shape, generator=gen, dtype=torch.float64))
        if hidden == "bernoulli":
            rbm.b.copy_(torch.randn(rbm.b.shape, generator=gen, dtype=torch.float64))
    return rbm


def test_free_energy_is_the_rbm_one_and_a_mean_field_bound_for_a_dbm():
    v = ebm.all_states(5)
    rbm = tiny_rbm()
    torch.testing.assert_close(em.free_energy(rbm, v), rbm.free_energy(v))
    dbm = ebm.DBM.from_rbms([tiny_rbm(n_visible=5, n_hidden=3, seed=1), tiny_rbm(n_visible=3, n_hidden=2, seed=2)])
    bound = em.free_energy(dbm, v, mean_field_iter=30)
    exact = torch.tensor([-ebm.exact_log_likelihood(dbm, row[None, :], log_z=0.0) for row in v],
                         dtype=torch.float64)
    assert bool((bound >= exact - 1e-9).all())  # F_q >= F: the variational free energy bounds it from above
    assert float((bound - exact).max()) < 1.0  # and is close for a weakly coupled model


def test_mean_field_reconstruction_uses_h1_from_both_sides():
    dbm = ebm.DBM([3, 2, 2], dtype=torch.float64)
    with torch.no_grad():
        dbm.Ws[0].copy_(torch.tensor([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0]], dtype=torch.float64))
        dbm.bs[0].fill_(-2.0)
        dbm.bs[1].fill_(-2.0)
    v = torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64)
    mus = dbm.mean_field(v, 20)
    expected = (torch.sigmoid(dbm.bs[0] + mus[1] @ dbm.Ws[0].T) > 0.5).to(v.dtype)
    torch.testing.assert_close(em.mean_field_reconstruction(dbm, v, 20), expected)
    torch.testing.assert_close(expected, torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64))


def test_reconstruction_errors_known_answer():
    rbm = ebm.RBM(4, 2, "bernoulli", dtype=torch.float64)
    with torch.no_grad():
        rbm.a.copy_(torch.tensor([5.0, -5.0, 5.0, -5.0], dtype=torch.float64))  # W = 0: v' = (1, 0, 1, 0)
    v = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]], dtype=torch.float64)
    out = em.reconstruction_errors(rbm, v)
    assert out["recon_error"] == pytest.approx(2 / 8)
    p = torch.sigmoid(torch.tensor(5.0, dtype=torch.float64)).item()
    expected = ((1 - p) ** 2 * 4 + (1 - p) ** 2 * 2 + p**2 * 2) / 8
    assert out["recon_mse"] == pytest.approx(expected)


def test_sparsity_and_history_arrays():
    rbm = ebm.RBM(2, 2)
    with torch.no_grad():
        rbm.W.copy_(torch.tensor([[0.0, 5e-4], [0.1, -2e-3]]))
    assert em.sparsity(rbm) == [0.5]
    arrays = em.history_arrays([{"epoch": 0, "x": 1.0}, {"epoch": 1, "x": 2.0, "lr": 0.1}])
    np.testing.assert_array_equal(arrays["history/epoch"], [0, 1])
    assert np.isnan(arrays["history/lr"][0]) and arrays["history/lr"][1] == 0.1


def test_flip_pixels_flips_about_the_asked_fraction_and_nothing_else():
    X = (np.random.default_rng(0).random((200, 50)) < 0.3).astype(np.float32)
    noisy = em.flip_pixels(X, 0.15, np.random.default_rng(1))
    assert noisy.dtype == X.dtype and set(np.unique(noisy)) <= {0.0, 1.0}
    assert abs(np.mean(noisy != X) - 0.15) < 0.01


def test_two_sided_pass_is_the_rbm_pass_without_a_top_layer_and_keeps_v_on_the_way_down():
    rbm = ebm.RBM(5, 3, "bernoulli", dtype=torch.float64)
    rbm.initialize(torch.rand(10, 5, dtype=torch.float64).round(), ebm.make_generator(4))
    top = ebm.RBM(3, 2, "bernoulli", dtype=torch.float64)
    top.initialize(torch.rand(10, 3, dtype=torch.float64).round(), ebm.make_generator(5))
    dbm = ebm.DBM.from_rbms([rbm, top])
    with torch.no_grad():
        dbm.Ws[1].zero_()  # no coupling to h2: the DBM's v-h1 part is an RBM with h1's bias
        rbm.b.copy_(dbm.bs[1])
    v = ebm.all_states(5)
    torch.testing.assert_close(em.two_sided_reconstruction(dbm, v), rbm.reconstruct(v))
    # h1 switched on only by v: the spec's pass (h1 from h2 alone on the way down) loses it, this one keeps it
    dbm = ebm.DBM([2, 1, 1], dtype=torch.float64)
    with torch.no_grad():
        dbm.Ws[0].fill_(3.0)
        dbm.bs[0].fill_(-2.0)
        dbm.bs[1].fill_(-2.0)
        dbm.bs[2].fill_(-5.0)  # h2 stays off
    v = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(em.two_sided_reconstruction(dbm, v), v)
    torch.testing.assert_close(dbm.reconstruct(v), torch.zeros_like(v))
    torch.testing.assert_close(em.reconstruct(dbm, v, "one_sided"), dbm.reconstruct(v))
    torch.testing.assert_close(em.reconstruct(dbm, v, "two_sided"), v)
    torch.testing.assert_close(em.reconstruct(rbm, ebm.all_states(5), "two_sided"), rbm.reconstruct(ebm.all_states(5)))
    with pytest.raises(MlreviewError, match="pass"):
        em.reconstruct(dbm, v, "sideways")


def test_nearest_distances_match_brute_force_hamming():
    rng = np.random.default_rng(5)
    X = (rng.random((23, 16)) < 0.3).astype(np.float32)
    R = (rng.random((41, 16)) < 0.3).astype(np.float32)
    brute = np.array([min(int(np.sum(x != r)) for r in R) for x in X])
    assert np.array_equal(em.nearest_distances(X, R, chunk=7), brute)
    assert np.array_equal(em.nearest_distances(R[:5], R), np.zeros(5, dtype=int))  # a reference row is at 0


def test_novelty_threshold_accepts_the_asked_fraction_of_held_out_digits_and_rejects_far_images():
    d = np.arange(100)  # distances of 100 held-out digits to their nearest training digit
    t = em.novelty_threshold(d, 0.95)
    assert t in d and em.accepted_fraction(d, t) >= 0.95 and em.accepted_fraction(d, t - 1) < 0.95
    assert em.accepted_fraction(np.array([t + 1, 10 * t]), t) == 0.0
    assert em.accepted_fraction(np.array([0, t]), t) == 1.0


def test_weight_decay_pulls_the_weights_to_zero():
    """On the uniform distribution the exact fit is W = 0: from W = 0.5 the likelihood gradient pulls the
    weights down by itself; with weight decay they end smaller still."""
    data = ebm.all_states(4, torch.float64)  # the uniform distribution: W = 0, biases 0 is its exact fit
    out = {}
    for l2 in (0.0, 1.0):
        rbm = ebm.RBM(4, 2, "bernoulli", dtype=torch.float64)
        with torch.no_grad():
            rbm.W.fill_(0.5)
        ebm.fit(rbm, data, epochs=30, batch_size=16, lr=1e-2, schedule="constant", method="exact", l2=l2, seed=1)
        out[l2] = float(rbm.W.abs().mean())
    assert out[1.0] < out[0.0]
    assert ebm.fit_options({"l2": 5e-4, "epochs": 2}, {"epochs": 3}) == {"l2": 5e-4, "epochs": 3}


def test_files_are_matched_to_the_longest_model_name(tmp_path):
    paths = [tmp_path / f"ebm_mnist_fit_{n}.json" for n in ("rbm_l1", "rbm", "dbm")]
    assert em._by_model(paths, ["rbm", "rbm_l1", "dbm"], "fit") == dict(zip(("rbm_l1", "rbm", "dbm"), paths))
    with pytest.raises(MlreviewError, match="hopfield"):
        em._by_model(paths, ["hopfield", "rbm"], "fit")


@pytest.fixture(scope="module")
def trained(mnist_file, section, config, tmp_path_factory):
    """Every step of the MNIST part on the tiny data: three RBMs, the DBM, AIS, samples."""
    s = tiny(section)
    out = tmp_path_factory.mktemp("ebm")
    names = [*s["models"], "dbm"]
    fits = {}
    for name in s["models"]:
        fits[name] = run_step("ebm_mnist_fit", fit_params(s, name), inputs={"npz": mnist_file},
                              outputs={"data": out / f"{name}.npz", "metrics": out / f"ebm_mnist_fit_{name}.json"})
    fits["dbm"] = run_step("ebm_mnist_dbm_fit", fit_params(s, "dbm"),
                           inputs={"npz": mnist_file, "first": out / f"{s['dbm']['first_layer']}.npz"},
                           outputs={"data": out / "dbm.npz", "metrics": out / "ebm_mnist_fit_dbm.json"})
    ais = {}
    for name in names:
        extra = {"mean_field_iter": s["dbm"]["mean_field_iter"]} if name == "dbm" else {}
        ais[name] = run_step("ebm_mnist_ais", {**data_params(s), "ais": s["ais"], "name": name, **extra},
                             inputs={"npz": mnist_file, "model": out / f"{name}.npz"},
                             outputs={"metrics": out / f"ebm_mnist_ais_{name}.json"})
    clf = {**{k: v for k, v in config["logistic_regression"]["mnist"].items() if k != "plot"},
           "binarize": s["binarize"]}
    run_step("mnist_softmax_fit", clf, inputs={"npz": mnist_file}, outputs={"data": out / "clf.npz"})
    samples = run_step(
        "ebm_mnist_samples", {**data_params(s), "samples": s["samples"], "models": names,
                              "literature": s["literature"], "mean_field_iter": s["dbm"]["mean_field_iter"]},
        inputs={"npz": mnist_file, "classifier": out / "clf.npz", "models": [out / f"{n}.npz" for n in names],
                "fits": [out / f"ebm_mnist_fit_{n}.json" for n in names],
                "ais": [out / f"ebm_mnist_ais_{n}.json" for n in names]},
        outputs={"data": out / "samples.npz", "metrics": out / "ebm_mnist.json"})
    return {"s": s, "out": out, "names": names, "fits": fits, "ais": ais, "samples": samples}


def test_fits_write_models_with_their_history(trained):
    s, out = trained["s"], trained["out"]
    for name in s["models"]:
        m = trained["fits"][name]
        assert m["hidden"] == s["models"][name]["hidden"]
        epochs = s["models"][name].get("fit", {}).get("epochs", s["training"]["epochs"])  # its own, else shared
        assert len(m["per_epoch"]["epoch"]) == epochs + 1  # epoch 0 = before training
        assert m["fit_options"].get("l2", 0.0) == s["models"][name].get("fit", {}).get("l2", 0.0)
        model = ebm.load_model(out / f"{name}.npz")
        assert model.hidden == s["models"][name]["hidden"] and model.n_units == [SIDE * SIDE, s["n_hidden"]]
        history = {k: v for k, v in load_npz(out / f"{name}.npz").items() if k.startswith("history/")}
        assert {"history/free_energy_train", "history/free_energy_val", "history/free_energy_gap_se",
                "history/val_recon_error"} <= set(history)
    dbm = ebm.load_model(out / "dbm.npz")
    assert isinstance(dbm, ebm.DBM) and dbm.layer_sizes == [SIDE * SIDE, *s["dbm"]["hidden"]]
    assert len(trained["fits"]["dbm"]["per_epoch"]["epoch"]) == s["dbm"]["joint"]["epochs"] + 1
    assert len(trained["fits"]["dbm"]["sparsity"]) == 2


def test_dbm_refuses_a_first_layer_of_the_wrong_kind(trained, mnist_file, tmp_path):
    s, out = trained["s"], trained["out"]
    with pytest.raises(MlreviewError, match="first layer"):
        run_step("ebm_mnist_dbm_fit", fit_params(s, "dbm"), inputs={"npz": mnist_file, "first": out / "hopfield.npz"},
                 outputs={"data": tmp_path / "d.npz"})


def test_ais_likelihood_of_a_small_rbm_matches_the_exact_one(trained, mnist_file):
    """The tiny RBMs have 16 visible and 6 hidden units: log Z and the likelihood are exact by enumeration."""
    s, out = trained["s"], trained["out"]
    _, val = em.load_split(mnist_file, s)
    for name in s["models"]:
        m = trained["ais"][name]
        model = ebm.load_model(out / f"{name}.npz", dtype=torch.float64)
        log_z = ebm.exact_log_z(model)
        assert m["log_z"]["mean"] == pytest.approx(log_z, abs=max(0.05, 5 * m["log_z"]["mean_se"]))
        assert m["ll_val"]["mean"] == pytest.approx(ebm.exact_log_likelihood(model, val, log_z),
                                                    abs=max(0.05, 5 * m["log_z"]["mean_se"]))
        assert len(m["repeats"]) == s["ais"]["n_repeats"] and m["likelihood"] == "exact given log Z"
    assert trained["ais"]["dbm"]["likelihood"] == "mean-field variational lower bound"


def test_samples_metrics_and_arrays(trained):
    s, out, names = trained["s"], trained["out"], trained["names"]
    m = trained["samples"]
    assert list(m["models"]) == names
    for name in names:
        r = m["models"][name]
        for key in ("recon_error", "recon_mse", "digit_likeness_reconstructions", "digit_likeness_fantasy",
                    "denoised_disagreement", "accepted_reconstructions", "accepted_fantasy"):
            assert 0.0 <= r[key] <= 1.0, (name, key)
        assert r["ais"]["ll_val"]["mean"] < 0
    dbm = m["models"]["dbm"]
    for name in ("one_sided", "two_sided", "mean_field"):
        assert 0.0 <= dbm[f"recon_error_{name}"] <= 1.0 and 0.0 <= dbm[f"denoised_disagreement_{name}"] <= 1.0
    drawn = s["samples"]["dbm_pass"]
    assert m["dbm_pass"] == drawn and dbm["recon_error"] == dbm[f"recon_error_{drawn}"]
    assert dbm["denoised_disagreement"] == dbm[f"denoised_disagreement_{drawn}"]
    # the nearest-neighbour judge of C72: calibrated on the held-out digits themselves
    nov = m["novelty"]
    assert nov["n_judged"] == min(s["samples"]["n_fantasy"], m["n_val"])
    assert nov["threshold_pixels"] >= nov["median_distance_held_out"]
    assert m["c72"]["min_accepted_reconstruction_minus_fantasy"] == min(
        r["accepted_reconstructions"] - r["accepted_fantasy"] for r in m["models"].values())
    # the AIS table: our models, then the literature's rows as configured
    table = m["likelihood_table"]
    assert [r["model"] for r in table[:len(names)]] == names and all(r["source"] == "this run" for r in table[:len(names)])
    assert [r["log_likelihood"] for r in table[len(names):]] == [r["log_likelihood"] for r in s["literature"]]
    assert table[0]["log_likelihood"] == m["models"][names[0]]["ais"]["ll_val"]["mean"]
    assert [row["model"] for row in m["table"]] == names
    assert m["table"][0]["log_likelihood_val"] == m["models"][names[0]]["ais"]["ll_val"]["mean"]
    flip, pixels = s["samples"]["flip"], m["n_val"] * SIDE * SIDE
    assert abs(m["c73"]["noisy_disagreement"] - flip) < 4 * np.sqrt(flip * (1 - flip) / pixels)
    assert m["c73"]["max_denoised_disagreement"] == max(r["denoised_disagreement"] for r in m["models"].values())
    d = load_npz(out / "samples.npz")
    assert d["data"].shape == (s["samples"]["n_shown"], SIDE * SIDE)
    for name in names:
        assert d[f"fantasy/{name}"].shape == d[f"recon/{name}"].shape == d["data"].shape
        assert d[f"filters/{name}"].shape == (s["n_hidden"] if name != "dbm" else s["dbm"]["hidden"][0], SIDE * SIDE)
    assert load_json(out / "ebm_mnist.json")["metrics"]["n_val"] == len(split_indices(N_IMAGES, 0.95, 0)[1])


def test_plot_steps_draw_every_figure(trained, section, tmp_path):
    out, names = trained["out"], trained["names"]
    plot = {"plot": section["plot"], "models": names, "dbm": "dbm"}
    for step in ("fig60_plot", "fig64_plot", "fig65_plot"):
        run_step(step, plot, inputs={"data": out / "samples.npz"},
                 outputs={"pdf": tmp_path / f"{step}.pdf", "png": tmp_path / f"{step}.png"})
    run_step("ebm_filters_plot", {**plot, "model": "dbm"}, inputs={"data": out / "samples.npz"},
             outputs={"pdf": tmp_path / "f.pdf", "png": tmp_path / "f.png"})
    run_step("ebm_free_energy_plot", plot, inputs={"models": [out / f"{n}.npz" for n in names]},
             outputs={"pdf": tmp_path / "fe.pdf", "png": tmp_path / "fe.png"})
    for png in tmp_path.glob("*.png"):
        assert png.stat().st_size > 1000
