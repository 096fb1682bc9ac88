"""Sections IX-X: the network modules (nn.models), the shared classifier training
(models.dnn_common), the steps of Figs 37, 38, 40, 41, 45, the optimizer comparison and the MNIST
CNN on tiny inputs, their gather steps and claim quantities, and the plots."""

from __future__ import annotations

import copy

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml

from mlreview import cli
from mlreview.steps import registry
from mlreview.cli import run_step
from mlreview.data import susy as S
from mlreview.data.splits import split_indices
from mlreview.errors import MlreviewError
from mlreview.io import load_npz, save_json, save_npz
from mlreview.nn import models as M
from mlreview.nn.training import as_tensor, evaluate_classifier, history_arrays
from mlreview.sections.deep_networks import common as dc
from mlreview.sections.deep_networks import ising as di
from mlreview.sections.deep_networks import susy as ds
from tests.conftest import ROOT, save_tiny_ising

#: the steps of Sections IX-X (registry() maps each to its function)
STEPS = ("mnist_dnn_fit", "mnist_optimizer_cv", "mnist_optimizers_gather", "mnist_cnn_fit", "susy_dnn_cell", "susy_dnn_grid",
         "ising_dnn_cell", "ising_dnn_grid", "ising_cnn_depth", "ising_cnn_gather", "mnist_dnn_plot",
         "mnist_cnn_plot", "mnist_optimizers_plot", "fig40_plot", "fig41_plot", "fig45_plot")


def test_steps_are_registered():
    for name in STEPS:
        target = registry()[name]
        assert target.startswith("mlreview.sections.deep_networks.") and callable(cli.resolve(name))


@pytest.fixture(scope="module")
def section() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["deep_networks"]


def shared(section) -> dict:
    return {"confidence": section["confidence"], "eval_batch_size": 64}


def fast(training: dict, **changes) -> dict:
    return {**copy.deepcopy(training), **changes}


# ----------------------------------------------------------------------------- tiny inputs

L = 6
TEMPS = [1.0, 1.5, 2.0, 2.25, 2.5, 3.0, 3.5]
PER_T = 60


@pytest.fixture(scope="module")
def ising_file(tmp_path_factory):
    """A tiny ising2d.npz: ordered states aligned up or down (both signs, as in the real data),
    with a few spins against the majority; disordered states random."""
    rng = np.random.default_rng(3)
    rows = []
    for T in TEMPS:
        if T < 2.25:
            sign = rng.choice([-1, 1], size=(PER_T, 1)).astype(np.int8)
            rows.append(np.where(rng.random((PER_T, L * L)) < 0.05 * T, -sign, sign))
        else:
            rows.append(rng.choice([-1, 1], size=(PER_T, L * L)))
    return save_tiny_ising(tmp_path_factory.mktemp("ising") / "ising2d.npz", rows, TEMPS, L)


