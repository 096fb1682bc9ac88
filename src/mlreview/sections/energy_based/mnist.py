"""Figs 60, 64, 65 (Sections XV-XVI): four energy-based models with 200 hidden units on binarised
MNIST, built from the shared module :mod:`mlreview.ebm` (energies, samplers, PCD, ADAM, AIS).

Data (spec Fig 60, decisions k and o): the 60,000 MNIST training images (or the first
``n_images``), pixel / 255 > ``binarize``, split at random (``split_seed``) 95/5 into training and
validation images by :func:`mlreview.data.splits.split_indices`.

Steps (one workflow job each):

* :func:`fit_step` - one RBM (``hidden: gaussian`` is the "Hopfield" RBM; ``l1`` the L1 strength;
  the model's own ``fit`` settings, e.g. weight decay ``l2`` and ``epochs``, over the shared
  ``training``), Glorot initialisation, PCD-1 with ADAM lr/(1 + t), with a per-epoch monitor (:func:`monitor`):
  the validation reconstruction error and the mean free energy of ``monitor.n_train`` training
  images against the validation images (the overfitting gap).
* :func:`dbm_step` - the DBM 784-200-200: layer-wise pretraining whose first RBM is model 3 (the
  RBM with L1, an input file: spec "first train an RBM v-h1 as in model 3"), then an RBM h1-h2 on
  p(h1 | v) of the training images, then joint PCD with mean-field data statistics.
* :func:`ais_step` - annealed importance sampling of log Z, repeated ``n_repeats`` times with fresh
  seeds, and the mean log-likelihood of the validation and monitor-training images; for the DBM
  the mean-field variational lower bound on it (the DBM's p(v) needs a sum over h2 as well).
* :func:`samples_step` - Figs 60, 64, 65 from the four trained models: one-step reconstructions
  of the validation images, fantasy particles after 100 Gibbs steps, denoising of images with 15%
  of the pixels flipped; digit-likeness by the fixed digit classifier and by the nearest-neighbour
  "is it a digit?" test (:func:`nearest_distances`, :func:`novelty_threshold`: calibrated on the
  held-out digits themselves; it decides C72; the classifier is fitted by
  :func:`mlreview.sections.energy_based.classifier.ebm_digit_classifier`); the metrics of the four
  fits and AIS runs collected into one file with the claims C72 and C73 and the AIS table beside
  the literature's values.

Trained models are ``.npz`` files of :func:`mlreview.ebm.save_model` with the per-epoch
history added as ``history/<key>`` arrays (NaN where an epoch has no value).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from mlreview import ebm
from mlreview.data.mnist import load_mnist, scale_images
from mlreview.data.splits import split_indices
from mlreview.digits import load_classifier
from mlreview.errors import MlreviewError
from mlreview.io import load_json, load_npz, save_npz, to_jsonable
from mlreview.nn.training import setup
from mlreview.steps import step

log = logging.getLogger(__name__)

#: prefix of the per-epoch history arrays in a model file
HISTORY = "history/"
#: the weight-sparsity threshold of the spec's metrics (fraction of |W| below it)
SPARSITY_THRESHOLD = 1e-3
#: the DBM reconstructions of Figs 60 and 65 (:func:`reconstruct`)
DBM_PASSES = ("one_sided", "two_sided")


# ----------------------------------------------------------------------------------------------
# data and evaluation helpers
# ----------------------------------------------------------------------------------------------


def load_split(npz: Path, params: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) images, flat float32 in {0, 1}: the first ``n_images`` MNIST training
    images (all when null), binarised at ``binarize``, split ``train_fraction`` / rest with
    ``split_seed``."""
    x = load_mnist(npz)["x_train"]
    n = len(x) if params.get("n_images") is None else int(params["n_images"])
    if n > len(x):
        raise MlreviewError(f"n_images = {n}, but the MNIST training set has {len(x)} images")
    X = (scale_images(x[:n]).reshape(n, -1) > float(params["binarize"])).astype(np.float32)
    train, val = split_indices(n, float(params["train_fraction"]), int(params["split_seed"]))
    return X[train], X[val]


