"""Energy-based models (mlreview.ebm): free energies, samplers, exact and AIS partition
functions, gradients and the training loop, checked against brute force on tiny models."""

import inspect
import math

import numpy as np
import pytest
import torch
from scipy import stats

from mlreview.errors import MlreviewError
from mlreview import ebm
from mlreview.ebm.energy import _bernoulli, _random_binary
from mlreview.ebm.likelihood import _all_joint_states, _state_codes
from mlreview.nn.training import TrainingDiverged

D = torch.float64


def random_rbm(nv, nh, hidden="bernoulli", scale=1.0, seed=0):
    gen = ebm.make_generator(seed)
    m = ebm.RBM(nv, nh, hidden, dtype=D)
    with torch.no_grad():
        m.W.copy_(torch.randn(nv, nh, generator=gen, dtype=D) * scale)
        m.a.copy_(torch.randn(nv, generator=gen, dtype=D) * scale)
        if hidden == "bernoulli":
            m.b.copy_(torch.randn(nh, generator=gen, dtype=D) * scale)
    return m


def random_dbm(sizes, scale=1.0, seed=0):
    gen = ebm.make_generator(seed)
    m = ebm.DBM(sizes, dtype=D)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=D) * scale)
    return m


def brute_log_z_joint(model):
    """log Z by summing exp(-E) over every joint binary state."""
    if isinstance(model, ebm.RBM):
        v = ebm.all_states(model.n_visible + model.n_hidden, D)
        return float(torch.logsumexp(-model.energy(v[:, :model.n_visible], v[:, model.n_visible:]), 0))
    joint = _all_joint_states(model)
    return float(torch.logsumexp(-model.energy(joint), 0))


# -- free energies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bernoulli_samples_are_torch_bernoulli_to_the_bit(dtype):
    """The samplers draw Bernoulli samples by uniforms compared with p (faster on the CPU): the same
    samples as torch.bernoulli, in any memory layout of p, and the generator left in the same state."""
    base = torch.rand(300, 200, generator=torch.Generator().manual_seed(0), dtype=dtype)
    layouts = {"contiguous": base[:100, :150].contiguous(), "transposed": base[:150, :100].T,
               "sliced": base[:100, :150], "expanded": base[:1, :150].expand(100, 150),
               "extremes": torch.tensor([[0.0, 1.0, 0.5], [1e-12, 1 - 1e-7, 0.0]], dtype=dtype),
               "scalar": base[0, 0], "empty": base[:0]}
    for name, p in layouts.items():
        want_gen, got_gen = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
        want, got = torch.bernoulli(p, generator=want_gen), _bernoulli(p, got_gen)
        assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got, want), name
        assert torch.equal(torch.rand(5, generator=got_gen), torch.rand(5, generator=want_gen)), name


def test_free_energy_bernoulli_matches_brute_force_marginalisation():
    m = random_rbm(5, 4)
    v = ebm.all_states(5, D)
    h = ebm.all_states(4, D)
    brute = torch.stack([torch.logsumexp(-m.energy(row.expand(len(h), -1), h), 0) for row in v])
    assert torch.allclose(-m.free_energy(v), brute, atol=1e-10)


def test_free_energy_gaussian_matches_numerical_integration():
    m = random_rbm(4, 2, "gaussian", scale=0.7)
    grid = torch.linspace(-12, 12, 961, dtype=D)
    hx, hy = torch.meshgrid(grid, grid, indexing="ij")
    h = torch.stack([hx.ravel(), hy.ravel()], 1)
    dh = float(grid[1] - grid[0])
    for row in ebm.all_states(4, D):
        integral = torch.logsumexp(-m.energy(row.expand(len(h), -1), h), 0) + 2 * math.log(dh)
        assert float(-m.free_energy(row[None, :])[0]) == pytest.approx(float(integral), abs=1e-8)


def test_exact_log_z_matches_joint_enumeration_both_sides():
    wide = random_rbm(4, 7)  # enumerates visible states
    tall = random_rbm(7, 4)  # enumerates hidden states
    for m in (wide, tall):
        assert ebm.exact_log_z(m) == pytest.approx(brute_log_z_joint(m), abs=1e-9)
    dbm = random_dbm([4, 3, 2])
    assert ebm.exact_log_z(dbm) == pytest.approx(brute_log_z_joint(dbm), abs=1e-9)
    odd_sum = float(torch.logsumexp(dbm.log_f_odd([ebm.all_states(3, D)]), 0))
    v, h2 = ebm.all_states(6, D).split([4, 2], 1)
    even_sum = float(torch.logsumexp(dbm.log_f_even([v, h2]), 0))
    assert odd_sum == pytest.approx(even_sum, abs=1e-9)


