"""Section XVII: variational autoencoders on MNIST (Figs 75, 76) and on the 2D Ising states
(Figs 77, 78), with held-out log-likelihoods estimated by importance sampling, and the check of
that estimator on a linear-Gaussian VAE whose marginal likelihood is exact (probabilistic PCA).

The model (spec decision n; modules in :mod:`mlreview.nn.vae`): a Gaussian encoder and a
Bernoulli decoder with one hidden layer of 256 ReLU units each, latent dimension 2, the prior
p(z) = N(0, s^2 I) (s = 1 for MNIST, 0.2 for Ising). The loss is the standard per-example
negative ELBO,

    -ELBO(x) = -E_q[log p(x|z)] + D_KL(q(z|x) || p(z)),

with the reconstruction term the sum over pixels of the binary cross-entropy (one reparametrised
sample z = mu + sigma * eps per example and step) and the KL in closed form,
sum_j [log(s / sigma_j) + (sigma_j^2 + mu_j^2) / (2 s^2) - 1/2]; the minibatch loss is its mean.
Training is the project's one loop (:func:`mlreview.nn.training.train`) with RMSprop; the
reparametrisation noise comes from the model's own generator, seeded from the config.

Held-out log-likelihood (beyond the review, which reports the ELBO only): with the encoder as
proposal, for K samples z_k ~ q(z|x),

    log p_K(x) = log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),

whose expectation rises with K towards log p(x) (Burda et al. 2016; K = 1 is the ELBO). One set of
K_max samples per example serves every K dividing K_max: it is cut into K_max / K groups of K, and
the group estimates are averaged (a lower-variance estimate of E[log p_K]). Means over a seeded
subset of held-out examples carry their standard error; differences (K against K = 1, estimate
against the exact value) are paired per example. For the MNIST grey values the Bernoulli
"likelihood" is not a normalised density (the review's loss, decision n): the numbers are
comparable between K, not with likelihoods of binarised MNIST.

The check (:func:`ppca_step`): a linear-Gaussian VAE (linear encoder, linear decoder with one
learned noise variance) on synthetic data from a probabilistic-PCA model. Its decoder's marginal
is N(b, W W^T + sigma^2 I), exact; the importance-sampled estimate must approach it as K grows,
with the trained encoder as proposal and with a deliberately too narrow one. The PPCA
maximum-likelihood value (scikit-learn's ``PCA.score``) is the best any such model can reach.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mlreview.errors import MlreviewError
from mlreview.io import save_npz, to_jsonable
from mlreview.ising.observables import connected_nn_correlation, spatial_nn_correlation
from mlreview.nn.training import history_arrays
from mlreview.stats import mean_and_se
from mlreview.steps import step

log = logging.getLogger(__name__)

#: per-epoch columns of a training history
HISTORY_KEYS = ("epoch", "train_loss", "held_out_loss", "seconds")


# --------------------------------------------------------------------------------------------
# The ELBO
# --------------------------------------------------------------------------------------------

def kl_to_prior(mu, logvar, prior_std: float = 1.0):
    """D_KL(N(mu, diag e^logvar) || N(0, s^2 I)) per example (torch tensors, shape (n, latent))."""
    s2 = float(prior_std) ** 2
    return (math.log(float(prior_std)) - 0.5 * logvar + (logvar.exp() + mu ** 2) / (2 * s2) - 0.5).sum(-1)


def negative_elbo(model, output, x):
    """Per-example negative ELBO from ``model(x)``'s output ``(decoder output, mu, logvar)``:
    minus the summed log-likelihood of x (one sample) plus the KL to the prior."""
    out, mu, logvar = output
    return -model.decoder.log_likelihood(out, x) + kl_to_prior(mu, logvar, model.prior_std)


def elbo_loss(model):
    """The training loss of :func:`mlreview.nn.training.train`: the mean negative ELBO of a
    minibatch (the targets are the inputs)."""
    return lambda output, x: negative_elbo(model, output, x).mean()


def mean_negative_elbo(model, X, batch_size: int, seed: int) -> float:
    """The mean negative ELBO of the rows of ``X`` (one reparametrised sample each, the noise from
    a generator seeded by ``seed``: the same noise at every call, so epochs are comparable)."""
    import torch

    generator = torch.Generator().manual_seed(int(seed))
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(X), int(batch_size)):
            x = X[start:start + int(batch_size)]
            mu, logvar = model.encoder(x)
            z = mu + torch.exp(0.5 * logvar) * model.noise(mu.shape, mu, generator)
            total += float(negative_elbo(model, (model.decoder(z), mu, logvar), x).sum())
    return total / len(X)


def encode(model, X, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Encoder means and log-variances of the rows of ``X`` (numpy, float64)."""
    import torch

    model.eval()
    mus, logvars = [], []
    with torch.no_grad():
        for start in range(0, len(X), int(batch_size)):
            mu, logvar = model.encoder(X[start:start + int(batch_size)])
            mus.append(mu.double().cpu())
            logvars.append(logvar.double().cpu())
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