def monitor_rows(n_train: int, n_monitor: int) -> np.ndarray:
    """The training rows whose free energy is monitored: evenly spaced, ``n_monitor`` of them."""
    return np.unique(np.linspace(0, n_train - 1, min(int(n_monitor), n_train)).astype(int))


@torch.no_grad()
def free_energy(model: ebm.RBM | ebm.DBM, v: torch.Tensor, mean_field_iter: int = 10) -> torch.Tensor:
    """Per row: the free energy F(v) of an RBM, or for a DBM the mean-field variational free energy
    E_q[E(v, h)] - H(q) >= F(v) (F is intractable for a DBM; the bound is what its training uses)."""
    if isinstance(model, ebm.RBM):
        return model.free_energy(v)
    return -model.log_likelihood_lower_bound(v, 0.0, mean_field_iter)


@torch.no_grad()
def reconstruction_errors(model: ebm.RBM | ebm.DBM, v: torch.Tensor) -> dict[str, float]:
    """The spec's two reconstruction errors after one deterministic pass: the fraction of pixels
    with v' != v, and the mean squared error between v and p(v' = 1 | h)."""
    p = model.reconstruct(v, probabilities=True)
    return {"recon_error": float(((p > 0.5).to(v.dtype) != v).to(torch.float64).mean()),
            "recon_mse": float(((p - v) ** 2).to(torch.float64).mean())}


@torch.no_grad()
def mean_field_reconstruction(dbm: ebm.DBM, v: torch.Tensor, mean_field_iter: int = 10) -> torch.Tensor:
    """A DBM reconstruction that uses both neighbours of h1 (not the spec's one-sided passes): the
    mean-field posterior with v clamped, then the most probable v' given mu_1 (p > 0.5)."""
    mus = dbm.mean_field(v, mean_field_iter)
    return (dbm.layer_mean(mus, 0) > 0.5).to(v.dtype)  # the visible layer's only neighbour is h1


@torch.no_grad()
def two_sided_reconstruction(dbm: ebm.DBM, v: torch.Tensor) -> torch.Tensor:
    """One deterministic maximum-probability pass up and down a DBM in which every layer on the way
    down takes its most probable state given both its neighbours: up, h_l = [p(h_l | h_{l-1}) > 0.5]
    from the layer below only (the layers above are not yet known); down, h_l = [p(h_l | h_{l-1},
    h_{l+1}) > 0.5] for l = L-1, ..., 1 with v still clamped, then v' = [p(v | h_1) > 0.5]. The spec's
    pass (:meth:`~mlreview.ebm.DBM.reconstruct`) drops v from h_1's input on the way down."""
    states: list[torch.Tensor | None] = [v] + [None] * (dbm.n_layers - 1)
    for l in range(1, dbm.n_layers):
        states[l] = (dbm.layer_mean(states, l) > 0.5).to(v.dtype)  # the layer above is still None
    for l in range(dbm.n_layers - 2, 0, -1):
        states[l] = (dbm.layer_mean(states, l) > 0.5).to(v.dtype)
    return (dbm.layer_mean(states, 0) > 0.5).to(v.dtype)


def reconstruct(model: ebm.RBM | ebm.DBM, v: torch.Tensor, dbm_pass: str = "one_sided") -> torch.Tensor:
    """The deterministic reconstruction of Figs 60 and 65: an RBM's most probable v -> h -> v'; a
    DBM's by ``dbm_pass`` (``one_sided``: the spec's pass, :meth:`~mlreview.ebm.DBM.reconstruct`;
    ``two_sided``: :func:`two_sided_reconstruction`)."""
    if dbm_pass not in DBM_PASSES:
        raise MlreviewError(f"unknown DBM reconstruction pass {dbm_pass!r}; choose one of {DBM_PASSES}")
    if isinstance(model, ebm.RBM) or dbm_pass == "one_sided":
        return model.reconstruct(v)
    return two_sided_reconstruction(model, v)