def test_exact_log_likelihood_is_normalised():
    for m in (random_rbm(5, 3), random_rbm(5, 3, "gaussian", 0.5), random_dbm([4, 3, 2])):
        p = ebm.visible_probabilities(m)
        assert float(p.sum()) == pytest.approx(1.0, abs=1e-12)
        v = ebm.all_states(m.n_visible, D)
        ll = ebm.exact_log_likelihood(m, v[:3])
        assert ll == pytest.approx(float(torch.log(p[:3]).mean()), abs=1e-9)


def test_exact_log_z_refuses_large_models():
    with pytest.raises(MlreviewError, match="ais_log_z"):
        ebm.exact_log_z(ebm.RBM(30, 30))


# -- samplers ----------------------------------------------------------------------------------------


def chi_square_of_visible_samples(model, samples):
    p = ebm.visible_probabilities(model).numpy()
    codes = _state_codes(samples).numpy()
    observed = np.bincount(codes, minlength=len(p))
    return stats.chisquare(observed, p * len(codes)).pvalue


@pytest.mark.parametrize("kind", ["bernoulli", "gaussian", "dbm"])
def test_gibbs_sampler_stationary_distribution_chi_square(kind):
    gen = ebm.make_generator(123)
    n = 20000
    if kind == "dbm":
        m = random_dbm([4, 3, 2], scale=0.8)
        samples = m.sample_visible_chain(n, 60, gen)
    else:
        m = random_rbm(4, 3, kind, scale=0.8 if kind == "bernoulli" else 0.5)
        samples = m.sample_visible_chain(n, 60, gen)
    assert chi_square_of_visible_samples(m, samples) > 1e-3


@pytest.mark.parametrize("kind", ["rbm", "dbm"])
def test_flip_move_leaves_the_distribution_invariant(kind):
    """Exact samples stay exact samples after the Metropolis-Hastings flip v -> 1 - v (for a DBM:
    the joint law of the even layers), and the move does flip some of them."""
    gen = ebm.make_generator(7)
    n = 20000
    m = random_rbm(4, 3, scale=0.8, seed=2) if kind == "rbm" else random_dbm([4, 3, 2], scale=0.8, seed=2)
    if kind == "rbm":
        states = ebm.all_states(4, D)
        idx = torch.multinomial(ebm.visible_probabilities(m), n, replacement=True, generator=gen)
        chains = [states[idx]]
    else:
        joint = _all_joint_states(m)
        idx = torch.multinomial(torch.softmax(-m.energy(joint), 0), n, replacement=True, generator=gen)
        chains = [layer[idx] for layer in joint]
    moved = m.flip_visible(chains, gen)
    assert 0.05 < float((moved[0] != chains[0]).any(1).double().mean()) < 0.95
    assert chi_square_of_visible_samples(m, moved[0]) > 1e-3
    if kind == "dbm":  # the pairs (v, h2) keep their joint law
        codes = _state_codes(torch.cat([moved[0], moved[2]], 1)).numpy()
        all_even = ebm.all_states(6, D)
        p = torch.softmax(m.log_f_even([all_even[:, :4], all_even[:, 4:]]), 0).numpy()
        assert stats.chisquare(np.bincount(codes, minlength=64), p * n).pvalue > 1e-3


def test_conditionals_match_energy_differences():
    m = random_rbm(5, 3)
    gen = ebm.make_generator(1)
    v = m.gibbs(_random_binary(4, 5, gen, m.W), 1, gen)
    h = m.sample_hidden(v, gen)
    h1, h0 = h.clone(), h.clone()
    h1[:, 0], h0[:, 0] = 1, 0
    expected = torch.sigmoid(m.energy(v, h0) - m.energy(v, h1))
    assert torch.allclose(m.hidden_mean(v)[:, 0], expected)
    dbm = random_dbm([4, 3, 2])
    states = dbm.random_states(5, gen)
    s1, s0 = list(states), list(states)
    s1[1], s0[1] = states[1].clone(), states[1].clone()
    s1[1][:, 2], s0[1][:, 2] = 1, 0
    assert torch.allclose(dbm.layer_mean(states, 1)[:, 2], torch.sigmoid(dbm.energy(s0) - dbm.energy(s1)))


