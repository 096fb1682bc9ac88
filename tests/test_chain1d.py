"""1D Ising chains: energies, the exact linear model, the data step."""

import numpy as np
import pytest

from mlreview.io import load_npz
from mlreview.steps import registry
from mlreview.ising.chain1d import (
    ising1d_chains,
    chain_energies,
    coupling_matrix,
    pair_features,
    random_chains,
)

METRIC_KEYS = {
    "n_states",
    "length",
    "energy_mean",
    "energy_std",
    "expected_mean",
    "expected_std",
    "energy_mean_z",
    "fraction_unique_states",
    "max_abs_linear_residual",
}


@pytest.mark.parametrize("J", [1.0, -0.5])
def test_hand_made_energies(J):
    L = 40
    all_up = np.ones((1, L), dtype=np.int8)
    alternating = np.tile([1, -1], L // 2)[None, :]
    assert chain_energies(all_up, J)[0] == -L * J
    assert chain_energies(-all_up, J)[0] == -L * J
    assert chain_energies(alternating, J)[0] == L * J
    # one flipped spin breaks two bonds, including across the periodic boundary
    one_flip = all_up.copy()
    one_flip[0, 0] = -1
    assert chain_energies(one_flip, J)[0] == -(L - 4) * J
    assert chain_energies(all_up, J).dtype == np.float64


def test_random_chains_dtype_values_and_determinism():
    a = random_chains(500, 40, seed=12)
    assert a.shape == (500, 40) and a.dtype == np.int8
    assert set(np.unique(a)) == {-1, 1}
    np.testing.assert_array_equal(a, random_chains(500, 40, seed=12))
    assert not np.array_equal(a, random_chains(500, 40, seed=13))
    # independent uniform spins: about half up
    assert abs(a.mean()) < 4 / np.sqrt(a.size)


def test_coupling_matrix_structure():
    L, J = 40, 1.0
    jmat = coupling_matrix(L, J)
    assert jmat.shape == (L, L)
    assert np.count_nonzero(jmat) == L
    assert not np.array_equal(jmat, jmat.T)
    for j in range(L):
        assert jmat[j, (j + 1) % L] == -J
    assert jmat[L - 1, 0] == -J  # the periodic bond


def test_linear_model_with_exact_coupling_reproduces_every_energy():
    L, J = 12, 1.3
    states = random_chains(300, L, seed=4)
    features = pair_features(states)
    assert features.shape == (300, L * L) and features.dtype == np.float32
    # row-major (j, k): column j * L + k is s_j s_k
    np.testing.assert_array_equal(features[7].reshape(L, L), np.outer(states[7], states[7]))
    predicted = pair_features(states, dtype=np.float64) @ coupling_matrix(L, J).ravel()
    np.testing.assert_allclose(predicted, chain_energies(states, J), rtol=0, atol=1e-12)


def test_input_validation():
    with pytest.raises(ValueError, match="2-D"):
        chain_energies(np.ones(5), 1.0)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        chain_energies(np.zeros((2, 5)), 1.0)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        pair_features(np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match="positive"):
        random_chains(0, 40, seed=1)
    with pytest.raises(ValueError, match="positive"):
        coupling_matrix(0, 1.0)


def test_chain1d_step(tmp_path):
    params = {"n_states": 2000, "length": 16, "J": 1.0, "seed": 12}
    out = tmp_path / "ising1d.npz"
    metrics = ising1d_chains(params, data=out)
    assert set(metrics) == METRIC_KEYS
    data = load_npz(out)
    assert data["states"].dtype == np.int8 and data["states"].shape == (2000, 16)
    assert data["energies"].dtype == np.float64
    np.testing.assert_array_equal(data["energies"], chain_energies(data["states"], 1.0))
    np.testing.assert_array_equal(data["states"], random_chains(2000, 16, seed=12))
    assert int(data["length"]) == 16 and float(data["J"]) == 1.0 and int(data["seed"]) == 12
    assert metrics["n_states"] == 2000 and metrics["length"] == 16
    assert metrics["max_abs_linear_residual"] == 0.0
    assert metrics["expected_std"] == pytest.approx(4.0)
    assert metrics["energy_std"] == pytest.approx(4.0, rel=0.1)
    assert abs(metrics["energy_mean_z"]) < 4.0
    assert metrics["energy_mean_z"] == pytest.approx(metrics["energy_mean"] / np.sqrt(16 / 2000))
    assert 0.9 < metrics["fraction_unique_states"] <= 1.0


def test_chain1d_step_via_cli_once_registered(tmp_path):
    from mlreview import cli
    from mlreview.io import load_json

    assert "ising1d_chains" in registry()
    params = {"n_states": 300, "length": 10, "J": 1.0, "seed": 3}
    outputs = {"data": tmp_path / "ising1d.npz", "metrics": tmp_path / "ising1d.json"}
    metrics = cli.run_step("ising1d_chains", params, outputs=outputs)
    assert outputs["data"].exists() and outputs["metrics"].exists()
    assert METRIC_KEYS <= set(metrics)
    assert load_json(outputs["metrics"]) is not None