def monitor(X_monitor: torch.Tensor, X_val: torch.Tensor, mean_field_iter: int = 10):
    """The per-epoch callback of :func:`mlreview.ebm.fit`: validation reconstruction errors
    and the mean free energy of monitored training and validation images, their gap and its
    standard error (two independent samples of images: sqrt(var_train/n_train + var_val/n_val))."""
    def evaluate(model, epoch):
        f_train = free_energy(model, X_monitor, mean_field_iter).to(torch.float64)
        f_val = free_energy(model, X_val, mean_field_iter).to(torch.float64)
        errors = reconstruction_errors(model, X_val)
        se = math.sqrt(float(f_train.var()) / len(f_train) + float(f_val.var()) / len(f_val))
        return {"val_recon_error": errors["recon_error"], "val_recon_mse": errors["recon_mse"],
                "free_energy_train": float(f_train.mean()), "free_energy_val": float(f_val.mean()),
                "free_energy_gap": float(f_val.mean() - f_train.mean()), "free_energy_gap_se": se}
    return evaluate


def sparsity(model: ebm.RBM | ebm.DBM, threshold: float = SPARSITY_THRESHOLD) -> list[float]:
    """Per coupling matrix, the fraction of weights with |W| < ``threshold``."""
    return [float((w.detach().abs() < threshold).to(torch.float64).mean()) for w in model.weights]


def history_arrays(history: Sequence[Mapping]) -> dict[str, np.ndarray]:
    """The per-epoch history as ``history/<key>`` float arrays (NaN where an epoch lacks a key)."""
    keys = sorted({k for row in history for k in row})
    return {f"{HISTORY}{k}": np.array([float(row.get(k, math.nan)) for row in history]) for k in keys}


def _summary(history: Sequence[Mapping]) -> dict:
    """The per-epoch history as lists (epoch 0 = before training) and the final values."""
    arrays = {k[len(HISTORY):]: v for k, v in history_arrays(history).items()}
    final = {k: float(v[-1]) for k, v in arrays.items() if k not in ("epoch",)}
    return {"per_epoch": arrays, "final": final}


# ----------------------------------------------------------------------------------------------
# fits
# ----------------------------------------------------------------------------------------------


@step
def ebm_mnist_fit(params: Mapping, *, npz: Path, data: Path, threads: int = 1) -> dict:
    """One RBM of Fig 60 ("Hopfield" with Gaussian hidden units, Bernoulli, Bernoulli with L1)."""
    device = setup(threads, params["device"])
    X_train, X_val = load_split(npz, params)
    Xtr = torch.from_numpy(X_train).to(device)
    Xva = torch.from_numpy(X_val).to(device)
    Xmon = Xtr[torch.from_numpy(monitor_rows(len(Xtr), params["monitor"]["n_train"])).to(device)]
    seeds = np.random.SeedSequence(int(params["seed"])).generate_state(2)
    rbm = ebm.RBM(Xtr.shape[1], int(params["n_hidden"]), params["hidden"], device=device)
    rbm.initialize(Xtr, ebm.make_generator(int(seeds[0]), device))
    start = time.perf_counter()
    options = ebm.fit_options(params["training"], params.get("fit", {}))  # the model's own over the shared
    history = ebm.fit(rbm, Xtr, l1=float(params["l1"]), seed=int(seeds[1]), evaluate=monitor(Xmon, Xva),
                      evaluate_initial=True, name=params["name"], **options)
    seconds = time.perf_counter() - start
    ebm.save_model(data, rbm, **history_arrays(history))
    return to_jsonable({
        "model": params["name"], "hidden": params["hidden"], "n_hidden": int(params["n_hidden"]),
        "l1": float(params["l1"]), "n_train": len(Xtr), "n_val": len(Xva), "n_monitor": len(Xmon),
        "training": params["training"], "fit_options": options, "sparsity": sparsity(rbm), "fit_seconds": seconds,
        **_summary(history)})