def test_dbm_mean_field_reaches_a_fixed_point():
    m = random_dbm([6, 5, 4, 3], scale=0.5)
    v = ebm.all_states(6, D)[::7]
    mus = m.mean_field(v, 200)
    for l in range(1, m.n_layers):
        assert torch.allclose(mus[l], m.layer_mean(mus, l), atol=1e-10)
    assert torch.equal(mus[0], v)


def test_reconstruct_shapes_binary_and_deterministic():
    for m in (random_rbm(6, 4), random_rbm(6, 4, "gaussian"), random_dbm([6, 4, 3])):
        v = ebm.all_states(6, D)[:10]
        r = m.reconstruct(v)
        assert r.shape == v.shape
        assert set(r.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(r, m.reconstruct(v))
        p = m.reconstruct(v, probabilities=True)
        assert torch.equal((p > 0.5).to(D), r)


def test_reconstruct_from_the_positive_states_is_the_same():
    # the training loop passes its positive phase's states so that an RBM's E[h | v] is not computed twice
    for m in (random_rbm(6, 4), random_rbm(6, 4, "gaussian"), random_dbm([6, 4, 3])):
        v = ebm.all_states(6, D)[:10]
        positive = m.positive_states(v)
        for probabilities in (False, True):
            assert torch.equal(m.reconstruct(v, probabilities, positive=positive), m.reconstruct(v, probabilities))


def test_dbm_mean_field_starts_bottom_up():
    m = random_dbm([6, 5, 4, 3], scale=0.5)
    v = ebm.all_states(6, D)[::5]
    mus = [v]
    for l in range(1, m.n_layers):
        mus.append(torch.sigmoid(m.bs[l] + mus[l - 1] @ m.Ws[l - 1]))
    for got, expected in zip(m.mean_field(v, 0), mus):
        assert torch.equal(got, expected)


def test_dbm_reconstruct_uses_one_direction_per_pass():
    m = random_dbm([3, 2, 2])
    v = ebm.all_states(3, D)
    h1 = (torch.sigmoid(m.bs[1] + v @ m.Ws[0]) > 0.5).to(D)
    h2 = (torch.sigmoid(m.bs[2] + h1 @ m.Ws[1]) > 0.5).to(D)
    g1 = (torch.sigmoid(m.bs[1] + h2 @ m.Ws[1].T) > 0.5).to(D)
    assert torch.allclose(m.reconstruct(v, probabilities=True), torch.sigmoid(m.bs[0] + g1 @ m.Ws[0].T))


def centred_dbm(w1=4.0, w2=1.0, offset=0.5):
    """A 6-6-2 DBM written in ordinary parameters whose centred form (Centering, offsets ``offset``
    for every layer) has zero biases: W1 = w1 I copies v into h1, W2 = w2 couples all of h1 to h2, and
    every bias has absorbed -W mu of its neighbours, as centred training leaves them."""
    m = ebm.DBM([6, 6, 2], dtype=D)
    with torch.no_grad():
        m.Ws[0].copy_(w1 * torch.eye(6, dtype=D))
        m.Ws[1].copy_(torch.full((6, 2), w2, dtype=D))
        mu = [torch.full((s,), offset, dtype=D) for s in m.layer_sizes]
        m.bs[0].copy_(-m.Ws[0] @ mu[1])
        m.bs[1].copy_(-m.Ws[0].T @ mu[0] - m.Ws[1] @ mu[2])
        m.bs[2].copy_(-m.Ws[1].T @ mu[1])
    return m


def test_dbm_mean_field_reconstruct_is_p_v_given_the_mean_field_h1():
    m = random_dbm([5, 4, 3], scale=0.7, seed=2)
    v = ebm.all_states(5, D)
    mus = m.mean_field(v, 7)
    p = m.mean_field_reconstruct(v, 7, probabilities=True)
    assert torch.allclose(p, torch.sigmoid(m.bs[0] + mus[1] @ m.Ws[0].T))
    assert torch.equal(m.mean_field_reconstruct(v, 7), (p > 0.5).to(D))


def test_mean_field_reconstruct_survives_centred_biases_where_the_one_sided_pass_does_not():
    # the failure of Figs 66-68: with the centring offsets in the biases, the one-sided pass
    # (h1 -> h2 from below, then h1 from h2 alone) returns states of one sign; mean field, which
    # gives h1 both neighbours, returns the data
    m = centred_dbm()
    v = ebm.all_states(6, D)[1:-1]  # every state but all-0 and all-1
    assert torch.equal(m.mean_field_reconstruct(v, 10), v)
    one_sided = m.reconstruct(v)
    assert len(one_sided.unique(dim=0)) == 1 and not torch.equal(one_sided, v)


# -- AIS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [
    random_rbm(12, 8, scale=0.6, seed=3),
    random_rbm(10, 5, "gaussian", scale=0.35, seed=4),
    random_dbm([8, 6, 4], scale=0.6, seed=5),
], ids=["bernoulli", "gaussian", "dbm"])
def test_ais_matches_exact_log_z(model):
    exact = ebm.exact_log_z(model)
    base = ebm.data_visible_bias(ebm.all_states(model.n_visible, D)[::3].numpy())
    res = ebm.ais_log_z(model, 200, ebm.ais_betas(1000), ebm.make_generator(7), base_visible_bias=base)
    assert abs(res.log_z - exact) < max(0.05, 4 * res.log_z_std)
    assert res.log_z_low <= res.log_z_high
    assert res.ess > 10
    assert res.log_weights.shape == (200,)


