"""Exact-likelihood studies of energy-based models (Sections XV-XVI, beyond the review): models small
enough that log Z is a sum over 2^16 states.

* :func:`likelihood_step` (project figure ``rbm_likelihood``): Bernoulli RBMs with a few hidden units
  on binarised MNIST trained by CD-1, CD-10 and PCD-1 from the same initial weights with the same
  seed; the exact train and validation log-likelihood after every epoch; AIS against the exact
  log Z of every trained model (and of a small DBM whose first hidden layer is enumerable) at
  several numbers of intermediate distributions.
* :func:`ising_kl_step` (project figure ``rbm_ising_kl``): the 4 x 4 Ising model (2^16 states) at
  several temperatures; RBMs (Bernoulli and Gaussian hidden units) of several sizes trained on
  exact i.i.d. samples of the Boltzmann distribution; the exact KL divergence
  KL(p_Ising || p_RBM) after every epoch; the models' exact <|m|> and energy per spin against the
  Ising values; AIS against exact log Z.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from mlreview.errors import MlreviewError
from mlreview.io import save_npz, to_jsonable
from mlreview.ising.exact import brute_force
from mlreview import ebm
from mlreview.sections.energy_based.mnist import load_split
from mlreview.nn.training import setup
from mlreview.steps import step

log = logging.getLogger(__name__)


def ais_table(models: Mapping[str, torch.nn.Module], n_steps, params: Mapping, base_bias,
              device) -> list[dict]:
    """AIS log Z against the exact log Z of every model at every number K of annealing steps
    (intermediate distributions): one row per (model, K) with the error AIS - exact, the AIS standard
    error and the effective sample size."""
    rows = []
    for i, (name, model) in enumerate(models.items()):
        exact = ebm.exact_log_z(model)
        for j, k in enumerate(n_steps):
            gen = ebm.make_generator(int(params["seed"]) + 1000 * i + j, device)
            start = time.perf_counter()
            res = ebm.ais_log_z(model, int(params["n_runs"]), ebm.ais_betas(int(k), params["schedule"]), gen,
                                base_visible_bias=base_bias)
            rows.append({"model": name, "n_steps": int(k), "exact": exact, **res.as_dict(),
                         "error": res.log_z - exact, "seconds": time.perf_counter() - start})
            log.info("AIS %s, K = %d: log Z %.4f (exact %.4f, error %+.4f, se %.4f, ESS %.1f)", name, k,
                     res.log_z, exact, res.log_z - exact, res.log_z_std, res.ess)
    return rows


def _ais_arrays(rows: list[dict]) -> dict[str, np.ndarray]:
    keys = ("n_steps", "exact", "log_z", "error", "log_z_std", "ess")
    return {"ais_model": np.array([r["model"] for r in rows]),
            **{f"ais_{k}": np.array([r[k] for r in rows], dtype=float) for k in keys}}


def _ais_summary(rows: list[dict]) -> dict:
    """Largest and mean |error| and the largest |error| / standard error per number of AIS steps."""
    out = {}
    for k in sorted({r["n_steps"] for r in rows}):
        sel = [r for r in rows if r["n_steps"] == k]
        out[str(k)] = {"max_abs_error": max(abs(r["error"]) for r in sel),
                       "mean_abs_error": float(np.mean([abs(r["error"]) for r in sel])),
                       "max_abs_z": max(abs(r["error"]) / max(r["log_z_std"], 1e-12) for r in sel)}
    return out


# ----------------------------------------------------------------------------------------------
# CD-1 / CD-10 / PCD-1 on binarised MNIST
# ----------------------------------------------------------------------------------------------


@step
def rbm_likelihood(params: Mapping, *, npz: Path, data: Path, threads: int = 1) -> dict:
    """Project figure rbm_likelihood: exact train/validation log-likelihood per epoch of CD-1,
    CD-10 and PCD-1 (same data, initial weights and seed), and AIS against exact log Z."""
    device = setup(threads, params["device"])
    # the same data and split as the MNIST models of Figs 60-65 (binarised, 95/5)
    Xtr, Xva = (torch.from_numpy(x).to(device) for x in load_split(npz, params))
    n_hidden = int(params["n_hidden"])
    if n_hidden > ebm.MAX_ENUMERATION_UNITS:
        raise MlreviewError(f"n_hidden = {n_hidden}: exact log Z enumerates 2^n_hidden states, at most "
                            f"2^{ebm.MAX_ENUMERATION_UNITS}")
    training = params["training"]

    def evaluate(model, epoch):
        log_z = ebm.exact_log_z(model)
        return {"log_z": log_z, "ll_train": ebm.exact_log_likelihood(model, Xtr, log_z),
                "ll_val": ebm.exact_log_likelihood(model, Xva, log_z)}

    models, histories, seconds = {}, {}, {}
    for label, method in params["methods"].items():
        rbm = ebm.RBM(Xtr.shape[1], n_hidden, "bernoulli", device=device)
        rbm.initialize(Xtr, ebm.make_generator(int(params["init_seed"]), device))
        start = time.perf_counter()
        histories[label] = ebm.fit(rbm, Xtr, seed=int(training["seed"]), evaluate=evaluate, evaluate_initial=True,
                                   name=label, **ebm.fit_options(training, method))
        seconds[label] = time.perf_counter() - start
        models[label] = rbm

    dbm_params = params["dbm"]
    start = time.perf_counter()
    sizes = [Xtr.shape[1], *dbm_params["hidden"]]
    dbm, _ = ebm.pretrain_dbm(Xtr, sizes, seed=int(dbm_params["seed"]), device=device, method="pcd", k=1,
                              **ebm.fit_options(dbm_params["pretrain"]))
    ebm.fit(dbm, Xtr, method="pcd", k=int(dbm_params["k"]), seed=int(dbm_params["seed"]) + 1,
            mean_field_iter=int(dbm_params["mean_field_iter"]), name="dbm", **ebm.fit_options(dbm_params["joint"]))
    seconds["dbm"] = time.perf_counter() - start
    dbm_label = "DBM " + "-".join(str(s) for s in sizes)

    ais = params["ais"]
    rows = ais_table({**models, dbm_label: dbm}, ais["n_steps"], ais, ebm.data_visible_bias(Xtr.cpu().numpy()), device)
    dbm_log_z = next(r["exact"] for r in rows if r["model"] == dbm_label)
    bound = float(dbm.log_likelihood_lower_bound(Xva, dbm_log_z, int(dbm_params["mean_field_iter"])).mean())

    labels = list(params["methods"])
    curves = {key: np.array([[h[key] for h in histories[lab]] for lab in labels])
              for key in ("ll_train", "ll_val", "log_z")}
    save_npz(data, methods=np.array(labels), epochs=np.array([h["epoch"] for h in histories[labels[0]]]),
             **curves, **_ais_arrays(rows), n_hidden=n_hidden, n_train=len(Xtr), n_val=len(Xva))
    per_method = {}
    for i, lab in enumerate(labels):
        val_curve = curves["ll_val"][i]
        per_method[lab] = {"final_ll_train": float(curves["ll_train"][i, -1]), "final_ll_val": float(val_curve[-1]),
                           "best_ll_val": float(val_curve.max()), "best_epoch": int(np.argmax(val_curve)),
                           "initial_ll_val": float(val_curve[0]), "log_z": float(curves["log_z"][i, -1]),
                           "fit_seconds": seconds[lab], "per_epoch": {k: curves[k][i] for k in curves}}
    return to_jsonable({
        "n_train": len(Xtr), "n_val": len(Xva), "n_visible": Xtr.shape[1], "n_hidden": n_hidden,
        "methods": per_method,
        "ranking_final_val": sorted(labels, key=lambda lab: -per_method[lab]["final_ll_val"]),
        "dbm": {"sizes": sizes, "exact_log_z": dbm_log_z, "val_lower_bound": bound, "fit_seconds": seconds["dbm"]},
        "ais": {"summary": _ais_summary(rows), "n_runs": int(ais["n_runs"])}, "ais_rows": rows,
    })


# ----------------------------------------------------------------------------------------------
# 4 x 4 Ising: exact KL divergence
# ----------------------------------------------------------------------------------------------


def ising_state_energies(L: int, J: float, states01: np.ndarray) -> np.ndarray:
    """H = -J sum_<ij> s_i s_j of L x L torus states given as rows of 0/1 (s = 2 v - 1; row-major
    sites; each site's right and down bond, as :mod:`mlreview.ising.exact`)."""
    s = (2.0 * np.asarray(states01, dtype=np.float64) - 1.0).reshape(-1, L, L)
    bonds = s * np.roll(s, -1, axis=2) + s * np.roll(s, -1, axis=1)
    return -float(J) * bonds.sum(axis=(1, 2))


def ising_distribution(L: int, T: float, J: float) -> dict[str, np.ndarray]:
    """Every state (rows of 0/1, the order of :func:`ebm.all_states`), its exact Boltzmann
    log-probability, |m| and energy per spin; log Z is checked against :func:`brute_force`."""
    n = L * L
    states = ebm.all_states(n, torch.float64).numpy()
    energy = ising_state_energies(L, J, states)
    log_w = -energy / float(T)
    log_z = float(np.logaddexp.reduce(log_w))
    reference = float(brute_force(L, T, J)["log_z"])
    if not math.isclose(log_z, reference, rel_tol=1e-10, abs_tol=1e-10):
        raise MlreviewError(f"Ising log Z {log_z} differs from the brute-force value {reference}")
    return {"states": states, "log_p": log_w - log_z, "abs_m": np.abs(2 * states.mean(1) - 1),
            "energy_per_spin": energy / n}


def model_log_probabilities(model) -> np.ndarray:
    """log p(v) of every visible state of a small model (float64)."""
    return torch.log(ebm.visible_probabilities(model)).cpu().numpy()


def kl_divergence(log_p: np.ndarray, log_q: np.ndarray) -> float:
    """KL(p || q) = sum p (log p - log q) over all states."""
    p = np.exp(log_p)
    return float(np.sum(p * (log_p - log_q)))


@step
def rbm_ising_kl(params: Mapping, *, data: Path, threads: int = 1) -> dict:
    """Project figure rbm_ising_kl: RBMs trained on exact samples of the 4 x 4 Ising model; the exact
    KL(p_Ising || p_RBM) per epoch and against the number of hidden units; AIS against exact log Z."""
    device = setup(threads, params["device"])
    L, J = int(params["L"]), float(params["J"])
    temps = [float(t) for t in params["temperatures"]]
    kinds, sizes = list(params["hidden_kinds"]), [int(h) for h in params["hidden_sizes"]]
    training = params["training"]
    rng = np.random.default_rng(int(params["sample_seed"]))
    n_epochs = int(training["epochs"])
    kl = np.full((len(temps), len(kinds), len(sizes), n_epochs + 1), np.nan)
    observables = np.full((len(temps), len(kinds), len(sizes), 2), np.nan)
    exact_obs = np.zeros((len(temps), 2))
    sample_obs = np.zeros((len(temps), 2))
    ais_models, ais_base, per_t = {}, {}, {}
    for it, T in enumerate(temps):
        dist = ising_distribution(L, T, J)
        p = np.exp(dist["log_p"])
        exact_obs[it] = [p @ dist["abs_m"], p @ dist["energy_per_spin"]]
        idx = rng.choice(len(p), size=int(params["n_samples"]), p=p)
        samples = dist["states"][idx].astype(np.float32)
        sample_obs[it] = [dist["abs_m"][idx].mean(), dist["energy_per_spin"][idx].mean()]
        X = torch.from_numpy(samples).to(device)
        entropy = -float(p @ dist["log_p"])
        per_t[f"{T:g}"] = {"exact_abs_m": exact_obs[it, 0], "exact_energy_per_spin": exact_obs[it, 1],
                           "sample_abs_m": sample_obs[it, 0], "sample_energy_per_spin": sample_obs[it, 1],
                           "entropy": entropy, "distinct_states_in_sample": int(len(np.unique(idx))),
                           "models": {}}
        for ik, kind in enumerate(kinds):
            for ih, nh in enumerate(sizes):
                rbm = ebm.RBM(L * L, nh, kind, device=device)
                rbm.initialize(X, ebm.make_generator(int(params["init_seed"]), device))

                def evaluate(model, epoch, it=it, ik=ik, ih=ih, log_p=dist["log_p"]):
                    kl[it, ik, ih, epoch] = kl_divergence(log_p, model_log_probabilities(model))
                    return {"kl": kl[it, ik, ih, epoch]}

                label = f"T={T:g} {kind} n_h={nh}"
                start = time.perf_counter()
                ebm.fit(rbm, X, seed=int(training["seed"]), evaluate=evaluate, evaluate_initial=True, name=label,
                        **ebm.fit_options(training))
                q = np.exp(model_log_probabilities(rbm))
                observables[it, ik, ih] = [q @ dist["abs_m"], q @ dist["energy_per_spin"]]
                per_t[f"{T:g}"]["models"][f"{kind}_{nh}"] = {
                    "kl_final": kl[it, ik, ih, -1], "kl_initial": kl[it, ik, ih, 0],
                    "kl_min": float(np.nanmin(kl[it, ik, ih])), "abs_m": observables[it, ik, ih, 0],
                    "energy_per_spin": observables[it, ik, ih, 1], "fit_seconds": time.perf_counter() - start}
                if nh == max(sizes) and f"{T:g}" == f"{float(params['ais']['temperature']):g}":
                    ais_models[f"{kind} RBM {L * L}-{nh} (T = {T:g})"] = rbm
                    ais_base = ebm.data_visible_bias(samples)
    if not ais_models:
        raise MlreviewError("ais.temperature must be one of the temperatures")
    rows = ais_table(ais_models, params["ais"]["n_steps"], params["ais"], ais_base, device)
    save_npz(data, temperatures=np.array(temps), kinds=np.array(kinds), hidden_sizes=np.array(sizes),
             kl=kl, observables=observables, exact_observables=exact_obs, sample_observables=sample_obs,
             epochs=np.arange(n_epochs + 1), **_ais_arrays(rows), L=L, n_samples=int(params["n_samples"]))
    final = kl[..., -1]
    return to_jsonable({
        "L": L, "n_states": 2 ** (L * L), "n_samples": int(params["n_samples"]), "temperatures": per_t,
        "kl_final": {f"{T:g}": {kind: dict(zip(map(str, sizes), final[it, ik])) for ik, kind in enumerate(kinds)}
                     for it, T in enumerate(temps)},
        "max_kl_final_largest_model": {kind: float(np.max(final[:, ik, -1])) for ik, kind in enumerate(kinds)},
        "ais": {"summary": _ais_summary(rows), "n_runs": int(params["ais"]["n_runs"])}, "ais_rows": rows,
    })
