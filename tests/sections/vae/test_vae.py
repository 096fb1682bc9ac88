"""Section XVII: the VAE modules, the ELBO, the importance-sampled log-likelihood (against exact
answers), the latent grids, the spin correlations and the honest split."""

import math

import numpy as np
import pytest
import torch

from mlreview.errors import MlreviewError
from mlreview.nn.training import history_arrays
from mlreview.nn.vae import VAE, Decoder, GaussianEncoder, build_vae
from mlreview.sections.vae import fits as vae
from mlreview.sections.vae.plots import mosaic


def test_kl_to_prior_matches_torch_distributions():
    from torch.distributions import Normal, kl_divergence

    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    for s in (1.0, 0.2):
        want = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, s)).sum(-1)
        assert torch.allclose(vae.kl_to_prior(mu, logvar, s), want)
    # the review's formula for the standard normal prior
    review = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)
    assert torch.allclose(vae.kl_to_prior(mu, logvar, 1.0), review)


def test_negative_elbo_is_bce_sum_plus_kl():
    torch.manual_seed(1)
    model = build_vae(6, [5], 2, prior_std=0.2, seed=3).double()
    x = torch.rand(4, 6, dtype=torch.float64)
    out, mu, logvar = model(x)
    bce = torch.nn.functional.binary_cross_entropy(torch.sigmoid(out), x, reduction="none").sum(-1)
    want = bce + vae.kl_to_prior(mu, logvar, 0.2)
    assert torch.allclose(vae.negative_elbo(model, (out, mu, logvar), x), want)
    assert torch.isclose(vae.elbo_loss(model)((out, mu, logvar), x), want.mean())


def test_bounded_log_variance_never_exceeds_the_bound_and_leaves_small_values_alone():
    torch.manual_seed(2)
    free = build_vae(6, [5], 2, prior_std=0.2, seed=3).double()
    torch.manual_seed(2)
    bounded = build_vae(6, [5], 2, prior_std=0.2, seed=3, max_posterior_std=0.2).double()
    for a, b in zip(free.parameters(), bounded.parameters()):  # the same weights: only the output differs
        assert torch.equal(a, b)
    with torch.no_grad():
        for m in (free, bounded):
            m.encoder.head.bias[2:] += torch.tensor([-30.0, 30.0], dtype=torch.float64)
    x = torch.rand(50, 6, dtype=torch.float64)
    mu_f, lv_f = free.encoder(x)
    mu_b, lv_b = bounded.encoder(x)
    bound = 2 * math.log(0.2)
    assert torch.equal(mu_f, mu_b)
    assert bool((lv_b < bound).all())  # sigma never above the prior's 0.2
    torch.testing.assert_close(lv_b[:, 0], lv_f[:, 0])  # far below the bound: unchanged (to ~1e-11)
    torch.testing.assert_close(lv_b[:, 1], torch.full_like(lv_b[:, 1], bound))  # far above: at the bound


def test_build_from_params_passes_the_bound():
    params = {"training": {"seed": 1}, "hidden": [4], "latent": 2, "activation": "relu", "prior_std": 0.2,
              "noise_seed": 2}
    assert vae.build_from_params(5, params).encoder.max_logvar is None
    bounded = vae.build_from_params(5, {**params, "max_posterior_std": 0.2})
    assert bounded.encoder.max_logvar == pytest.approx(2 * math.log(0.2))


def test_reparametrisation_noise_is_seeded():
    torch.manual_seed(0)
    model = build_vae(4, [3], 2, seed=5)
    x = torch.rand(3, 4)
    a = model(x)[0]
    model.reseed(5)
    assert torch.equal(model(x)[0], a)
    assert not torch.equal(model(x)[0], a)  # the generator moves on


def test_gaussian_decoder_log_likelihood():
    dec = Decoder(2, [], 3, likelihood="gaussian").double()
    with torch.no_grad():
        dec.log_noise_var.fill_(math.log(0.3))
    out = torch.tensor([[0.1, -0.2, 0.4]], dtype=torch.float64)
    x = torch.tensor([[0.0, 0.5, 1.0]], dtype=torch.float64)
    from scipy.stats import norm

    want = norm(out.numpy()[0], math.sqrt(0.3)).logpdf(x.numpy()[0]).sum()
    assert float(dec.log_likelihood(out, x).detach()) == pytest.approx(want)
    with pytest.raises(ValueError):
        Decoder(2, [], 3, likelihood="poisson")