def test_ais_with_zero_weights_is_exact():
    m = random_rbm(6, 3, seed=2)
    with torch.no_grad():
        m.W.zero_()
        m.b.zero_()
    res = ebm.ais_log_z(m, 5, ebm.ais_betas(20, "linear"), ebm.make_generator(0),
                        base_visible_bias=m.a.detach().numpy())
    assert res.log_z == pytest.approx(ebm.exact_log_z(m), abs=1e-10)


def test_ais_betas():
    for kind in ("linear", "piecewise"):
        b = ebm.ais_betas(1000, kind)
        assert b[0] == 0 and b[-1] == 1 and np.all(np.diff(b) > 0)
        assert abs(len(b) - 1001) <= 3
    with pytest.raises(MlreviewError):
        ebm.ais_betas(10, "cubic")


# -- gradients ----------------------------------------------------------------------------------------


def finite_difference_gradient(model, data, h=1e-5):
    out = {}
    for name, p in model.named_parameters():
        g = torch.zeros_like(p)
        flat = p.data.view(-1)
        for i in range(flat.numel()):
            old = float(flat[i])
            flat[i] = old + h
            up = ebm.exact_log_likelihood(model, data)
            flat[i] = old - h
            down = ebm.exact_log_likelihood(model, data)
            flat[i] = old
            g.view(-1)[i] = (up - down) / (2 * h)
        out[name] = g
    return out


@pytest.mark.parametrize("model", [random_rbm(4, 3, seed=8), random_rbm(4, 2, "gaussian", 0.5, seed=9),
                                   random_dbm([3, 2, 2], seed=10)], ids=["bernoulli", "gaussian", "dbm"])
def test_exact_gradient_matches_finite_differences(model):
    data = ebm.all_states(model.n_visible, D)[[1, 3, 3, 6, 7]]
    exact = ebm.exact_gradient(model, data)
    fd = finite_difference_gradient(model, data)
    assert set(exact) == set(fd)
    for name in fd:
        assert torch.allclose(exact[name], fd[name], atol=1e-6), name


def test_sampled_model_statistics_converge_to_exact():
    m = random_rbm(4, 3, scale=0.8, seed=11)
    data = ebm.all_states(4, D)[[0, 5, 9]]
    exact = ebm.exact_gradient(m, data)
    gen = ebm.make_generator(12)
    chains = m.advance_chains(m.init_chains(40000, gen), 50, gen)
    pos = ebm.statistics(m, m.positive_states(data))
    neg = ebm.statistics(m, m.negative_states(chains))
    for name in exact:
        assert torch.allclose(pos[name] - neg[name], exact[name], atol=0.02), name


# -- training -------------------------------------------------------------------------------------------


def toy_data(n=400, nv=8, seed=0):
    rng = np.random.default_rng(seed)
    proto = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]], dtype=float)[:, :nv]
    x = proto[rng.integers(0, 2, n)]
    flip = rng.random(x.shape) < 0.05
    return np.where(flip, 1 - x, x)


@pytest.mark.parametrize("method,k", [("pcd", 1), ("cd", 1), ("cd", 5), ("exact", 1)])
def test_fit_raises_exact_log_likelihood(method, k):
    data = toy_data()
    m = ebm.RBM(8, 4, dtype=D).initialize(data, ebm.make_generator(0))
    before = ebm.exact_log_likelihood(m, data)
    hist = ebm.fit(m, data, epochs=5, batch_size=20, lr=0.05, method=method, k=k, seed=1,
                   evaluate=lambda model, epoch: {"ll": ebm.exact_log_likelihood(model, data)},
                   evaluate_initial=True)
    assert [h["epoch"] for h in hist] == list(range(6))
    assert hist[0]["ll"] == pytest.approx(before)
    assert hist[-1]["ll"] > before + 1.0
    assert all(np.isfinite(h["recon_mse"]) for h in hist[1:])