def decode_means(model, Z: np.ndarray) -> np.ndarray:
    """E[x|z] (the Bernoulli means) at the latent points ``Z`` (n, latent)."""
    import torch

    from mlreview.nn.training import as_tensor

    model.eval()
    param = next(model.parameters())
    with torch.no_grad():
        out = model.decoder(as_tensor(np.asarray(Z, float), dtype=param.dtype, device=param.device))
        return model.decoder.mean(out).double().cpu().numpy()


# --------------------------------------------------------------------------------------------
# Importance-sampled log-likelihood
# --------------------------------------------------------------------------------------------

def check_ks(ks: Sequence[int]) -> list[int]:
    """The sample sizes K, sorted; each must divide the largest (one set of samples serves all)."""
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise MlreviewError(f"importance sampling needs sample sizes K >= 1, got {ks}")
    bad = [k for k in ks if ks[-1] % k]
    if bad:
        raise MlreviewError(f"every K must divide the largest ({ks[-1]}); {bad} do not")
    return ks


def log_importance_weights(model, x, n_samples: int, generator, proposal_scale: float = 1.0):
    """log p(x|z_k) + log p(z_k) - log q(z_k|x) for z_k from the encoder's Gaussian (its standard
    deviations multiplied by ``proposal_scale``): a tensor (n, n_samples)."""
    import torch

    mu, logvar = model.encoder(x)
    logvar = logvar + 2.0 * math.log(float(proposal_scale))
    std = torch.exp(0.5 * logvar)
    eps = model.noise((n_samples, *mu.shape), mu, generator)  # (K, n, latent)
    z = mu + std * eps
    log_q = (-0.5 * (eps ** 2 + logvar + math.log(2 * math.pi))).sum(-1)
    s = model.prior_std
    log_prior = (-0.5 * ((z / s) ** 2 + math.log(2 * math.pi * s * s))).sum(-1)
    log_lik = model.decoder.log_likelihood(model.decoder(z), x.unsqueeze(0))
    return (log_lik + log_prior - log_q).transpose(0, 1)