@pytest.fixture(scope="module")
def mnist_file(tmp_path_factory):
    """Three 'digits' on 6 x 6 pixels: a bright column per class plus noise."""
    rng = np.random.default_rng(4)

    def draw(n):
        y = rng.integers(0, 3, n).astype(np.uint8)
        x = rng.integers(0, 80, (n, 6, 6)).astype(np.uint8)
        x[np.arange(n), :, 2 * y] = 250
        return x, y

    (xtr, ytr), (xte, yte) = draw(300), draw(90)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    save_npz(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return path


@pytest.fixture(scope="module")
def susy_file(tmp_path_factory):
    """3,000 events whose label follows two of the 18 features (a known, learnable truth)."""
    n = 3000
    rng = np.random.default_rng(5)
    columns = {name: (rng.standard_normal(n) * 3.0 + 5.0).astype(np.float32) for name in S.FEATURES}
    z = 1.2 * (columns["lepton1_pt"] - 5.0) - 0.8 * (columns["mt2"] - 5.0)
    columns = {S.LABEL: (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.int8), **columns}
    path = tmp_path_factory.mktemp("susy") / "susy.parquet"
    pq.write_table(pa.table(columns, schema=S.schema({S.META_SOURCE: b"toy"})), path, row_group_size=700)
    return path


# ----------------------------------------------------------------------------- the modules


def test_mlp_layers_dropout_and_inits():
    m = M.MLP(784, [100, 400, 400, 50], 10, "relu", [0.0, 0.0, 0.0, 0.5], {"kind": "glorot_uniform"})
    kinds = [type(layer).__name__ for layer in m.layers]
    assert kinds == ["Linear", "ReLU"] * 4 + ["Dropout", "Linear"]  # dropout only before the output
    linear = [layer for layer in m.layers if isinstance(layer, torch.nn.Linear)]
    assert [(x.in_features, x.out_features) for x in linear] == [(784, 100), (100, 400), (400, 400), (400, 50),
                                                                  (50, 10)]
    assert all(torch.all(x.bias == 0) for x in linear)
    bound = np.sqrt(6.0 / (784 + 100))  # Glorot-uniform limit of the first layer
    largest = float(linear[0].weight.detach().abs().max())
    assert 0.9 * bound < largest <= float(np.nextafter(np.float32(bound), np.float32(1)))  # float32 rounding
    assert m(torch.zeros(3, 28, 28)).shape == (3, 10)  # images are flattened
    torch.manual_seed(0)
    t = M.MLP(1600, [1000], 2, "relu", None, {"kind": "truncated_normal", "std": 0.1, "bias": 0.1})
    w = t.layers[0].weight.detach()
    assert float(w.abs().max()) <= 0.2 and abs(float(w.std()) - 0.088) < 0.005  # N(0, 0.1) cut at 2 sigma
    assert torch.all(t.layers[0].bias == 0.1) and torch.all(t.layers[2].bias == 0.1)
    with pytest.raises(ValueError, match="one probability per hidden layer"):
        M.MLP(4, [3, 2], 2, dropout=[0.5])
    with pytest.raises(ValueError, match="unknown activation"):
        M.MLP(4, [3], 2, "swish")
    with pytest.raises(ValueError, match="unknown init"):
        M.MLP(4, [3], 2, init={"kind": "he"})


def test_ising_cnn_shapes_and_pool_before_relu_is_exact():
    torch.manual_seed(1)
    net = M.IsingCNN(40, 5)
    assert net.n_features == 5 * 20 * 20  # 41 x 41 maps pooled to 20 x 20 (spec, decision j)
    x = torch.randint(0, 2, (7, 1600)).float() * 2 - 1
    y = torch.randint(0, 2, (7,))
    assert net(x).shape == (7, 2)
    # the review's order (ReLU, then pooling) gives the same outputs and gradients
    reference = torch.nn.Sequential(net.conv, torch.nn.ReLU(), torch.nn.MaxPool2d(2), net.norm, torch.nn.Flatten(),
                                    net.out)
    out_a = net(x)
    grads_a = torch.autograd.grad(torch.nn.functional.cross_entropy(out_a, y), list(net.parameters()))
    out_b = reference(x.reshape(-1, 1, 40, 40))
    grads_b = torch.autograd.grad(torch.nn.functional.cross_entropy(out_b, y), list(net.parameters()))
    assert torch.equal(out_a, out_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b))


def test_ising_cnn_memory_layout_is_a_speed_choice_only():
    # channels-last maps from CHANNELS_LAST_DEPTH filters on: the same parameters (same seed) and
    # the same outputs as the NCHW model, to float32 rounding
    x = torch.randint(0, 2, (5, 1600)).float() * 2 - 1
    assert M.IsingCNN(40, 1).memory_format == torch.contiguous_format
    assert M.IsingCNN(40, M.IsingCNN.CHANNELS_LAST_DEPTH).memory_format == torch.channels_last
    for depth in (1, M.IsingCNN.CHANNELS_LAST_DEPTH, 20):
        torch.manual_seed(0)
        net = M.IsingCNN(40, depth)
        torch.manual_seed(0)
        ref = M.IsingCNN(40, depth)
        ref.memory_format = torch.contiguous_format
        ref.conv.to(memory_format=torch.contiguous_format)
        assert all(torch.equal(a, b) for a, b in zip(net.parameters(), ref.parameters()))
        torch.testing.assert_close(net(x), ref(x), rtol=1e-4, atol=1e-5)