def linear_gaussian_model(exact_posterior: bool):
    """A linear-Gaussian VAE with orthogonal decoder columns (so the true posterior is diagonal):
    with ``exact_posterior`` its encoder is the exact posterior, else a shifted and too wide one."""
    D, k, s2 = 5, 2, 0.25
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((D, k)))
    W = Q * np.array([2.0, 1.0])
    b = rng.standard_normal(D)
    enc = GaussianEncoder(D, [], k)
    dec = Decoder(k, [], D, likelihood="gaussian")
    model = VAE(enc, dec, prior_std=1.0, seed=0).double()
    M = W.T @ W + s2 * np.eye(k)  # posterior: mean M^-1 W^T (x - b), covariance s2 M^-1 (diagonal)
    A = np.linalg.solve(M, W.T)
    post_var = s2 * np.diag(np.linalg.inv(M))
    with torch.no_grad():
        dec.layers[0].weight.copy_(torch.from_numpy(W))
        dec.layers[0].bias.copy_(torch.from_numpy(b))
        dec.log_noise_var.fill_(math.log(s2))
        head = np.zeros((2 * k, D))
        head[:k] = A
        bias = np.concatenate([-A @ b, np.log(post_var)])
        if not exact_posterior:
            bias[:k] += 0.2
            bias[k:] += 2 * math.log(1.5)
        enc.head.weight.copy_(torch.from_numpy(head))
        enc.head.bias.copy_(torch.from_numpy(bias))
    X = rng.standard_normal((40, k)) @ W.T + b + math.sqrt(s2) * rng.standard_normal((40, D))
    return model, torch.from_numpy(X), vae.exact_gaussian_log_likelihood(W, b, s2, X)


def test_importance_sampling_is_exact_with_the_exact_posterior():
    model, X, exact = linear_gaussian_model(exact_posterior=True)
    est = vae.importance_log_likelihood(model, X, [1, 10, 100], seed=1, chunk=7)
    for k, values in est.items():
        np.testing.assert_allclose(values, exact, atol=1e-9)


def test_importance_sampling_rises_with_k_towards_the_exact_value():
    model, X, exact = linear_gaussian_model(exact_posterior=False)
    est = vae.importance_log_likelihood(model, X, [1, 10, 100, 1000], seed=2, chunk=16)
    summary = vae.summarise_likelihood(est, exact)
    errors = [summary["by_k"][f"K_{k}"]["error"] for k in (1, 10, 100, 1000)]
    assert errors[0] < -0.1  # K = 1 is the ELBO: well below log p(x)
    assert all(b > a for a, b in zip(errors, errors[1:]))
    assert summary["rises_with_k"]
    assert abs(errors[-1]) < 0.02
    # K = 1 averages log weights: the ELBO, = E_q[log p(x|z)] + E_q[log p(z)] - E_q[log q]
    assert summary["by_k"]["K_1000"]["gain"] > 0


def test_the_linear_decoder_marginal_and_ppca():
    from sklearn.decomposition import PCA

    model, X, exact = linear_gaussian_model(exact_posterior=True)
    W, b, s2 = vae.linear_decoder_marginal(model)
    np.testing.assert_allclose(vae.exact_gaussian_log_likelihood(W, b, s2, X.numpy()), exact)
    # sklearn's PPCA score is the mean exact log-likelihood at its ML parameters
    Xn = X.numpy()
    pca = PCA(n_components=2).fit(Xn)
    W_ml = pca.components_.T * np.sqrt(pca.explained_variance_ - pca.noise_variance_)
    ours = vae.exact_gaussian_log_likelihood(W_ml, pca.mean_, pca.noise_variance_, Xn).mean()
    assert ours == pytest.approx(pca.score(Xn), rel=1e-9)
    with pytest.raises(MlreviewError):
        vae.linear_decoder_marginal(build_vae(4, [3], 2))


def test_check_ks():
    assert vae.check_ks([100, 1, 10]) == [1, 10, 100]
    with pytest.raises(MlreviewError):
        vae.check_ks([1, 3, 10])
    with pytest.raises(MlreviewError):
        vae.check_ks([])


def test_latent_grids():
    g = vae.grid_values(5, [-5, 5], [0.01, 0.99], prior_std=0.2)
    np.testing.assert_allclose(g["uniform"], [-1, -0.5, 0, 0.5, 1])
    from scipy.stats import norm

    np.testing.assert_allclose(g["cdf"], 0.2 * norm.ppf([0.01, 0.255, 0.5, 0.745, 0.99]))
    assert g["cdf"][-1] == pytest.approx(0.2 * 2.3263, rel=1e-4)
    pts = vae.grid_points(np.array([-1.0, 0.0, 1.0]))
    assert pts.shape == (3, 3, 2)
    np.testing.assert_allclose(pts[0, 0], [-1, 1])  # top left: smallest z1, largest z2
    np.testing.assert_allclose(pts[2, 1], [0, -1])
    with pytest.raises(MlreviewError):
        vae.grid_values(5, [-5, 5], [0.0, 1.0])