def importance_log_likelihood(model, X, ks: Sequence[int], seed: int, chunk: int = 10,
                              proposal_scale: float = 1.0) -> dict[int, np.ndarray]:
    """{K: per-example estimate of E[log p_K(x)]} for the rows of ``X`` (see the module
    docstring): K_max = max(ks) weights per example, cut into K_max / K groups of K."""
    import torch

    ks = check_ks(ks)
    k_max = ks[-1]
    generator = torch.Generator().manual_seed(int(seed))
    model.eval()
    parts: dict[int, list[np.ndarray]] = {k: [] for k in ks}
    with torch.no_grad():
        for start in range(0, len(X), int(chunk)):
            lw = log_importance_weights(model, X[start:start + int(chunk)], k_max, generator,
                                        proposal_scale).double().cpu()
            for k in ks:
                groups = lw.reshape(len(lw), k_max // k, k)
                est = torch.logsumexp(groups, -1) - math.log(k)
                parts[k].append(est.mean(-1).numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def summarise_likelihood(estimates: Mapping[int, np.ndarray], reference: np.ndarray | None = None) -> dict:
    """Per K: the mean estimate and its standard error, the paired gain over the smallest K and,
    with per-example ``reference`` values (the exact log p(x)), the paired error."""
    ks = sorted(estimates)
    base = estimates[ks[0]]
    out: dict = {"ks": ks, "n_examples": int(len(base)), "by_k": {}}
    for k in ks:
        mean, se = mean_and_se(estimates[k])
        gain, gain_se = mean_and_se(estimates[k] - base)
        row = {"mean": mean, "se": se, "gain": gain, "gain_se": gain_se}
        if reference is not None:
            err, err_se = mean_and_se(estimates[k] - reference)
            row.update(error=err, error_se=err_se, abs_error=abs(err))
        out["by_k"][f"K_{k}"] = row
    means = [out["by_k"][f"K_{k}"]["mean"] for k in ks]
    out["rises_with_k"] = bool(all(b >= a for a, b in zip(means, means[1:])))
    out["largest_k"] = ks[-1]
    return out


def exact_gaussian_log_likelihood(W: np.ndarray, b: np.ndarray, noise_var: float, X: np.ndarray) -> np.ndarray:
    """log N(x; b, W W^T + noise_var I) per row of ``X``: the exact marginal of a linear-Gaussian
    decoder x = W z + b + noise with z ~ N(0, I)."""
    from scipy.stats import multivariate_normal

    W = np.asarray(W, float)
    cov = W @ W.T + float(noise_var) * np.eye(W.shape[0])
    return np.atleast_1d(multivariate_normal(mean=np.asarray(b, float), cov=cov).logpdf(np.asarray(X, float)))


def linear_decoder_marginal(model) -> tuple[np.ndarray, np.ndarray, float]:
    """(W, b, noise variance) of a linear Gaussian decoder, with the prior scale folded into W
    (z = s u, u ~ N(0, I))."""
    layers = [m for m in model.decoder.layers]
    if len(layers) != 1 or model.decoder.likelihood != "gaussian":
        raise MlreviewError("the exact marginal needs a linear decoder with a Gaussian likelihood")
    W = layers[0].weight.detach().double().cpu().numpy() * model.prior_std
    b = layers[0].bias.detach().double().cpu().numpy()
    return W, b, float(model.decoder.log_noise_var.detach().exp())


# --------------------------------------------------------------------------------------------
# Latent grids, diversity of decoded images, correlations of spins
# --------------------------------------------------------------------------------------------

def grid_values(n: int, uniform_range: Sequence[float], cdf_range: Sequence[float], prior_std: float = 1.0) -> dict:
    """The 1D coordinates of the two latent grids: ``uniform`` = s * linspace(range, n) and
    ``cdf`` = s * Phi^-1(linspace(cdf_range, n)) (Phi the standard normal CDF)."""
    from scipy.stats import norm

    lo, hi = (float(v) for v in cdf_range)
    if not 0.0 < lo < hi < 1.0:
        raise MlreviewError(f"the inverse-CDF grid needs probabilities in (0, 1), got {list(cdf_range)}")
    s = float(prior_std)
    return {"uniform": s * np.linspace(float(uniform_range[0]), float(uniform_range[1]), int(n)),
            "cdf": s * norm.ppf(np.linspace(lo, hi, int(n)))}


def grid_points(values: np.ndarray) -> np.ndarray:
    """The (n, n, 2) latent points of a mosaic: row i (top to bottom) has z_2 = values[::-1][i],
    column j has z_1 = values[j]."""
    values = np.asarray(values, float)
    z1, z2 = np.meshgrid(values, values[::-1])
    return np.stack([z1, z2], axis=-1)


def mean_pairwise_distance(images: np.ndarray) -> float:
    """Mean Euclidean distance between the distinct pairs of the flattened ``images``."""
    from scipy.spatial.distance import pdist

    flat = np.asarray(images, float).reshape(len(images), -1)
    return float(pdist(flat).mean()) if len(flat) > 1 else 0.0


def adjacent_distance(images: np.ndarray, n: int) -> float:
    """Mean Euclidean distance between horizontally or vertically adjacent tiles of an n x n
    mosaic of ``images`` (row-major): how fast the decoded images change across the grid."""
    flat = np.asarray(images, float).reshape(n, n, -1)
    pairs = [flat[:, 1:] - flat[:, :-1], flat[1:] - flat[:-1]]
    return float(np.concatenate([np.linalg.norm(p, axis=-1).ravel() for p in pairs]).mean())


def class_spread(predicted: np.ndarray) -> dict:
    """How the predicted classes of a grid's tiles spread: the number of distinct classes, the
    largest share of one class, and the entropy of the class frequencies (bits)."""
    _, counts = np.unique(np.asarray(predicted).ravel(), return_counts=True)
    p = counts / counts.sum()
    return {"distinct_classes": int(len(counts)), "largest_class_share": float(p.max()),
            "class_entropy_bits": float(-(p * np.log2(p)).sum())}


def ising_magnetisation(spins01: np.ndarray) -> np.ndarray:
    """m = 2 * mean(spins) - 1 per configuration of 0/1 spins."""
    return 2.0 * np.asarray(spins01, float).reshape(len(spins01), -1).mean(axis=1) - 1.0


def honest_split(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``range(n)`` into training and held-out rows (the project's
    :func:`~mlreview.data.splits.split_indices`), checked to share no row."""
    from mlreview.data.splits import split_indices

    train, held_out = split_indices(n, train_fraction, seed)
    if np.intersect1d(train, held_out).size or len(train) + len(held_out) != n:
        raise MlreviewError("the training and held-out rows overlap")
    return train, held_out


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def build_from_params(n_inputs: int, params: Mapping, likelihood: str = "bernoulli"):
    """The configured VAE (weights drawn under ``training.seed``; noise seeded by ``noise_seed``;
    the encoder's standard deviations bounded by ``max_posterior_std`` when the params give it)."""
    import torch

    from mlreview.nn.vae import build_vae

    torch.manual_seed(int(params["training"]["seed"]))
    return build_vae(n_inputs, params["hidden"], int(params["latent"]), likelihood=likelihood,
                     activation_name=params["activation"], prior_std=float(params["prior_std"]),
                     seed=int(params["noise_seed"]),
                     max_posterior_std=None if params.get("max_posterior_std") is None
                     else float(params["max_posterior_std"]))


def fit_vae(model, X_train, X_held_out, params: Mapping, name: str) -> list[dict]:
    """Train ``model`` with the shared loop; after every epoch the mean negative ELBO of the
    held-out rows (``held_out_loss``; of a seeded subset of ``monitor_rows`` of them when the
    params give it). ``train_loss`` is the running mean of the minibatch losses of the epoch.
    Returns the history."""
    from mlreview.nn.training import make_optimizer, train

    training = params["training"]
    optimizer = make_optimizer(model, training["optimizer"], float(training["lr"]), options=training.get("options"))
    batch = int(params["eval_batch_size"])
    eval_seed = int(params["eval_seed"])
    monitored = X_held_out
    if params.get("monitor_rows") is not None:  # a seeded subset of the held-out rows, every epoch
        monitored = X_held_out[likelihood_subset(len(X_held_out), int(params["monitor_rows"]), eval_seed)]

    def evaluate(m) -> dict:
        return {"held_out_loss": mean_negative_elbo(m, monitored, batch, eval_seed)}

    return train(model, elbo_loss(model), X_train, X_train, optimizer=optimizer, epochs=int(training["epochs"]),
                 batch_size=int(training["batch_size"]), seed=int(training["seed"]), evaluate=evaluate, name=name)


def likelihood_subset(n: int, n_examples: int, seed: int) -> np.ndarray:
    """Sorted rows of a seeded random subset of ``n_examples`` of ``n`` (all when larger)."""
    if int(n_examples) >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(int(seed)).choice(n, size=int(n_examples), replace=False))


def held_out_likelihood(model, X, settings: Mapping, elbo: float) -> tuple[dict, dict[int, np.ndarray]]:
    """The importance-sampled log-likelihood on a seeded subset of the held-out rows ``X``
    (settings: ``ks``, ``n_examples``, ``seed``, ``chunk``), with the mean ELBO for reference."""
    rows = likelihood_subset(len(X), int(settings["n_examples"]), int(settings["seed"]))
    start = time.perf_counter()
    estimates = importance_log_likelihood(model, X[rows], settings["ks"], int(settings["seed"]),
                                          int(settings["chunk"]))
    summary = summarise_likelihood(estimates)
    summary.update(seconds=time.perf_counter() - start, held_out_elbo=-float(elbo))
    return summary, estimates


def _likelihood_arrays(summary: Mapping) -> dict[str, np.ndarray]:
    rows = [summary["by_k"][f"K_{k}"] for k in summary["ks"]]
    return {"is_ks": np.array(summary["ks"]), "is_mean": np.array([r["mean"] for r in rows]),
            "is_se": np.array([r["se"] for r in rows]), "is_gain": np.array([r["gain"] for r in rows]),
            "is_gain_se": np.array([r["gain_se"] for r in rows])}


# --------------------------------------------------------------------------------------------
# Workflow steps
# --------------------------------------------------------------------------------------------

@step
def vae_mnist_fit(params: Mapping, *, npz: Path, classifier: Path, data: Path, threads: int = 1) -> dict:
    """Figs 75, 76: train the MNIST VAE; latent means of the test images, decoded latent grids
    judged by the fixed digit classifier (the Fig 27 model), held-out likelihood."""
    from mlreview.data.mnist import load_mnist_sets
    from mlreview.digits import load_classifier
    from mlreview.nn.training import as_tensor, setup
    from mlreview.stats import knn_accuracy

    device = setup(threads, params["training"]["device"])
    sets = load_mnist_sets(npz, params)  # the first n_train / n_test images, pixels in [0, 1]
    side = int(sets["train"][0].shape[1])
    X_train = as_tensor(sets["train"][0].reshape(len(sets["train"][0]), -1), device=device)
    X_test = as_tensor(sets["test"][0].reshape(len(sets["test"][0]), -1), device=device)
    model = build_from_params(X_train.shape[1], params).to(device)
    start = time.perf_counter()
    history = fit_vae(model, X_train, X_test, params, "vae-mnist")
    fit_seconds = time.perf_counter() - start

    mu, logvar = encode(model, X_test, int(params["eval_batch_size"]))
    labels = sets["test"][1].astype(np.int64)
    knn = params["knn"]
    knn_acc = knn_accuracy(mu, labels, int(knn["neighbors"]), int(knn["folds"]), int(knn["seed"]))

    digits = load_classifier(classifier)
    values = grid_values(int(params["grid"]["n"]), params["grid"]["uniform_range"], params["grid"]["cdf_range"],
                         float(params["prior_std"]))
    grids, images, predicted = {}, {}, {}
    for name, v in values.items():
        grids[name] = grid_points(v)
        images[name] = decode_means(model, grids[name].reshape(-1, 2))
        predicted[name] = digits.predict(images[name])
    grid_metrics = {name: {"mean_pairwise_distance": mean_pairwise_distance(images[name]),
                           "adjacent_distance": adjacent_distance(images[name], grids[name].shape[0]),
                           **class_spread(predicted[name]),
                           "predicted": predicted[name].reshape(grids[name].shape[:2]),
                           "values": values[name]} for name in values}

    curves = history_arrays(history, HISTORY_KEYS)
    likelihood, _ = held_out_likelihood(model, X_test, params["likelihood"], curves["held_out_loss"][-1])
    c78 = params["claims"]["c78"]
    u, c = grid_metrics["uniform"], grid_metrics["cdf"]
    save_npz(data, latent=mu, latent_logvar=logvar, labels=labels, side=side,
             **{f"grid_{k}": grids[k] for k in grids}, **{f"images_{k}": images[k].reshape(-1, side, side)
                                                          for k in images},
             **{f"predicted_{k}": predicted[k] for k in predicted}, **curves, **_likelihood_arrays(likelihood),
             held_out_elbo=-curves["held_out_loss"][-1], prior_std=float(params["prior_std"]))
    return to_jsonable({
        "n_train": len(sets["train"][1]), "n_test": len(labels), "hidden": params["hidden"],
        "latent": int(params["latent"]), "epochs": int(params["training"]["epochs"]),
        "per_epoch": curves, "final": {"train_loss": curves["train_loss"][-1],
                                       "held_out_loss": curves["held_out_loss"][-1]},
        "knn_accuracy": knn_acc, "grids": grid_metrics, "likelihood": likelihood, "fit_seconds": fit_seconds,
        "c78": {"knn_accuracy": knn_acc,
                "holds": bool(float(c78["min_knn"]) <= knn_acc <= float(c78["max_knn"]))},
        "c79": {"uniform_distance": u["mean_pairwise_distance"], "cdf_distance": c["mean_pairwise_distance"],
                "holds": bool(u["mean_pairwise_distance"] < c["mean_pairwise_distance"])},
        "c80": {"uniform_classes": u["distinct_classes"], "cdf_classes": c["distinct_classes"],
                "holds": bool(c["distinct_classes"] > u["distinct_classes"]
                              and c["mean_pairwise_distance"] > u["mean_pairwise_distance"])},
    })


def _correlations(latent: np.ndarray, m: np.ndarray) -> dict:
    from scipy.stats import pearsonr, spearmanr

    out = {}
    for j in range(latent.shape[1]):
        out[f"z{j + 1}"] = {f"{kind}_{name}": float(fn(latent[:, j], target)[0])
                            for name, target in (("m", m), ("abs_m", np.abs(m)))
                            for kind, fn in (("pearson", pearsonr), ("spearman", spearmanr))}
    return out


@step
def vae_ising_fit(params: Mapping, *, dataset: Path, data: Path, threads: int = 1) -> dict:
    """Figs 77, 78: train the Ising VAE on a seeded half of the states, validated on the other
    half; latent means against temperature and magnetisation, fantasy configurations on the
    latent grids, their connected correlation against the Monte Carlo states, likelihood."""
    from mlreview.data.ising import load_ising2d
    from mlreview.nn.training import as_tensor, setup

    device = setup(threads, params["training"]["device"])
    d = load_ising2d(dataset, encoding="01")
    train_rows, held_rows = honest_split(len(d.X), float(params["train_fraction"]), int(params["split_seed"]))
    X_train = as_tensor(d.X[train_rows], device=device)
    X_held = as_tensor(d.X[held_rows], device=device)
    spins_held = d.X[held_rows]
    temperature = d.temperature[held_rows].astype(float)
    L = d.lattice
    del d
    model = build_from_params(X_train.shape[1], params).to(device)
    start = time.perf_counter()
    history = fit_vae(model, X_train, X_held, params, "vae-ising")
    fit_seconds = time.perf_counter() - start
    n_train = len(X_train)
    del X_train

    mu, logvar = encode(model, X_held, int(params["eval_batch_size"]))
    m = ising_magnetisation(spins_held)
    corr = _correlations(mu, m)
    best = max(corr, key=lambda k: abs(corr[k]["spearman_m"]))

    s = float(params["prior_std"])
    values = grid_values(int(params["grid"]["n"]), params["grid"]["uniform_range"], params["grid"]["cdf_range"], s)
    fantasy = params["fantasy"]
    rng = np.random.default_rng(int(fantasy["seed"]))
    grids, probabilities, shown, stats = {}, {}, {}, {}
    for name, v in values.items():
        grids[name] = grid_points(v)
        probabilities[name] = decode_means(model, grids[name].reshape(-1, 2)).reshape(-1, L, L)
        shown[name] = (rng.random(probabilities[name].shape) < probabilities[name]).astype(np.int8)
        conn, spatial, abs_m = [], [], []
        for p in probabilities[name]:
            samples = 2.0 * (rng.random((int(fantasy["n_samples"]), L, L)) < p) - 1.0
            conn.append(connected_nn_correlation(samples))
            spatial.append(spatial_nn_correlation(samples))
            abs_m.append(float(np.abs(samples.mean(axis=(1, 2))).mean()))
        stats[name] = {"connected": float(np.mean(conn)), "connected_max_abs": float(np.max(np.abs(conn))),
                       "spatial": float(np.mean(spatial)), "mean_abs_m": float(np.mean(abs_m)),
                       "values": values[name]}

    temps = np.unique(temperature)
    mc = {}
    mean_abs_m = {float(T): float(np.abs(m[np.isclose(temperature, T)]).mean()) for T in temps}
    closest = min(mean_abs_m, key=lambda T: abs(mean_abs_m[T] - stats["cdf"]["mean_abs_m"]))
    for label, T in (("critical", float(fantasy["mc_temperature"])), ("closest_abs_m", closest)):
        rows = np.isclose(temperature, T)
        if not rows.any():
            raise MlreviewError(f"no held-out states at T = {T}")
        S = 2.0 * spins_held[rows].reshape(-1, L, L).astype(float) - 1.0
        mc[label] = {"temperature": T, "n_states": int(rows.sum()), "connected": connected_nn_correlation(S),
                     "spatial": spatial_nn_correlation(S), "mean_abs_m": mean_abs_m[T]}

    curves = history_arrays(history, HISTORY_KEYS)
    held_out_all = mean_negative_elbo(model, X_held, int(params["eval_batch_size"]), int(params["eval_seed"]))
    likelihood, _ = held_out_likelihood(model, X_held, params["likelihood"], held_out_all)
    c82 = params["claims"]["c82"]
    decoded = stats["cdf"]["connected"]
    save_npz(data, latent=mu, latent_logvar=logvar, temperature=temperature, magnetisation=m, lattice=L,
             held_out_rows=held_rows, **{f"grid_{k}": grids[k] for k in grids},
             **{f"probabilities_{k}": probabilities[k] for k in probabilities},
             **{f"samples_{k}": shown[k] for k in shown}, **curves, **_likelihood_arrays(likelihood),
             held_out_elbo=-held_out_all, prior_std=s)
    return to_jsonable({
        "n_train": n_train, "n_held_out": len(held_rows), "overlap": 0, "lattice": L, "hidden": params["hidden"],
        "latent": int(params["latent"]), "prior_std": s, "epochs": int(params["training"]["epochs"]),
        "per_epoch": curves, "monitor_rows": params.get("monitor_rows"),
        "final": {"train_loss": curves["train_loss"][-1], "held_out_loss": curves["held_out_loss"][-1],
                  "held_out_loss_all": held_out_all},
        "correlations": corr, "fantasy": stats, "monte_carlo": mc, "likelihood": likelihood,
        "fit_seconds": fit_seconds,
        "c81": {"dimension": best, "abs_spearman_m": abs(corr[best]["spearman_m"]),
                "abs_pearson_m": abs(corr[best]["pearson_m"])},
        "c82": {"decoded": decoded, "mc_critical": mc["critical"]["connected"],
                "mc_closest": mc["closest_abs_m"]["connected"],
                "holds": bool(abs(decoded) <= float(c82["max_abs_decoded"])
                              and mc["critical"]["connected"] >= float(c82["min_mc"]))},
    })


def ppca_data(params: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out rows from a probabilistic-PCA model: x = W u + mean + noise, with
    u ~ N(0, I_latent), the entries of W ~ N(0, 1), the mean ~ N(0, 1), noise N(0, noise_std^2 I)."""
    rng = np.random.default_rng(int(params["seed"]))
    D, k = int(params["dimension"]), int(params["true_latent"])
    W = rng.standard_normal((D, k))
    mean = rng.standard_normal(D)
    n = int(params["n_train"]) + int(params["n_test"])
    X = rng.standard_normal((n, k)) @ W.T + mean + float(params["noise_std"]) * rng.standard_normal((n, D))
    return X[:int(params["n_train"])], X[int(params["n_train"]):]


@step
def vae_ppca_check(params: Mapping, *, data: Path, threads: int = 1) -> dict:
    """The estimator check: a linear-Gaussian VAE on PPCA data; its decoder's exact marginal
    log-likelihood against the importance-sampled estimates (per proposal scale, per K), and the
    PPCA maximum-likelihood value."""
    import torch
    from sklearn.decomposition import PCA

    from mlreview.nn.training import as_tensor, setup

    device = setup(threads, params["training"]["device"])
    X_train, X_test = ppca_data(params)
    Xtr, Xte = as_tensor(X_train, device=device), as_tensor(X_test, device=device)
    model = build_from_params(X_train.shape[1], params, likelihood="gaussian").to(device)
    start = time.perf_counter()
    history = fit_vae(model, Xtr, Xte, params, "vae-ppca")
    fit_seconds = time.perf_counter() - start
    model = model.to(dtype=torch.float64)
    Xte64 = as_tensor(X_test, dtype=torch.float64, device=device)
    W, b, noise_var = linear_decoder_marginal(model)
    exact = exact_gaussian_log_likelihood(W, b, noise_var, X_test)
    exact_train = exact_gaussian_log_likelihood(W, b, noise_var, X_train)
    pca = PCA(n_components=int(params["latent"])).fit(X_train)
    settings = params["likelihood"]
    rows = likelihood_subset(len(X_test), int(settings["n_examples"]), int(settings["seed"]))
    proposals, arrays = {}, {}
    for scale in params["proposal_scales"]:
        est = importance_log_likelihood(model, Xte64[rows], settings["ks"], int(settings["seed"]),
                                        int(settings["chunk"]), proposal_scale=float(scale))
        key = f"scale_{float(scale):g}"
        proposals[key] = summarise_likelihood(est, exact[rows])
        by_k = [proposals[key]["by_k"][f"K_{k}"] for k in proposals[key]["ks"]]
        arrays[f"error_{key}"] = np.array([r["error"] for r in by_k])
        arrays[f"error_se_{key}"] = np.array([r["error_se"] for r in by_k])
    tol = float(params["tolerance"])
    encoder = proposals[f"scale_{1.0:g}"]["by_k"][f"K_{max(settings['ks'])}"]
    curves = history_arrays(history, HISTORY_KEYS)
    save_npz(data, **curves, ks=np.array(check_ks(settings["ks"])), scales=np.array(params["proposal_scales"], float),
             exact_mean=float(exact[rows].mean()), ppca_ml_test=float(pca.score(X_test)), **arrays)
    return to_jsonable({
        "n_train": len(X_train), "n_test": len(X_test), "dimension": int(params["dimension"]),
        "latent": int(params["latent"]), "per_epoch": curves, "fit_seconds": fit_seconds,
        "noise_var": noise_var, "ppca_noise_var": float(pca.noise_variance_),
        "exact": {"test": float(exact.mean()), "train": float(exact_train.mean()),
                  "subset": float(exact[rows].mean())},
        "ppca_ml": {"test": float(pca.score(X_test)), "train": float(pca.score(X_train))},
        "vae_minus_ppca_ml_train": float(exact_train.mean() - pca.score(X_train)),
        "proposals": proposals, "tolerance": tol,
        "estimator_ok": bool(encoder["abs_error"] <= tol),
    })
