"""Figs 66-68: a deep Boltzmann machine on the 40 x 40 Ising states of one temperature (spec
decision l), and whether its samples have the physics of the Monte Carlo data.

* :func:`fit_step` (one temperature): the configurations of the 2D Ising data set at T as 0/1
  spins, a seeded train/validation split, layer-wise pretraining then joint PCD training of a
  DBM (:mod:`mlreview.ebm`) watched per epoch (:class:`Monitor`), the mean-field reconstructions of
  the validation states (:func:`reconstruct`) and fantasy particles (:func:`fantasy_particles`: from random states, or the
  persistent chains of the joint training); the physical observables (:func:`summarise`) of the Monte
  Carlo states, the validation states, their reconstructions and the fantasy particles.
* :func:`observables_step` (all temperatures): the observables side by side and the claim
  proxies of C74 and C75 (:func:`deviations`).

Observables (:func:`mlreview.ising.observables.lattice_observables`, +-1 form, periodic
boundaries as in the Monte Carlo): mean |m| (with its standard error), the fraction of states with
m > 0, the histogram of m, the energy per spin and the nearest-neighbour correlation.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.errors import MlreviewError
from mlreview.io import as_list, load_npz, save_npz
from mlreview.ising.observables import lattice_observables
from mlreview.stats import mean_and_se
from mlreview.steps import step

# torch, the EBM module and the data loader are imported by the training functions only: the
# gather step (numpy) starts without them.

log = logging.getLogger(__name__)

#: the sets whose observables are measured: the Monte Carlo states at T (all of them), the
#: validation states, their reconstructions and the fantasy particles
SETS = ("mc", "validation", "reconstruction", "fantasy")
#: the model sets compared with the Monte Carlo values
MODEL_SETS = ("reconstruction", "fantasy")


def temperature_key(temperature: float) -> str:
    return f"T_{float(temperature):.2f}"


def summarise(m: np.ndarray, energy: np.ndarray, nn: np.ndarray, bins: int) -> dict:
    """Mean |m| (and its standard error), the fraction with m > 0 (m = 0 counts one half), the
    mean energy per spin and nearest-neighbour correlation, and the histogram of m on [-1, 1]."""
    m = np.asarray(m, float)
    n = len(m)
    counts, edges = np.histogram(m, bins=int(bins), range=(-1.0, 1.0))
    mean_abs_m, mean_abs_m_se = mean_and_se(np.abs(m))
    energy_per_spin, energy_per_spin_se = mean_and_se(energy)
    return {
        "n": int(n),
        "mean_abs_m": mean_abs_m,
        "mean_abs_m_se": mean_abs_m_se,
        "fraction_positive": float((m > 0).mean() + 0.5 * (m == 0).mean()),
        "energy_per_spin": energy_per_spin,
        "energy_per_spin_se": energy_per_spin_se,
        "nn_correlation": float(np.mean(nn)),
        "m_histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
    }


def deviations(model: Mapping, mc: Mapping, c74: Mapping, c75: Mapping) -> dict:
    """How far a model set's observables are from the Monte Carlo ones, in units of the claim
    tolerances: ``abs_m`` = |delta <|m|>| / abs_m_tolerance, ``energy`` = |delta e| /
    (energy_rel_tolerance |e_MC|), ``sign`` = |delta fraction(m > 0)| / sign_fraction_tolerance;
    ``score`` is the largest of the three and ``within_c74`` says whether the first two are <= 1."""
    d_m = model["mean_abs_m"] - mc["mean_abs_m"]
    d_e = model["energy_per_spin"] - mc["energy_per_spin"]
    d_s = model["fraction_positive"] - mc["fraction_positive"]
    scaled = {
        "abs_m": abs(d_m) / float(c74["abs_m_tolerance"]),
        "energy": abs(d_e) / (float(c74["energy_rel_tolerance"]) * abs(mc["energy_per_spin"])),
        "sign": abs(d_s) / float(c75["sign_fraction_tolerance"]),
    }
    return {
        "delta_abs_m": float(d_m),
        "delta_energy": float(d_e),
        "energy_rel_deviation": float(d_e / abs(mc["energy_per_spin"])),
        "delta_fraction_positive": float(d_s),
        "delta_nn_correlation": float(model["nn_correlation"] - mc["nn_correlation"]),
        "scaled": {k: float(v) for k, v in scaled.items()},
        "score": float(max(scaled.values())),
        "within_c74": bool(scaled["abs_m"] <= 1.0 and scaled["energy"] <= 1.0),
    }


def mean_observables(states, lattice: int) -> dict:
    """Mean |m|, energy per spin and nearest-neighbour correlation of 0/1 states."""
    o = lattice_observables(np.asarray(states), lattice, encoding="01")
    return {"abs_m": float(np.abs(o["m"]).mean()), "energy": float(o["energy"].mean()),
            "nn": float(o["nn_correlation"].mean())}


class Monitor:
    """Per-epoch monitors of the models whose visible layer is the lattice (the first RBM and the DBM;
    the upper RBMs are skipped), from ``params["monitor"]``: the mean observables
    (:func:`mean_observables`) of fresh fantasy particles (``n_particles`` random states after ``steps``
    Gibbs steps, the same seed every epoch: the spec's sampling protocol) as ``fantasy_*``, of the
    persistent chains as ``chains_*``, and for an RBM the pseudo-log-likelihood per spin of the
    validation states at ``pl_sites`` seeded sites (``pseudo_ll``). :attr:`last_chains` keeps the
    persistent chains of the latest epoch."""

    def __init__(self, params: Mapping, lattice: int, validation: np.ndarray):
        from mlreview import ebm

        self.ebm, self.p, self.lattice, self.validation = ebm, params["monitor"], int(lattice), validation
        rng = np.random.default_rng(int(self.p["seed"]))
        n_spins = self.lattice ** 2
        self.sites = np.sort(rng.choice(n_spins, size=min(int(self.p["pl_sites"]), n_spins), replace=False))
        self.last_chains = None

    def _on_lattice(self, n_visible: int) -> bool:
        return int(n_visible) == self.lattice ** 2

    def model(self, model, epoch: int) -> dict:
        if not self._on_lattice(model.n_visible):
            return {}
        gen = self.ebm.make_generator(int(self.p["seed"]), model.device)
        fantasy = model.sample_visible_chain(int(self.p["n_particles"]), int(self.p["steps"]), gen)
        out = {f"fantasy_{k}": v for k, v in mean_observables(fantasy.cpu().numpy(), self.lattice).items()}
        if isinstance(model, self.ebm.RBM):
            out["pseudo_ll"] = self.ebm.pseudo_log_likelihood(model, self.validation, self.sites)
        return out

    def chains(self, chains, epoch: int) -> dict:
        if not self._on_lattice(chains[0].shape[1]):
            return {}
        self.last_chains = chains
        return {f"chains_{k}": v for k, v in mean_observables(chains[0].cpu().numpy(), self.lattice).items()}


def reconstruct(dbm, v, mean_field_iter: int) -> tuple[np.ndarray, dict]:
    """The reconstructions of the 0/1 rows ``v`` drawn in Figs 66-68 and measured as a set: the
    mean-field pass :meth:`~mlreview.ebm.DBM.mean_field_reconstruct` (``mean_field_iter`` sweeps, those of
    the positive phase), most probable v'. The spec's one-sided pass (:meth:`~mlreview.ebm.DBM.reconstruct`)
    is measured beside it: with centred training it returns states of one sign (a deviation of Figs 66-68).
    Returns the states and the mean squared error between p(v' = 1 | ...) and v of each pass."""
    p_mf = dbm.mean_field_reconstruct(v, int(mean_field_iter), probabilities=True)
    p_one = dbm.reconstruct(v, probabilities=True)
    mse = {"mean_field": float(((p_mf - v) ** 2).double().mean()),
           "one_sided": float(((p_one - v) ** 2).double().mean())}
    return (p_mf > 0.5).to(v.dtype).cpu().numpy(), mse


def train_dbm(X: np.ndarray, params: Mapping, device, monitor: Monitor | None = None):
    """Layer-wise pretraining (``params["pretrain"]``; its ``doubled_weights``: Salakhutdinov & Hinton's
    doubled-weight RBMs, :func:`mlreview.ebm.pretrain_dbm`) then joint PCD training (``params["joint"]``)
    of a DBM with hidden layers ``params["hidden"]`` on the 0/1 rows ``X``, watched per epoch by
    ``monitor``: the :class:`~mlreview.ebm.DBM` and a dict of the histories and the wall and CPU
    seconds of each stage."""
    from mlreview import ebm

    sizes = [X.shape[1], *(int(h) for h in params["hidden"])]
    pre_seed, joint_seed = (int(s.generate_state(1)[0]) for s in np.random.SeedSequence(int(params["seed"])).spawn(2))
    watch = {} if monitor is None else {"evaluate": monitor.model, "evaluate_chains": monitor.chains}
    start, cpu = time.perf_counter(), time.process_time()
    # the shared settings of the section (PCD-k, chains, batch, optimizer, centering, L1, mean field),
    # then each stage's
    dbm, pre_hist = ebm.pretrain_dbm(X, sizes, seed=pre_seed, device=device, **watch,
                                     doubled_weights=bool(params["pretrain"].get("doubled_weights", False)),
                                     **ebm.fit_options(params, params["pretrain"]))
    pre_seconds, pre_cpu = time.perf_counter() - start, time.process_time() - cpu
    joint_hist = ebm.fit(dbm, X, seed=joint_seed, name="DBM joint", **watch,
                         **ebm.fit_options(params, params["joint"]))
    return dbm, {
        "pretrain": pre_hist,
        "joint": joint_hist,
        "seconds": {"pretrain": pre_seconds, "joint": time.perf_counter() - start - pre_seconds},
        "cpu_seconds": {"pretrain": pre_cpu, "joint": time.process_time() - cpu - pre_cpu},
    }


def fantasy_particles(dbm, params: Mapping, monitor: Monitor | None, device) -> np.ndarray:
    """``params["fantasy"]``: ``start: random`` - ``n_particles`` chains from random states after
    ``steps`` layer-wise Gibbs steps (the spec's protocol); ``start: persistent`` - the first
    ``n_particles`` persistent chains of the joint training (Tieleman's fantasy particles), run
    ``steps`` more Gibbs steps with the trained model."""
    from mlreview import ebm

    fan = params["fantasy"]
    n, steps = int(fan["n_particles"]), int(fan["steps"])
    gen = ebm.make_generator(int(fan["seed"]), device)
    if fan["start"] == "random":
        return dbm.sample_visible_chain(n, steps, gen).cpu().numpy()
    if fan["start"] != "persistent":
        raise MlreviewError(f"fantasy.start is {fan['start']!r}; choose random or persistent")
    chains = None if monitor is None else monitor.last_chains
    if chains is None or len(chains) != dbm.n_layers or len(chains[0]) < n:
        have = 0 if chains is None or len(chains) != dbm.n_layers else len(chains[0])
        raise MlreviewError(f"fantasy.start persistent needs {n} persistent chains of the joint stage, there are "
                            f"{have}: set n_chains >= fantasy.n_particles and method pcd")
    return dbm.gibbs([c[:n] for c in chains], steps, gen)[0].cpu().numpy()


@step
def ising_dbm_fit(params: Mapping, *, dataset: Path, model: Path, data: Path, threads: int = 1) -> dict:
    """One temperature of Figs 66-68: train the DBM, reconstruct, sample, measure."""
    import torch

    from mlreview import ebm
    from mlreview.data.ising import load_ising2d
    from mlreview.data.splits import split_indices
    from mlreview.ising.exact import energy_per_spin, onsager_magnetisation
    from mlreview.nn.training import setup

    device = setup(threads, params["device"])
    T = float(params["temperature"])
    d = load_ising2d(dataset, encoding="01", temperatures=[T])
    if len(d.X) == 0:
        raise MlreviewError(f"no Ising states at T = {T} in {dataset}")
    X = d.X.astype(np.float32)
    train, val = split_indices(len(X), float(params["train_fraction"]), int(params["split_seed"]))
    log.info("T = %.2f: %d training and %d validation states of %d spins", T, len(train), len(val), X.shape[1])
    monitor = Monitor(params, d.lattice, X[val])
    dbm, history = train_dbm(X[train], params, device, monitor)

    start = time.perf_counter()
    Xv = torch.as_tensor(X[val], device=device)
    recon, recon_mse = reconstruct(dbm, Xv, int(params["mean_field_iter"]))
    fantasy = fantasy_particles(dbm, params, monitor, device)
    sample_seconds = time.perf_counter() - start

    states = {"mc": X, "validation": X[val], "reconstruction": recon, "fantasy": fantasy}
    obs = {name: lattice_observables(s, d.lattice, encoding="01") for name, s in states.items()}
    summary = {name: summarise(o["m"], o["energy"], o["nn_correlation"], params["histogram_bins"])
               for name, o in obs.items()}
    exact = {
        "energy_per_spin": float(energy_per_spin(d.lattice, T)),  # finite torus (Kaufman)
        "onsager_abs_m": float(onsager_magnetisation(T)),  # infinite lattice
    }
    n_show = int(params["n_display"])
    ebm.save_model(model, dbm)
    save_npz(
        data,
        temperature=np.array(T), lattice=np.array(d.lattice), hidden=np.array(params["hidden"]),
        n_train=np.array(len(train)),
        data=X[val][:n_show], reconstruction=recon[:n_show], fantasy=fantasy[:n_show],
        exact_energy_per_spin=np.array(exact["energy_per_spin"]),
        onsager_abs_m=np.array(exact["onsager_abs_m"]),
        **{f"{key}/{name}": o[key] for name, o in obs.items() for key in ("m", "energy", "nn_correlation")},
        **_history_arrays(history),
    )
    return {
        "temperature": T,
        "lattice": d.lattice,
        "layers": [X.shape[1], *(int(h) for h in params["hidden"])],
        "n_train": int(len(train)),
        "n_validation": int(len(val)),
        "device": str(device),
        "observables": summary,
        "reconstruction_mse": recon_mse,
        "exact": exact,
        "training": {
            "pretrain_recon_mse": [kept_entry(h)["recon_mse"] for h in history["pretrain"]],
            # per pretrained RBM: the epochs trained and the epoch whose parameters were kept (keep_best)
            "pretrain_epochs": [len(h) for h in history["pretrain"]],
            "pretrain_kept_epoch": [int(kept_entry(h)["epoch"]) for h in history["pretrain"]],
            "joint_recon_mse": [h["recon_mse"] for h in history["joint"]],
            # the per-epoch monitors at the end of each stage on the lattice (all epochs: the data file)
            "monitor": {"pretrain": _monitored(kept_entry(history["pretrain"][0])),
                        "joint": _monitored(history["joint"][-1])},
            "seconds": {**history["seconds"], "sampling": sample_seconds},
            "cpu_seconds": history["cpu_seconds"],
        },
    }


def kept_entry(hist: list[Mapping]) -> Mapping:
    """The history entry of the epoch whose parameters a stage ended with: the one marked ``kept`` by
    early stopping (``keep_best``), else the last."""
    return next((h for h in hist if h.get("kept") == 1.0), hist[-1])


def _monitored(entry: Mapping) -> dict:
    return {k: v for k, v in entry.items() if k.startswith(("fantasy_", "chains_")) or k == "pseudo_ll"}


def _history_arrays(history: Mapping) -> dict:
    """Every per-epoch number of every stage as ``history/<stage>_<key>`` (stage ``pretrain<l>`` or
    ``joint``): the learning rate, the seconds, the reconstruction error and the monitors."""
    stages = {**{f"pretrain{l}": hist for l, hist in enumerate(history["pretrain"])}, "joint": history["joint"]}
    out = {}
    for stage, hist in stages.items():
        keys = [k for k, v in hist[0].items() if isinstance(v, float)] if hist else []
        out.update({f"history/{stage}_{k}": np.array([h[k] for h in hist]) for k in keys})
    return out


def load_temperature(path: Path, bins: int) -> dict:
    """A file of :func:`fit_step`: the temperature, the exact values and every set's summary."""
    z = load_npz(path)
    summary = {name: summarise(z[f"m/{name}"], z[f"energy/{name}"], z[f"nn_correlation/{name}"], bins)
               for name in SETS}
    return {
        "temperature": float(z["temperature"]),
        "n_train": int(z["n_train"]),
        "layers": [int(z["lattice"]) ** 2, *(int(h) for h in np.atleast_1d(z["hidden"]))],
        "exact": {"energy_per_spin": float(z["exact_energy_per_spin"]), "onsager_abs_m": float(z["onsager_abs_m"])},
        "observables": summary,
    }


def claims(per_t: Mapping[str, Mapping], params: Mapping) -> dict:
    """C74: at the temperatures ``c74.temperatures`` the fantasy particles' mean |m| and energy per
    spin lie within the tolerances of the Monte Carlo values. C75, the contrast the review draws:
    the fantasy particles' deviation score (:func:`deviations`) at ``c75.ordered`` is larger than at
    every temperature of C74, and at those temperatures the model works (C74's tolerances hold);
    ``larger`` alone is also given."""
    c74, c75 = params["c74"], params["c75"]
    good = [temperature_key(t) for t in c74["temperatures"]]
    ordered = temperature_key(c75["ordered"])
    missing = [k for k in [*good, ordered] if k not in per_t]
    if missing:
        raise MlreviewError(f"claims C74/C75 need the temperatures {missing}, which were not run")
    dev = {k: v["deviation"]["fantasy"] for k, v in per_t.items()}
    others = max(dev[k]["score"] for k in good)
    works_elsewhere = all(dev[k]["within_c74"] for k in good)
    larger = dev[ordered]["score"] > others
    return {
        "c74": {"holds": bool(works_elsewhere), "temperatures": [float(t) for t in c74["temperatures"]]},
        "c75": {"holds": bool(larger and works_elsewhere), "larger": bool(larger),
                "ordered_score": dev[ordered]["score"], "largest_other_score": others},
    }


def weight_scales(path: Path) -> dict:
    """Mean |W| of every coupling matrix of a DBM saved by :func:`mlreview.ebm.save_model`,
    with the mean |W| of its Glorot-normal initialisation, std sqrt(2/(n_in + n_out)) x sqrt(2/pi):
    how far training moved the weights (read with numpy; no model is built)."""
    z = load_npz(path)
    names = sorted((k for k in z if k.startswith("param/Ws.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    out = {}
    for name in names:
        W = z[name]
        out[f"W{int(name.rsplit('.', 1)[1]) + 1}"] = {
            "mean_abs": float(np.abs(W).mean()),
            "glorot_init_mean_abs": math.sqrt(2.0 / sum(W.shape)) * math.sqrt(2.0 / math.pi),
        }
    return out


@step
def ising_dbm_observables(params: Mapping, *, data, models, summary: Path) -> dict:
    """All temperatures of Figs 66-68: the observables of every set, their deviations from the
    Monte Carlo values, the weight scales of the trained DBMs (``models``, in the order of ``data``)
    and the claim proxies; ``summary`` (npz) holds the histograms for the plot."""
    bins = int(params["histogram_bins"])
    data, models = as_list(data), as_list(models)
    if len(data) != len(models):
        raise MlreviewError(f"{len(data)} data files but {len(models)} models")
    per_t, arrays = {}, {}
    for path, model_path in zip(data, models):
        entry = load_temperature(path, bins)
        entry["weights"] = weight_scales(model_path)
        key = temperature_key(entry["temperature"])
        obs = entry["observables"]
        entry["deviation"] = {name: deviations(obs[name], obs["mc"], params["c74"], params["c75"])
                              for name in MODEL_SETS}
        per_t[key] = entry
        z = load_npz(path)
        arrays.update({f"{key}/{k}": v for k, v in z.items() if k.split("/")[0] in ("m", "energy")})
        arrays[f"{key}/exact_energy_per_spin"] = z["exact_energy_per_spin"]
        arrays[f"{key}/onsager_abs_m"] = z["onsager_abs_m"]
    temps = sorted(v["temperature"] for v in per_t.values())
    save_npz(summary, temperatures=np.array(temps), sets=np.array(SETS), **arrays)
    return {
        "temperatures": temps,
        # the claims are checked at paper scale only (requires n_train: 9500 in the registry)
        "n_train": min(v["n_train"] for v in per_t.values()),
        "layers": next(iter(per_t.values()))["layers"],
        "by_temperature": per_t,
        "table": _table(per_t),
        **claims(per_t, params),
    }


def _table(per_t: Mapping[str, Mapping]) -> dict:
    """Compact rows: per temperature and set, <|m|>, fraction m > 0, e and <s_i s_j>."""
    return {key: {name: {k: round(v["observables"][name][k], 4)
                         for k in ("mean_abs_m", "fraction_positive", "energy_per_spin", "nn_correlation")}
                  for name in SETS}
            for key, v in per_t.items()}