def test_mean_pairwise_distance_and_mosaic():
    images = np.zeros((3, 2, 2))
    images[1] += 1.0
    assert vae.mean_pairwise_distance(images) == pytest.approx((2 + 2 + 0) / 3)
    steps = np.arange(4.0)[:, None] * np.ones((4, 3))  # a 2 x 2 grid of 3-pixel images 0, 1, 2, 3
    assert vae.adjacent_distance(steps, 2) == pytest.approx(np.sqrt(3) * (1 + 1 + 2 + 2) / 4)
    tiles = mosaic(np.arange(4 * 4).reshape(4, 2, 2), 2, pad=1, fill=-1)
    assert tiles.shape == (5, 5)
    assert tiles[2, 0] == -1 and tiles[3, 3] == 12


def test_class_spread():
    spread = vae.class_spread(np.array([[1, 1], [1, 7]]))
    assert spread["distinct_classes"] == 2 and spread["largest_class_share"] == 0.75
    assert spread["class_entropy_bits"] == pytest.approx(-(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)))
    assert vae.class_spread(np.arange(4))["class_entropy_bits"] == pytest.approx(2.0)


def test_ising_magnetisation():
    np.testing.assert_allclose(vae.ising_magnetisation(np.array([[1, 1, 0, 0], [1, 1, 1, 1]])), [0.0, 1.0])


def test_honest_split_holds_no_training_row_out():
    train, held = vae.honest_split(1001, 0.5, seed=3)
    assert not set(train) & set(held)
    assert sorted(np.concatenate([train, held])) == list(range(1001))
    again = vae.honest_split(1001, 0.5, seed=3)
    assert np.array_equal(train, again[0]) and np.array_equal(held, again[1])


def small_params(**over):
    params = {"hidden": [8], "activation": "relu", "latent": 2, "prior_std": 1.0, "noise_seed": 1,
              "eval_seed": 2, "eval_batch_size": 50,
              "training": {"optimizer": "rmsprop", "lr": 1e-2, "options": {"alpha": 0.9, "eps": 1e-7},
                           "batch_size": 20, "epochs": 3, "seed": 0, "device": "cpu"}}
    return {**params, **over}


def test_training_is_deterministic_and_lowers_the_loss():
    rng = np.random.default_rng(0)
    X = torch.from_numpy((rng.random((120, 10)) < np.linspace(0.1, 0.9, 10)).astype(np.float32))
    runs = []
    for _ in range(2):
        model = vae.build_from_params(10, small_params())
        history = vae.fit_vae(model, X[:100], X[100:], small_params(), "test")
        runs.append((history, [p.detach().clone() for p in model.parameters()]))
    (h1, p1), (h2, p2) = runs
    assert [h["train_loss"] for h in h1] == [h["train_loss"] for h in h2]
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))
    assert h1[-1]["held_out_loss"] < h1[0]["held_out_loss"]
    assert set(history_arrays(h1, vae.HISTORY_KEYS)) == set(vae.HISTORY_KEYS)


def test_ppca_step_recovers_the_exact_likelihood(tmp_path):
    params = {**small_params(hidden=[], latent=2), "dimension": 6, "true_latent": 2, "noise_std": 0.5,
              "n_train": 2000, "n_test": 200, "seed": 4, "tolerance": 0.02, "proposal_scales": [1.0, 0.5],
              "likelihood": {"ks": [1, 10, 100], "n_examples": 100, "seed": 5, "chunk": 25}}
    params["training"] = {**params["training"], "optimizer": "adam", "options": {}, "epochs": 20, "batch_size": 20}
    m = vae.vae_ppca_check(params, data=tmp_path / "ppca.npz")
    assert m["estimator_ok"], m["proposals"]
    narrow = m["proposals"]["scale_0.5"]["by_k"]
    assert narrow["K_1"]["error"] < narrow["K_100"]["error"] <= 1e-3
    # the trained linear VAE is close to the PPCA maximum likelihood, never above it on its data
    assert -0.1 < m["vae_minus_ppca_ml_train"] <= 1e-3
    assert (tmp_path / "ppca.npz").exists()