def test_fit_is_seeded_and_l1_shrinks_weights():
    data = toy_data()

    def run(l1, seed=1):
        m = ebm.RBM(8, 4, dtype=D).initialize(data, ebm.make_generator(0))
        ebm.fit(m, data, epochs=3, batch_size=20, lr=0.05, l1=l1, seed=seed)
        return m.W.detach().clone()

    assert torch.equal(run(0.0), run(0.0))
    assert not torch.equal(run(0.0), run(0.0, seed=2))
    assert run(0.05).abs().sum() < run(0.0).abs().sum()


def test_fit_gaussian_rbm_and_dbm_train():
    data = toy_data()
    hop = ebm.RBM(8, 3, "gaussian", dtype=D).initialize(data, ebm.make_generator(0))
    before = ebm.exact_log_likelihood(hop, data)
    ebm.fit(hop, data, epochs=4, batch_size=20, lr=0.02, seed=1)
    assert ebm.exact_log_likelihood(hop, data) > before
    dbm, hists = ebm.pretrain_dbm(data, [8, 4, 3], seed=2, dtype=D, epochs=3, batch_size=20, lr=0.05)
    assert dbm.layer_sizes == [8, 4, 3] and len(hists) == 2
    pre = ebm.exact_log_likelihood(dbm, data)
    hist = ebm.fit(dbm, data, epochs=3, batch_size=20, lr=0.01, seed=3, k=2, mean_field_iter=5)
    assert len(hist) == 3
    assert ebm.exact_log_likelihood(dbm, data) > pre - 0.5
    bound = dbm.log_likelihood_lower_bound(dbm._t(data), ebm.exact_log_z(dbm)).mean()
    assert float(bound) <= ebm.exact_log_likelihood(dbm, data) + 1e-9


def test_fit_stops_on_non_finite_parameters():
    data = toy_data()
    data[0, 0] = np.nan
    m = ebm.RBM(8, 4, dtype=D).initialize(toy_data(), ebm.make_generator(0))
    with pytest.raises(TrainingDiverged, match="non-finite"):
        ebm.fit(m, data, epochs=1, batch_size=400, lr=0.05, seed=0)


def test_the_finiteness_check_tells_an_overflowing_sum_from_a_non_finite_parameter():
    """The check sums each parameter first: a sum that overflows while every element is finite is no
    divergence; a NaN or an infinity anywhere is."""
    from mlreview.ebm.training import _check_finite

    m = ebm.RBM(8, 4, dtype=torch.float32)
    with torch.no_grad():
        m.W.fill_(3.0e38)  # finite, but their sum is inf in float32
    assert not torch.isfinite(m.W.sum())
    _check_finite(m, "rbm", 1, 0, 1, 0.1)
    for bad in (float("nan"), float("inf"), float("-inf")):
        with torch.no_grad():
            m.W.fill_(0.5)
            m.W[3, 2] = bad
        with pytest.raises(TrainingDiverged, match="parameter W became non-finite"):
            _check_finite(m, "rbm", 1, 0, 1, 0.1)


def test_fit_exact_method_follows_the_exact_gradient():
    data = toy_data(n=40)
    m = ebm.RBM(8, 3, dtype=D).initialize(data, ebm.make_generator(0))
    expected = {k: v.clone() for k, v in ebm.exact_gradient(m, data).items()}
    before = {k: v.clone() for k, v in m.named_parameters()}
    ebm.fit(m, data, epochs=1, batch_size=40, lr=1e-3, method="exact", schedule="constant", seed=0)
    for name, p in m.named_parameters():  # ADAM's first step moves each parameter by lr * sign(gradient)
        step = p.detach() - before[name]
        assert torch.allclose(step, 1e-3 * torch.sign(expected[name]), atol=1e-6), name
    with pytest.raises(MlreviewError, match="RBMs"):
        ebm.fit(random_dbm([3, 2, 2]), data[:, :3], epochs=1, batch_size=10, lr=0.1, method="exact")