@step
def ebm_mnist_dbm_fit(params: Mapping, *, npz: Path, first: Path, data: Path, threads: int = 1) -> dict:
    """The DBM 784-200-200 of Fig 60: the pretrained RBM v-h1 (``first``, model 3), an RBM h1-h2
    trained on p(h1 | v) of the training images, then joint PCD of the whole DBM."""
    device = setup(threads, params["device"])
    X_train, X_val = load_split(npz, params)
    Xtr = torch.from_numpy(X_train).to(device)
    Xva = torch.from_numpy(X_val).to(device)
    Xmon = Xtr[torch.from_numpy(monitor_rows(len(Xtr), params["monitor"]["n_train"])).to(device)]
    rbm1 = ebm.load_model(first, device=device)
    sizes = [Xtr.shape[1], *(int(h) for h in params["hidden"])]
    if not isinstance(rbm1, ebm.RBM) or rbm1.hidden != "bernoulli" or rbm1.n_units != sizes[:2]:
        raise MlreviewError(f"{first}: the DBM's first layer must be a Bernoulli RBM {sizes[0]}-{sizes[1]}")
    if len(sizes) != 3:
        raise MlreviewError(f"the Fig 60 DBM has two hidden layers, got {params['hidden']}")
    seeds = np.random.SeedSequence(int(params["seed"])).generate_state(3)
    mf = int(params["mean_field_iter"])
    training = params["training"]
    start = time.perf_counter()
    with torch.no_grad():
        H1 = rbm1.hidden_mean(Xtr)
    rbm2 = ebm.RBM(sizes[1], sizes[2], "bernoulli", device=device)
    rbm2.initialize(H1, ebm.make_generator(int(seeds[0]), device))
    pretrain = ebm.fit_options(training, params["pretrain"])
    history2 = ebm.fit(rbm2, H1, l1=float(params["l1"]), seed=int(seeds[1]), name="pretrain RBM h1-h2",
                       **pretrain)
    dbm = ebm.DBM.from_rbms([rbm1, rbm2])
    joint = ebm.fit_options(training, params["joint"])
    history = ebm.fit(dbm, Xtr, l1=float(params["l1"]), seed=int(seeds[2]), mean_field_iter=mf,
                      evaluate=monitor(Xmon, Xva, mf), evaluate_initial=True, name="dbm joint", **joint)
    seconds = time.perf_counter() - start
    ebm.save_model(data, dbm, **history_arrays(history))
    return to_jsonable({
        "model": params["name"], "layer_sizes": sizes, "l1": float(params["l1"]), "mean_field_iter": mf,
        "n_train": len(Xtr), "n_val": len(Xva), "n_monitor": len(Xmon), "training": training,
        "pretrain": pretrain, "joint": joint, "pretrain_h1_h2": _summary(history2), "sparsity": sparsity(dbm),
        "fit_seconds": seconds, **_summary(history)})


# ----------------------------------------------------------------------------------------------
# AIS likelihoods
# ----------------------------------------------------------------------------------------------