def test_convnet_shapes():
    net = M.ConvNet(28, [10, 20], 5, 2, [100], 0.5, 10, {"kind": "glorot_uniform"})
    assert net(torch.zeros(2, 784)).shape == (2, 10)
    assert net.head[0].in_features == 20 * 10 * 10  # 28 -> 24 -> 20 -> pooled 10


def test_batch_size_fixed_or_fraction():
    assert dc.batch_size({"batch_size": 64}, 1000) == 64
    assert dc.batch_size({"batch_fraction": 0.01}, 160_000) == 1600  # decision h: 1% of the training rows
    assert dc.batch_size({"batch_fraction": 0.01}, 30) == 1
    with pytest.raises(MlreviewError, match="exactly one"):
        dc.batch_size({"batch_size": 64, "batch_fraction": 0.1}, 100)


def test_evaluate_classifier_known_answer():
    model = torch.nn.Identity()
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 0.5]])
    y = torch.tensor([0, 1, 1, 1])
    out = evaluate_classifier(model, {"s": (logits, y)}, 0.95)["s"]
    assert out["accuracy"] == 0.75 and out["n"] == 4 and out["ci_low"] < 0.75 < out["ci_high"]
    assert out["loss"] == pytest.approx(float(torch.nn.functional.cross_entropy(logits, y)))