def test_fit_sgd_step_is_lr_times_the_exact_gradient_and_bias_rate_is_scaled():
    data = toy_data(n=40)
    m = ebm.RBM(8, 3, dtype=D).initialize(data, ebm.make_generator(0))
    expected = {k: v.clone() for k, v in ebm.exact_gradient(m, data).items()}
    before = {k: v.clone() for k, v in m.named_parameters()}
    ebm.fit(m, data, epochs=1, batch_size=40, lr=0.1, method="exact", schedule="constant", seed=0,
            optimizer="sgd", momentum=0.9, bias_lr_scale=0.25)
    for name, p in m.named_parameters():  # one step: momentum has nothing to carry yet
        rate = 0.1 if name == "W" else 0.025
        assert torch.allclose(p.detach() - before[name], rate * expected[name], atol=1e-12), name


def centred_exact_gradient(m, data, mu, lam):
    """<(v - mu)(h - lam)^T>_data - <...>_model and the two bias gradients, by enumeration."""
    v = m._t(data)
    states = ebm.all_states(m.n_visible, D)
    p = ebm.visible_probabilities(m)
    h_d, h_m = m.hidden_mean(v), m.hidden_mean(states)
    gW = (v - mu).T @ (h_d - lam) / len(v) - (p[:, None] * (states - mu)).T @ (h_m - lam)
    return gW, v.mean(0) - p @ states, h_d.mean(0) - p @ h_m