@step
def ebm_mnist_ais(params: Mapping, *, npz: Path, model: Path, threads: int = 1) -> dict:
    """AIS log Z of one trained model, ``n_repeats`` independent estimates of ``n_runs`` annealing
    runs and ``n_steps`` intermediate distributions each, and the mean log-likelihood (DBM: its
    mean-field lower bound) of the validation and monitored training images per estimate."""
    device = setup(threads, params["device"])
    X_train, X_val = load_split(npz, params)
    m = ebm.load_model(model, dtype=torch.float64, device=device)
    Xtr = torch.from_numpy(X_train).to(device=device, dtype=torch.float64)
    sets = {"val": torch.from_numpy(X_val).to(device=device, dtype=torch.float64),
            "train": Xtr[torch.from_numpy(monitor_rows(len(Xtr), params["monitor"]["n_train"])).to(device)]}
    ais = params["ais"]
    betas = ebm.ais_betas(int(ais["n_steps"]), ais["schedule"])
    base = ebm.data_visible_bias(X_train)
    mf = int(params.get("mean_field_iter", 0))
    is_dbm = isinstance(m, ebm.DBM)
    with torch.no_grad():
        unnormalised = {k: float((-free_energy(m, v, mf)).mean()) for k, v in sets.items()}
    repeats, start = [], time.perf_counter()
    for r, seed in enumerate(np.random.SeedSequence(int(ais["seed"])).generate_state(int(ais["n_repeats"]))):
        t0 = time.perf_counter()
        res = ebm.ais_log_z(m, int(ais["n_runs"]), betas, ebm.make_generator(int(seed), device), base)
        row = {**res.as_dict(), "seconds": time.perf_counter() - t0,
               **{f"ll_{k}": u - res.log_z for k, u in unnormalised.items()}}
        repeats.append(row)
        log.info("%s AIS %d: log Z %.3f (se %.3f, ESS %.1f), validation log-likelihood %.3f", params["name"], r,
                 res.log_z, res.log_z_std, res.ess, row["ll_val"])
    log_z = np.array([r["log_z"] for r in repeats])
    out = {"model": params["name"], "kind": "dbm" if is_dbm else "rbm",
           "likelihood": "mean-field variational lower bound" if is_dbm else "exact given log Z",
           "ais": ais, "n_val": len(sets["val"]), "n_train_monitor": len(sets["train"]),
           "repeats": repeats, "seconds": time.perf_counter() - start,
           "log_z": {"mean": float(log_z.mean()), "std": _std(log_z), "min": float(log_z.min()),
                     "max": float(log_z.max()), "mean_se": float(np.mean([r["log_z_std"] for r in repeats]))}}
    for k in sets:
        ll = np.array([r[f"ll_{k}"] for r in repeats])
        out[f"ll_{k}"] = {"mean": float(ll.mean()), "std": _std(ll), "min": float(ll.min()), "max": float(ll.max())}
    return to_jsonable(out)


def _std(x: np.ndarray) -> float:
    return float(x.std(ddof=1)) if len(x) > 1 else 0.0


# ----------------------------------------------------------------------------------------------
# Figs 60, 64, 65
# ----------------------------------------------------------------------------------------------


def digit_likeness(classifier, X: np.ndarray) -> float:
    """The mean maximum class probability of the fixed digit classifier (spec Fig 64)."""
    return float(classifier.predict_proba(X).max(axis=1).mean())