def toy_sets(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return {"train": (X[:300], y[:300]), "test": (X[300:], y[300:])}


def toy_fit(lr=0.1, device="cpu", **kw):
    training = {"optimizer": "sgd", "options": {"momentum": 0.5}, "batch_size": 20, "epochs": 4, "seed": 7,
                "device": device}
    return dc.fit_classifier(lambda: M.MLP(4, [8], 2), toy_sets(), training, threads=1, name="toy",
                             confidence=0.95, eval_batch_size=50, monitor=("test",), final=("train",), lr=lr, **kw)


def test_fit_classifier_learns_is_deterministic_and_records_divergence():
    a, b = toy_fit(), toy_fit()
    assert a["scores"]["test"]["accuracy"] > 0.9 and a["scores"]["train"]["accuracy"] > 0.9
    strip = [{k: v for k, v in e.items() if k != "seconds"} for e in a["history"]]
    assert strip == [{k: v for k, v in e.items() if k != "seconds"} for e in b["history"]]
    assert a["scores"] == b["scores"] and len(a["history"]) == 4
    assert set(a["history"][0]) >= {"epoch", "train_loss", "test_accuracy", "test_cross_entropy"}
    if not torch.cuda.is_available():  # device: auto falls back to the CPU, with the same result
        assert toy_fit(device="auto")["scores"] == a["scores"]
    bad = toy_fit(lr=1e8)
    assert bad["diverged"] and bad["history"] is None and bad["scores"] == {} and "lower the learning rate" in bad["error"]


def test_grid_helpers():
    cells = [{"size": 10, "lr": 0.1, "diverged": False, "test": {"accuracy": 0.7, "ci_low": 0.6, "ci_high": 0.8}},
             {"size": 10, "lr": 0.01, "diverged": True, "test": None}]
    grid = dc.index_cells(cells, ("size", "lr"))
    tables = dc.accuracy_tables(grid, [10], [0.01, 0.1], "test")
    assert np.isnan(tables["accuracy"][0, 0]) and tables["accuracy"][0, 1] == 0.7
    with pytest.raises(MlreviewError, match="no grid cell"):
        dc.grid_table(grid, [10, 20], [0.1], lambda c: 1.0)
    with pytest.raises(MlreviewError, match="two grid cells"):
        dc.index_cells(cells + cells[:1], ("size", "lr"))
    assert dc.value_label(1e-5) == "1e-05" and dc.value_label(200000) == "200000"
    assert history_arrays(None, ("epoch",))["epoch"].size == 0


def test_best_learning_rate_ignores_critical_and_breaks_ties():
    lrs = [0.01, 0.1, 1.0]
    tables = {"test": np.array([[0.9, 1.0, 1.0], [0.8, np.nan, 0.7]]),
              "train": np.array([[0.9, 1.0, 0.99], [0.9, np.nan, 0.9]])}
    # row 0: a tie at test accuracy 1.0 is broken by the training accuracy; row 1 skips the diverged cell
    assert di.best_learning_rates(tables, lrs) == [1, 0]


# ----------------------------------------------------------------------------- MNIST


def mnist_params(section, **changes):
    p = {**shared(section), **copy.deepcopy(section["mnist_dnn"]), "n_train": 300, "n_test": 90,
         "hidden": [16, 8], "dropout": [0.0, 0.5]}
    p.pop("plot")
    p["training"] = fast(p["training"], epochs=3, batch_size=32, lr=1e-2)
    return {**p, **changes}


def test_mnist_dnn_and_plots(mnist_file, section, tmp_path):
    params = mnist_params(section)
    m = run_step("mnist_dnn_fit", params, inputs={"npz": mnist_file},
                 outputs={"data": tmp_path / "d.npz", "metrics": tmp_path / "m.json"})
    assert m["n_train"] == 300 and m["n_test"] == 90 and m["epochs"] == 3
    assert m["test"]["accuracy"] > 0.9 and m["test"]["n"] == 90 and m["test"]["ci_low"] <= m["test"]["accuracy"]
    assert len(m["per_epoch"]["test_accuracy"]) == 3 and m["per_epoch"]["train_accuracy"][-1] == m["train"]["accuracy"]
    for fig in ("fig37", "fig38"):
        run_step("mnist_dnn_plot", {"plot": section["mnist_dnn"]["plot"][fig]}, inputs={"data": tmp_path / "d.npz"},
                 outputs={"pdf": tmp_path / f"{fig}.pdf", "png": tmp_path / f"{fig}.png"})
        assert (tmp_path / f"{fig}.png").stat().st_size > 0
    with pytest.raises(MlreviewError, match="n_train"):
        run_step("mnist_dnn_fit", {**params, "n_train": 301}, inputs={"npz": mnist_file},
                 outputs={"data": tmp_path / "x.npz"})


def test_mnist_optimizer_comparison(mnist_file, section, tmp_path):
    arch = {k: v for k, v in mnist_params(section).items() if k in ("hidden", "activation", "dropout", "init")}
    paths = []
    for name in ("sgd", "adam", "adadelta"):
        params = {**shared(section), **arch, "n_train": 300, "folds": 3, "fold_seed": 1,
                  "training": {"optimizer": name, **section["mnist_optimizers"]["settings"][name], "batch_size": 32,
                               "epochs": 2, "seed": 2, "device": "cpu"}}
        paths.append(tmp_path / f"{name}.json")
        m = run_step("mnist_optimizer_cv", params, inputs={"npz": mnist_file}, outputs={"metrics": paths[-1]})
        assert len(m["fold_accuracy"]) == 3 and m["pooled"]["n"] == 300 and not m["diverged"]
        assert m["mean_accuracy"] == pytest.approx(np.mean(m["fold_accuracy"]))
        assert m["pooled"]["ci_low"] <= m["pooled"]["accuracy"] <= m["pooled"]["ci_high"]
    g = run_step("mnist_optimizers_gather", {"compared": ["adam", "sgd", "adadelta"]}, inputs={"cells": paths},
                 outputs={"data": tmp_path / "o.npz", "metrics": tmp_path / "o.json"})
    assert set(g["ranking"]) == {"sgd", "adam", "adadelta"} and g["best"] == g["ranking"][0]
    d = load_npz(tmp_path / "o.npz")
    assert list(d["optimizers"]) == ["adam", "sgd", "adadelta"]  # the config's order
    run_step("mnist_optimizers_plot", {"plot": section["mnist_optimizers"]["plot"]}, inputs={"data": tmp_path / "o.npz"},
             outputs={"pdf": tmp_path / "o.pdf", "png": tmp_path / "o.png"})
    assert (tmp_path / "o.png").stat().st_size > 0
    with pytest.raises(MlreviewError, match="rmsprop"):
        run_step("mnist_optimizers_gather", {"compared": ["adam", "rmsprop"]}, inputs={"cells": paths},
                 outputs={"data": tmp_path / "x.npz"})


def test_mnist_cnn(mnist_file, section, tmp_path):
    params = {**shared(section), **copy.deepcopy(section["mnist_cnn"]), "n_train": 300, "n_test": 90,
              "channels": [4], "kernel": 2, "dense": [16], "dropout": 0.2}
    params["training"] = fast(params["training"], epochs=3, batch_size=32, lr=1e-2)
    m = run_step("mnist_cnn_fit", params, inputs={"npz": mnist_file},
                 outputs={"data": tmp_path / "c.npz", "metrics": tmp_path / "c.json"})
    assert m["test"]["accuracy"] > 0.9 and m["train"]["n"] == 300 and len(m["per_epoch"]["test_accuracy"]) == 3
    run_step("mnist_cnn_plot", {}, inputs={"data": tmp_path / "c.npz"},
             outputs={"pdf": tmp_path / "c.pdf", "png": tmp_path / "c.png"})
    assert (tmp_path / "c.png").stat().st_size > 0


# ----------------------------------------------------------------------------- SUSY, Fig 40


def susy_params(section, **changes):
    p = {**shared(section), **{k: copy.deepcopy(v) for k, v in section["susy_dnn"].items()
                                 if k not in ("sizes", "learning_rates", "claims", "plot")}}
    p["training"] = fast(p["training"], epochs=3, batch_fraction=0.05)
    return {**p, **changes}


def test_susy_sets_are_the_first_rows_split_and_standardised(susy_file, section):
    sets, info = ds.load_sets(susy_file, 1000, susy_params(section))
    train, test = split_indices(1000, 0.8, section["susy_dnn"]["split_seed"])
    assert len(sets["train"][1]) == len(train) == 800 and len(sets["test"][1]) == 200
    frame = S.load_susy(susy_file, columns=[S.LABEL], rows=1000)
    assert np.array_equal(sets["test"][1], frame[S.LABEL].to_numpy()[test])
    np.testing.assert_allclose(sets["train"][0].mean(axis=0), 0.0, atol=1e-5)
    assert info["source"] == "toy" and info["n_test"] == 200 and len(info["features"]) == 18
    with pytest.raises(MlreviewError, match="3000 events"):
        ds.load_sets(susy_file, 5000, susy_params(section))


def test_susy_grid_cells_gather_and_plot(susy_file, section, tmp_path):
    sizes, lrs = [500, 3000], [1e-4, 0.1]
    paths = []
    for size in sizes:
        for lr in lrs:
            paths.append(tmp_path / f"D{size}_lr{lr:g}.json")
            m = run_step("susy_dnn_cell", susy_params(section, size=size, lr=lr), inputs={"parquet": susy_file},
                         outputs={"metrics": paths[-1]})
            assert m["batch_size"] == max(1, round(0.05 * 0.8 * size)) and m["source"] == "toy"
            assert len(m["per_epoch"]["test_accuracy"]) == 3 and m["test"]["n"] == round(0.2 * size)
    params = {"sizes": sizes, "learning_rates": lrs, "claims": {"c51_cell": {"size": 3000, "lr": 0.1}}}
    g = run_step("susy_dnn_grid", params, inputs={"cells": paths},
                 outputs={"data": tmp_path / "g.npz", "metrics": tmp_path / "g.json"})
    acc = np.array(g["test_accuracy"], dtype=float)
    assert acc.shape == (2, 2) and g["c52"]["max_test_accuracy"] == np.nanmax(acc)
    # the learnable truth: the large learning rate learns it (1e-4 barely moves in 3 epochs)
    assert g["c51"]["argmax_lr"] == 0.1 and acc[1, 1] > 0.8 and acc[1, 1] > acc[1, 0]
    assert g["c51"]["holds"] == (g["c51"]["argmax_size"] == 3000)
    assert g["best"]["accuracy"] == g["c52"]["max_test_accuracy"] and g["n_diverged"] == 0
    run_step("fig40_plot", {"plot": section["susy_dnn"]["plot"]}, inputs={"data": tmp_path / "g.npz"},
             outputs={"pdf": tmp_path / "g.pdf", "png": tmp_path / "g.png"})
    assert (tmp_path / "g.png").stat().st_size > 0
    with pytest.raises(MlreviewError, match="no grid cell"):
        run_step("susy_dnn_grid", {**params, "sizes": [500, 1000]}, inputs={"cells": paths},
                 outputs={"data": tmp_path / "x.npz"})


# ----------------------------------------------------------------------------- Ising, Figs 41 and 45


def ising_params(section, part, **changes):
    grid = {"ising_dnn": ("hidden_units", "learning_rates", "claims", "plot"), "ising_cnn": ("depths", "plot")}[part]
    p = {**shared(section), **section["ising"], "train_fraction": 0.8,
         **{k: copy.deepcopy(v) for k, v in section[part].items() if k not in grid}}
    return {**p, **changes}


def test_ising_dnn_cells_gather_and_plot(ising_file, section, tmp_path):
    hidden, lrs = [1, 10], [1e-6, 0.1]
    paths = []
    for n in hidden:
        for lr in lrs:
            params = ising_params(section, "ising_dnn", hidden_units=n, lr=lr)
            params["training"] = fast(params["training"], epochs=8, batch_size=16)
            paths.append(tmp_path / f"N{n}_lr{lr:g}.json")
            m = run_step("ising_dnn_cell", params, inputs={"dataset": ising_file}, outputs={"metrics": paths[-1]})
            assert m["n_train"] + m["n_test"] == 4 * PER_T and m["n_critical"] == 3 * PER_T
            assert {"train", "test", "critical"} <= set(m) and len(m["per_epoch"]["critical_accuracy"]) == 8
    claims = section["ising_dnn"]["claims"]
    g = run_step("ising_dnn_grid", {"hidden_units": hidden, "learning_rates": lrs, "claims": claims},
                 inputs={"cells": paths}, outputs={"data": tmp_path / "g.npz", "metrics": tmp_path / "g.json"})
    test = np.array(g["test_accuracy"])
    # ten neurons at learning rate 0.1 learn |m|; a learning rate of 1e-6 leaves the random start
    assert test[1, 1] > 0.95 and g["c53"]["test_accuracy"] == test[1, 1] and "after 8 epochs" in g["c53"]["summary"]
    assert g["c54"]["holds"] is False and "missing" in g["c54"]["summary"]  # no N = 100, 1000 in this grid
    assert g["c54"]["best_per_hidden_units"]["10"]["lr"] == 0.1
    plot = section["ising_dnn"]["plot"]
    run_step("fig41_plot", {"plot": plot}, inputs={"data": tmp_path / "g.npz"},
             outputs={"pdf": tmp_path / "g.pdf", "png": tmp_path / "g.png"})
    assert (tmp_path / "g.png").stat().st_size > 0


def test_ising_dnn_c54_quantities(tmp_path):
    cells = []
    for n, crit in ((10, 0.7), (100, 0.8)):
        cells.append({"hidden_units": n, "lr": 0.1, "diverged": False, "n_train": 8, "n_test": 2, "n_critical": 3,
                      "epochs": 1, "batch_size": 4, "error": None, "per_epoch": {},
                      **{s: {"accuracy": a, "ci_low": a - 0.1, "ci_high": min(1.0, a + 0.1), "n": 10}
                         for s, a in (("train", 1.0), ("test", 1.0), ("critical", crit))}})
    paths = []
    for i, cell in enumerate(cells):
        paths.append(tmp_path / f"{i}.json")
        save_json(paths[-1], {"metrics": cell})
    g = run_step("ising_dnn_grid", {"hidden_units": [10, 100], "learning_rates": [0.1],
                                    "claims": {"c53_cell": {"hidden_units": 10, "lr": 0.1},
                                               "c54": {"fewer": 10, "more": [100, 1000]}}},
                 inputs={"cells": paths}, outputs={"data": tmp_path / "g.npz"})
    assert g["c54"]["holds"] is True and g["c54"]["critical_gain"] == pytest.approx(0.1)


def test_ising_cnn_depths_are_deterministic_gather_and_plot(ising_file, section, tmp_path):
    paths, first = [], None
    for depth in (1, 3):
        params = ising_params(section, "ising_cnn", depth=depth)
        params["training"] = fast(params["training"], epochs=3, batch_size=16, lr=0.05)
        paths.append(tmp_path / f"D{depth}.json")
        m = run_step("ising_cnn_depth", params, inputs={"dataset": ising_file}, outputs={"metrics": paths[-1]})
        assert m["lattice"] == L and len(m["per_epoch"]["test_accuracy"]) == 3
        if first is None:
            first = m
            again = run_step("ising_cnn_depth", params, inputs={"dataset": ising_file})
            same = ("test", "critical", "per_epoch")
            assert {k: again[k] for k in same if k != "per_epoch"} == {k: m[k] for k in same if k != "per_epoch"}
            assert again["per_epoch"]["test_accuracy"] == m["per_epoch"]["test_accuracy"]
            assert again["per_epoch"]["train_loss"] == m["per_epoch"]["train_loss"]
    g = run_step("ising_cnn_gather", {"depths": [1, 3]}, inputs={"cells": paths},
                 outputs={"data": tmp_path / "g.npz", "metrics": tmp_path / "g.json"})
    # three filters learn a sign-symmetric (domain-wall) feature on this tiny lattice; one filter
    # needs more than 3 epochs here
    assert g["per_depth"]["3"]["test"]["accuracy"] > 0.9 and g["n_train"] + g["n_test"] == 4 * PER_T
    assert g["c55"]["min_test_accuracy"] == min(g["per_depth"][d]["test"]["accuracy"] for d in ("1", "3"))
    assert g["c56"]["min_critical_accuracy"] <= g["c56"]["max_critical_accuracy"]
    assert g["c57"]["n_depths"] == 2 and isinstance(g["c57"]["holds"], bool)
    d = load_npz(tmp_path / "g.npz")
    assert d["test_per_epoch"].shape == (2, 3) and list(d["depths"]) == [1, 3]
    run_step("fig45_plot", {"plot": section["ising_cnn"]["plot"]}, inputs={"data": tmp_path / "g.npz"},
             outputs={"pdf": tmp_path / "g.pdf", "png": tmp_path / "g.png"})
    assert (tmp_path / "g.png").stat().st_size > 0
    with pytest.raises(MlreviewError, match="depths \\[5\\]"):
        run_step("ising_cnn_gather", {"depths": [1, 5]}, inputs={"cells": paths}, outputs={"data": tmp_path / "x.npz"})


def test_lattice_of_needs_a_square():
    assert di.lattice_of({"train": (np.zeros((2, 1600)), None)}) == 40
    with pytest.raises(MlreviewError, match="square"):
        di.lattice_of({"train": (np.zeros((2, 10)), None)})


def test_as_tensor_labels_are_int64():
    assert as_tensor(np.array([0, 1], np.int8), dtype=torch.int64).dtype == torch.int64