def test_centering_steps_along_the_centred_gradient_and_keeps_the_distribution_parametrisation():
    """One exact SGD step with centering = a step in the centred parameters (W, a + W lam,
    b + W^T mu) along the centred gradient, mapped back (Melchior et al. 2016)."""
    data = toy_data(n=40)
    m = ebm.RBM(8, 3, dtype=D).initialize(data, ebm.make_generator(0))
    mu, lam = m._t(data).mean(0), m.hidden_mean(m._t(data)).mean(0)  # offsets at the first step
    gW, ga, gb = centred_exact_gradient(m, data, mu, lam)
    W0, a0, b0 = (t.detach().clone() for t in (m.W, m.a, m.b))
    ebm.fit(m, data, epochs=1, batch_size=40, lr=0.1, method="exact", schedule="constant", seed=0,
            optimizer="sgd", centering=True)
    W1 = W0 + 0.1 * gW
    # the centred biases move by lr * (plain bias gradient); the ordinary ones follow from W1
    a1 = (a0 + W0 @ lam + 0.1 * ga) - W1 @ lam
    b1 = (b0 + W0.T @ mu + 0.1 * gb) - W1.T @ mu
    assert torch.allclose(m.W, W1, atol=1e-12)
    assert torch.allclose(m.a, a1, atol=1e-12)
    assert torch.allclose(m.b, b1, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_centering_makes_training_invariant_to_flipping_the_visible_units(optimizer):
    """A centred RBM trained on 1 - v follows the same likelihood curve as on v, from the equivalent
    start (W -> -W, a -> -a, b -> b + W^T 1); without centering the curves differ (Melchior et al.)."""
    data = toy_data(n=60)
    flipped = 1.0 - data

    def run(x, flip, centering):
        m = ebm.RBM(8, 4, dtype=D).initialize(data, ebm.make_generator(0))
        if flip:
            with torch.no_grad():
                m.b.add_(m.W.sum(0))
                m.W.neg_()
                m.a.neg_()
        hist = ebm.fit(m, x, epochs=4, batch_size=20, lr=0.05, method="exact", schedule="constant", seed=3,
                       optimizer=optimizer, centering=centering,
                       evaluate=lambda model, epoch: {"ll": ebm.exact_log_likelihood(model, x)})
        return np.array([h["ll"] for h in hist]), m

    ll, m = run(data, False, True)
    ll_flip, m_flip = run(flipped, True, True)
    np.testing.assert_allclose(ll_flip, ll, rtol=0, atol=1e-9)
    assert torch.allclose(m_flip.W, -m.W, atol=1e-9)
    plain, _ = run(data, False, False)
    plain_flip, _ = run(flipped, True, False)
    assert np.abs(plain_flip - plain).max() > 1e-3


def test_centering_trains_a_dbm_and_refuses_gaussian_hidden_units():
    data = toy_data()
    dbm, _ = ebm.pretrain_dbm(data, [8, 4, 3], seed=2, dtype=D, epochs=3, batch_size=20, lr=0.05,
                              optimizer="sgd", momentum=0.5, centering=True)
    pre = ebm.exact_log_likelihood(dbm, data)
    ebm.fit(dbm, data, epochs=3, batch_size=20, lr=0.02, seed=3, k=2, mean_field_iter=5,
            optimizer="sgd", centering=True)
    assert ebm.exact_log_likelihood(dbm, data) > pre - 0.5
    hop = ebm.RBM(8, 3, "gaussian", dtype=D).initialize(data, ebm.make_generator(0))
    with pytest.raises(MlreviewError, match="Bernoulli"):
        ebm.fit(hop, data, epochs=1, batch_size=20, lr=0.01, centering=True)


def test_fit_reports_the_persistent_chains_every_epoch():
    data = toy_data()
    seen = []

    def on_chains(chains, epoch):
        seen.append((epoch, [c.shape for c in chains]))
        return {"chain_mean": float(chains[0].mean())}

    dbm = ebm.DBM([8, 4, 3], dtype=D).initialize(data, ebm.make_generator(0))
    hist = ebm.fit(dbm, data, epochs=2, batch_size=20, lr=0.01, n_chains=7, seed=1, evaluate_chains=on_chains)
    assert seen == [(1, [(7, 8), (7, 4), (7, 3)]), (2, [(7, 8), (7, 4), (7, 3)])]
    assert all(0.0 <= h["chain_mean"] <= 1.0 for h in hist)
    cd = ebm.fit(ebm.RBM(8, 4, dtype=D), data, epochs=1, batch_size=20, lr=0.01, method="cd",
                 evaluate_chains=on_chains)
    assert "chain_mean" not in cd[0]  # CD keeps no chains


@pytest.mark.parametrize("hidden", ["bernoulli", "gaussian"])
def test_pseudo_log_likelihood_matches_brute_force_conditionals(hidden):
    m = random_rbm(5, 3, hidden, scale=0.7 if hidden == "bernoulli" else 0.3, seed=4)
    states = ebm.all_states(5, D)
    p = ebm.visible_probabilities(m)
    rows = [3, 10, 17, 30]
    expected = []
    for i in (0, 2, 4):
        flipped = [r ^ (1 << i) for r in rows]  # unit i is bit i of the state's index
        expected.append(float(torch.log(p[rows] / (p[rows] + p[flipped])).mean()))
    got = ebm.pseudo_log_likelihood(m, states[rows], sites=[0, 2, 4])
    assert got == pytest.approx(float(np.mean(expected)), abs=1e-10)
    assert ebm.pseudo_log_likelihood(m, states[rows]) < 0.0


def test_fit_rejects_unknown_options():
    m = ebm.RBM(8, 4, dtype=D)
    with pytest.raises(MlreviewError):
        ebm.fit(m, toy_data(), epochs=1, batch_size=10, lr=0.1, method="cd-k")
    with pytest.raises(MlreviewError):
        ebm.fit(m, toy_data(), epochs=1, batch_size=10, lr=0.1, schedule="cosine")
    with pytest.raises(MlreviewError, match="optimizer"):
        ebm.fit(m, toy_data(), epochs=1, batch_size=10, lr=0.1, optimizer="lbfgs")


def test_learning_rate_schedules():
    assert ebm.learning_rate(0.01, 0) == 0.01
    assert ebm.learning_rate(0.01, 3, "inverse_epoch") == pytest.approx(0.0025)
    assert ebm.learning_rate(0.01, 3, "power") == pytest.approx(1 / (100 + 3))
    assert ebm.learning_rate(0.01, 3, "constant") == 0.01


def test_initialize_follows_spec():
    data = np.zeros((50, 6))
    data[:, :3] = 1
    data[:10, 5] = 1
    m = ebm.RBM(6, 200, dtype=D).initialize(data, ebm.make_generator(0))
    logit = math.log(0.99 / 0.01)
    assert torch.allclose(m.a[:5], torch.tensor([logit] * 3 + [-logit] * 2, dtype=D))
    assert float(m.a[5]) == pytest.approx(math.log(0.2 / 0.8))
    assert float(m.b.abs().sum()) == 0
    assert float(m.W.std()) == pytest.approx(math.sqrt(2 / 206), rel=0.1)


def test_from_rbms_builds_the_stack():
    r1, r2 = random_rbm(5, 4, seed=1), random_rbm(4, 3, seed=2)
    dbm = ebm.DBM.from_rbms([r1, r2])
    assert dbm.layer_sizes == [5, 4, 3]
    assert torch.equal(dbm.Ws[0], r1.W) and torch.equal(dbm.Ws[1], r2.W)
    assert torch.allclose(dbm.bs[1], 0.5 * (r1.b + r2.a))
    with pytest.raises(MlreviewError):
        ebm.DBM.from_rbms([r1, random_rbm(3, 3)])


# -- files ---------------------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    for m in (random_rbm(5, 3), random_rbm(5, 3, "gaussian"), random_dbm([5, 4, 3])):
        path = tmp_path / "m.npz"
        ebm.save_model(path, m)
        back = ebm.load_model(path, dtype=D)
        assert type(back) is type(m)
        assert back.hidden == m.hidden
        for (k1, v1), (k2, v2) in zip(m.state_dict().items(), back.state_dict().items()):
            assert k1 == k2 and torch.equal(v1, v2)


def test_fit_options_take_fit_settings_from_config_sections():
    shared = {"batch_size": 100, "k": 2, "l1": 1e-4, "method": "pcd", "betas": [0.9, 0.99], "seed": 5, "hidden": [8]}
    stage = {"epochs": 3, "lr": 1e-3, "schedule": "power", "k": 1}
    opts = ebm.fit_options(shared, stage)
    # the later section overrides; keys fit does not take (seed, hidden) stay out
    assert opts == {"batch_size": 100, "k": 1, "l1": 1e-4, "method": "pcd", "betas": (0.9, 0.99), "epochs": 3,
                    "lr": 1e-3, "schedule": "power"}
    assert set(opts) - {"betas"} <= set(ebm.FIT_OPTIONS)
    assert set(inspect.signature(ebm.fit).parameters) >= set(ebm.FIT_OPTIONS) | {"betas"}


def test_fit_keep_best_ends_with_the_best_epoch_and_stops_after_patience():
    data = toy_data()
    scores = iter([1.0, 3.0, 2.0, 2.5, 9.0, 9.0])  # the monitor of epochs 1, 2, ...

    def train(epochs, **kw):
        m = ebm.RBM(8, 4, dtype=D).initialize(data, ebm.make_generator(0))
        hist = ebm.fit(m, data, epochs=epochs, batch_size=20, lr=0.05, seed=1, **kw)
        return m, hist

    m, hist = train(6, keep_best="score", patience=2, evaluate=lambda model, epoch: {"score": next(scores)})
    # best at epoch 2; epochs 3 and 4 are no better, so training stops after epoch 4
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert [h["kept"] for h in hist] == [0.0, 1.0, 0.0, 0.0]
    two, _ = train(2)
    assert torch.equal(m.W, two.W) and torch.equal(m.a, two.a) and torch.equal(m.b, two.b)
    # a model whose monitor does not report the key trains every epoch, unchanged
    m3, hist3 = train(3, keep_best="score", patience=1, evaluate=lambda model, epoch: {})
    assert len(hist3) == 3 and "kept" not in hist3[0]
    assert torch.equal(m3.W, train(3)[0].W)


def test_doubled_weight_rbms_scale_their_conditionals_and_refuse_likelihoods():
    assert ebm.training.doubled_scales(2) == [(2.0, 1.0), (1.0, 2.0)]
    assert ebm.training.doubled_scales(3) == [(2.0, 1.0), (2.0, 2.0), (1.0, 2.0)]
    plain = random_rbm(6, 4, seed=7)
    m = ebm.RBM(6, 4, dtype=D, up_scale=2.0, down_scale=3.0)
    m.load_state_dict(plain.state_dict())
    v, h = ebm.all_states(6, D)[::5], ebm.all_states(4, D)
    assert torch.allclose(m.hidden_mean(v), torch.sigmoid(plain.b + 2.0 * v @ plain.W))
    assert torch.allclose(m.visible_mean(h), torch.sigmoid(plain.a + 3.0 * h @ plain.W.T))
    # the pseudo-likelihood flips a site inside the scaled up pass: brute force from the free energy
    sites = [0, 3]
    brute = 0.0
    for i in sites:
        flip = v.clone()
        flip[:, i] = 1 - flip[:, i]
        brute += float(-torch.nn.functional.softplus(m.free_energy(v) - m.free_energy(flip)).mean())
    assert ebm.pseudo_log_likelihood(m, v, sites) == pytest.approx(brute / len(sites))
    with pytest.raises(MlreviewError, match="doubled"):
        ebm.exact_log_z(m)
    dbm, hists = ebm.pretrain_dbm(toy_data(), [8, 4, 3], seed=2, dtype=D, epochs=2, batch_size=20, lr=0.05,
                                  doubled_weights=True)
    assert dbm.layer_sizes == [8, 4, 3] and len(hists) == 2