@torch.no_grad()
def nearest_distances(X: np.ndarray, reference: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """For binary images (rows), the number of pixels in which each row of ``X`` differs from its
    nearest row of ``reference`` (Hamming distance |x| + |r| - 2 x.r, exact in float32 for 0/1
    pixels), computed ``chunk`` rows at a time."""
    R = torch.from_numpy(np.ascontiguousarray(reference, dtype=np.float32))
    r2 = R.sum(1)
    out = []
    for start in range(0, len(X), int(chunk)):
        Q = torch.from_numpy(np.ascontiguousarray(X[start:start + int(chunk)], dtype=np.float32))
        out.append((Q.sum(1)[:, None] + r2[None, :] - 2.0 * (Q @ R.T)).min(1).values)
    return torch.cat(out).round().numpy().astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def novelty_threshold(held_out_distances: np.ndarray, quantile: float) -> float:
    """The "is it a digit?" threshold of the nearest-neighbour test: the smallest distance of a
    held-out digit to its nearest training digit that accepts at least a fraction ``quantile`` of the
    held-out digits (the empirical ``quantile``, ``inverted_cdf``): real digits are accepted at that
    rate by construction."""
    return float(np.quantile(np.asarray(held_out_distances), float(quantile), method="inverted_cdf"))


def accepted_fraction(distances: np.ndarray, threshold: float) -> float:
    """The fraction of images whose nearest training digit is within ``threshold`` pixels."""
    return float(np.mean(np.asarray(distances) <= threshold))


def flip_pixels(X: np.ndarray, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Each pixel of binary images flipped independently with ``probability`` (spec Fig 65)."""
    return np.where(rng.random(X.shape) < float(probability), 1.0 - X, X).astype(X.dtype)


@step
def ebm_mnist_samples(params: Mapping, *, npz: Path, classifier: Path, models, fits, ais, data: Path,
                 threads: int = 1) -> dict:
    """Reconstructions (Fig 60), fantasy particles (Fig 64) and denoising (Fig 65) of every model in
    ``params['models']`` order; the collected metrics of their fits and AIS runs; claims C72, C73."""
    names = list(params["models"])
    models, fits, ais = (_by_model(x, names, what) for x, what in
                         ((models, "model"), (fits, "fit metrics"), (ais, "AIS metrics")))
    device = setup(threads, params["device"])
    X_train, X_val = load_split(npz, params)
    clf = load_classifier(classifier)
    cfg = params["samples"]
    n_shown = min(int(cfg["n_shown"]), len(X_val))
    novelty, dbm_pass = cfg["novelty"], cfg["dbm_pass"]
    chunk = int(novelty["chunk"])
    n_judged = min(int(cfg["n_fantasy"]), len(X_val))  # as many reconstructions as fantasy particles
    d_val = nearest_distances(X_val, X_train, chunk)
    threshold = novelty_threshold(d_val, float(novelty["quantile"]))
    noisy = flip_pixels(X_val, cfg["flip"], np.random.default_rng(int(cfg["seed"])))
    Xva = torch.from_numpy(X_val).to(device)
    Xno = torch.from_numpy(noisy).to(device)
    arrays = {"models": np.array(names), "data": X_val[:n_shown], "noisy": noisy[:n_shown]}
    per_model = {}
    noisy_error = float(np.mean(noisy != X_val))
    seeds = np.random.SeedSequence(int(cfg["seed"])).generate_state(len(names))
    for name, seed in zip(names, seeds):
        m = ebm.load_model(models[name], device=device)
        t0 = time.perf_counter()
        recon = reconstruct(m, Xva, dbm_pass).cpu().numpy()
        gen = ebm.make_generator(int(seed), device)
        fantasy = m.sample_visible_chain(int(cfg["n_fantasy"]), int(cfg["gibbs_steps"]), gen).cpu().numpy()
        denoised = reconstruct(m, Xno, dbm_pass).cpu().numpy()
        d_recon = nearest_distances(recon[:n_judged], X_train, chunk)
        d_fantasy = nearest_distances(fantasy, X_train, chunk)
        arrays.update({f"recon/{name}": recon[:n_shown], f"fantasy/{name}": fantasy[:n_shown],
                       f"denoised/{name}": denoised[:n_shown],
                       f"filters/{name}": m.weights[0].detach().cpu().numpy().T})
        per_model[name] = {
            **reconstruction_errors(m, Xva),
            "recon_error": float(np.mean(recon != X_val)),  # of the pass drawn (for a DBM: ``dbm_pass``)
            "digit_likeness_reconstructions": digit_likeness(clf, recon),
            "digit_likeness_fantasy": digit_likeness(clf, fantasy),
            "accepted_reconstructions": accepted_fraction(d_recon, threshold),
            "accepted_fantasy": accepted_fraction(d_fantasy, threshold),
            "median_distance_reconstructions": float(np.median(d_recon)),
            "median_distance_fantasy": float(np.median(d_fantasy)),
            "mean_pixel_reconstructions": float(recon.mean()), "mean_pixel_fantasy": float(fantasy.mean()),
            "denoised_disagreement": float(np.mean(denoised != X_val)),
            "sparsity": sparsity(m), "seconds": time.perf_counter() - t0,
            **(_dbm_pass_errors(m, Xva, Xno, int(params["mean_field_iter"])) if isinstance(m, ebm.DBM) else {}),
            "fit": _fit_digest(fits[name]), "ais": _ais_digest(ais[name]),
        }
        log.info("%s: recon error %.4f, digit-likeness recon %.3f fantasy %.3f, accepted as digits recon %.3f "
                 "fantasy %.3f, denoised %.4f", name, per_model[name]["recon_error"],
                 per_model[name]["digit_likeness_reconstructions"], per_model[name]["digit_likeness_fantasy"],
                 per_model[name]["accepted_reconstructions"], per_model[name]["accepted_fantasy"],
                 per_model[name]["denoised_disagreement"])
    save_npz(data, **arrays)
    table = [summary_row(name, r) for name, r in per_model.items()]
    margin = {n: r["digit_likeness_reconstructions"] - r["digit_likeness_fantasy"] for n, r in per_model.items()}
    accepted = {n: r["accepted_reconstructions"] - r["accepted_fantasy"] for n, r in per_model.items()}
    denoised = {n: r["denoised_disagreement"] for n, r in per_model.items()}
    return to_jsonable({
        "n_val": len(X_val), "n_fantasy": int(cfg["n_fantasy"]), "gibbs_steps": int(cfg["gibbs_steps"]),
        "flip": float(cfg["flip"]), "models": per_model, "table": table,
        "data": {"digit_likeness": digit_likeness(clf, X_val), "mean_pixel": float(X_val.mean()),
                 "digit_likeness_noisy": digit_likeness(clf, noisy),
                 "accepted_noisy": accepted_fraction(nearest_distances(noisy[:n_judged], X_train, chunk), threshold)},
        "novelty": {"quantile": float(novelty["quantile"]), "threshold_pixels": threshold,
                    "n_reference": len(X_train), "n_held_out": len(X_val), "n_judged": n_judged,
                    "median_distance_held_out": float(np.median(d_val))},
        "dbm_pass": dbm_pass,
        "c72": {"decided_by": "nearest-neighbour test",
                "min_accepted_reconstruction_minus_fantasy": min(accepted.values()), "accepted_margin": accepted,
                "all_lower_accepted": all(v > 0 for v in accepted.values()),
                "min_reconstruction_minus_fantasy": min(margin.values()), "margin": margin,
                "all_lower": all(v > 0 for v in margin.values())},
        "c73": {"noisy_disagreement": noisy_error, "max_denoised_disagreement": max(denoised.values()),
                "denoised_disagreement": denoised, "all_below": all(v < cfg["flip"] for v in denoised.values())},
        "likelihood_table": likelihood_table(per_model, params.get("literature", [])),
    })


def likelihood_table(per_model: Mapping, literature: Sequence[Mapping]) -> list[dict]:
    """The AIS log-likelihoods of the models (nats per validation image; the DBM's is its mean-field
    lower bound) with the spread of the repeated estimates, then the published values of
    ``literature`` (rows with ``source``, ``model``, ``n_hidden``, ``training``, ``log_likelihood``,
    ``data``), each row marked by its ``source`` ("this run" for ours)."""
    rows = [{"source": "this run", "model": name, "n_hidden": _n_hidden(r["fit"]),
             "training": r["fit"].get("training_label"), "log_likelihood": r["ais"]["ll_val"]["mean"],
             "spread": r["ais"]["ll_val"]["std"], "likelihood": r["ais"]["likelihood"],
             "data": "MNIST threshold 0.5, 3,000 validation images"} for name, r in per_model.items()]
    return rows + [{"spread": None, "likelihood": row.get("likelihood", "AIS estimate"), **row} for row in literature]


def summary_row(name: str, r: Mapping) -> dict:
    """One row of the report's table: AIS log-likelihood (DBM: its lower bound) with the spread of
    the repeated estimates, reconstruction, denoising, digit-likeness (the classifier's mean maximum
    probability and the fraction accepted as digits by the nearest-neighbour test), sparsity, fit time."""
    ais, fit = r["ais"], r["fit"]
    return {"model": name, "log_likelihood_val": ais["ll_val"]["mean"], "ll_std_repeats": ais["ll_val"]["std"],
            "ll_range_repeats": ais["ll_val"]["max"] - ais["ll_val"]["min"], "ais_se": ais["log_z"]["mean_se"],
            "log_likelihood_train": ais["ll_train"]["mean"], "log_z": ais["log_z"]["mean"],
            "likelihood": ais["likelihood"], "recon_error": r["recon_error"],
            "denoised_disagreement": r["denoised_disagreement"],
            "digit_likeness_recon": r["digit_likeness_reconstructions"],
            "digit_likeness_fantasy": r["digit_likeness_fantasy"],
            "accepted_recon": r["accepted_reconstructions"], "accepted_fantasy": r["accepted_fantasy"],
            "sparsity_W1": r["sparsity"][0],
            "fit_seconds": fit.get("fit_seconds")}


def _dbm_pass_errors(dbm: ebm.DBM, clean: torch.Tensor, noisy: torch.Tensor, mean_field_iter: int) -> dict:
    """Pixel disagreement with the clean images of the DBM's reconstructions of the clean and the
    noisy images by every pass: the spec's one-sided pass, the two-sided pass and mean field."""
    passes = {"one_sided": dbm.reconstruct, "two_sided": lambda v: two_sided_reconstruction(dbm, v),
              "mean_field": lambda v: mean_field_reconstruction(dbm, v, mean_field_iter)}
    out = {}
    for name, fn in passes.items():
        out[f"recon_error_{name}"] = float((fn(clean) != clean).to(torch.float64).mean())
        out[f"denoised_disagreement_{name}"] = float((fn(noisy) != clean).to(torch.float64).mean())
    return out


def _by_model(paths, names: Sequence[str], what: str) -> dict[str, Path]:
    """Match input files to model names: a file belongs to the longest name its stem ends with
    (``<name>`` or ``..._<name>``), so ``rbm`` and ``rbm_l1`` are told apart."""
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    found: dict[str, list[Path]] = {n: [] for n in names}
    for p in paths:
        matches = [n for n in names if p.stem == n or p.stem.endswith(f"_{n}")]
        if matches:
            found[max(matches, key=len)].append(p)
    for name, hits in found.items():
        if len(hits) != 1:
            raise MlreviewError(f"expected one {what} file for model {name!r}, got {[str(p) for p in hits]}")
    return {n: hits[0] for n, hits in found.items()}


def _n_hidden(fit: Mapping) -> int | None:
    """The number of hidden units of a model (a DBM: of all its hidden layers)."""
    if fit.get("n_hidden") is not None:
        return int(fit["n_hidden"])
    return int(sum(fit["layer_sizes"][1:])) if fit.get("layer_sizes") else None


def _fit_digest(path: Path) -> dict:
    m = load_json(path)["metrics"]
    keys = ("fit_seconds", "sparsity", "final", "per_epoch", "n_train", "n_val", "n_hidden", "layer_sizes")
    out = {k: m[k] for k in keys if k in m}
    out["training_label"] = training_label(m)
    return out


def training_label(fit_metrics: Mapping) -> str:
    """A short description of how a model was trained, from its fit metrics (for the AIS table)."""
    if "joint" in fit_metrics:  # the DBM
        return f"pretrained, then joint PCD-{fit_metrics['joint'].get('k', 1)}, {fit_metrics['joint']['epochs']} epochs"
    o = fit_metrics.get("fit_options") or fit_metrics.get("training", {})
    label = f"{str(o.get('method', 'pcd')).upper()}-{o.get('k', 1)}, {o.get('epochs')} epochs"
    if fit_metrics.get("l1"):
        label += f", L1 {fit_metrics['l1']:g}"
    if o.get("l2"):
        label += f", weight decay {o['l2']:g}"
    return label


def _ais_digest(path: Path) -> dict:
    m = load_json(path)["metrics"]
    return {k: m[k] for k in ("likelihood", "log_z", "ll_val", "ll_train", "seconds", "ais")}


def load_samples(path: Path) -> dict[str, np.ndarray]:
    """The arrays written by :func:`samples_step`."""
    return load_npz(path)
