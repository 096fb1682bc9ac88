"""The interpolation peak of the review's 1D Ising energy regression (figure ``interpolation_peak``,
panel c).

Figs 16-17 of the review fit the energies of random chains of L = 40 spins with a linear model on the
L^2 = 1,600 pair products s_j s_k. Those columns are not independent: s_j s_j = 1 for every j (one
constant column, 40 times) and s_j s_k = s_k s_j, so only L(L-1)/2 + 1 = 781 distinct functions remain -
and they are linearly independent (distinct parity functions of independent uniform spins are
orthonormal), so the design of n random chains has rank min(n, 781) (with probability ~1).

The true energy E = -J sum_j s_j s_{j+1} lies in their span. The minimum-norm least-squares fit
therefore recovers it exactly as soon as n >= 781 (test error at round-off), and with noise added to
the energies it has the interpolation peak at n = 781 - the effective number of features, not 1,600.

The fits use the 781 distinct columns, each scaled by the square root of its multiplicity (sqrt(2)
for a pair j != k, sqrt(L) for the constant): the minimum-norm solution on the full 1,600-column design
w_full = A^T (A A^T)^{-1} v satisfies |w_full|^2 = v^T M^{-1} v with M the multiplicities, so it is
the minimum-norm solution of the scaled reduced design, with identical predictions (tested), at a
fraction of the cost. The rank is measured on the full design (``mlreview.ising.chain1d.pair_features``).

Guide drawn for comparison (not exact here: the features are +-1 parities, not Gaussian): the
isotropic-Gaussian formula of :mod:`.interpolation` with p = 781, |w*|^2 = L J^2 (the energy has L
unit-variance parity components of coefficient -J) and the noise sigma.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.data.ising import load_ising1d
from mlreview.errors import MlreviewError
from mlreview.io import save_npz
from mlreview.ising.chain1d import pair_features
from mlreview.steps import step

from .interpolation import min_norm_risk


def distinct_pair_design(states: np.ndarray) -> np.ndarray:
    """The L(L-1)/2 + 1 distinct pair products of each chain (s_j s_k for j < k, then the constant),
    scaled by sqrt(multiplicity in the L^2 pair features): shape (n, L(L-1)/2 + 1), float64."""
    s = np.asarray(states, dtype=np.float64)
    n, L = s.shape
    j, k = np.triu_indices(L, 1)
    Z = np.empty((n, len(j) + 1))
    Z[:, :-1] = np.sqrt(2.0) * s[:, j] * s[:, k]
    Z[:, -1] = np.sqrt(float(L))
    return Z


def effective_features(L: int) -> int:
    """L(L-1)/2 + 1: the number of distinct columns of the L^2 pair features."""
    return L * (L - 1) // 2 + 1


def coupling_of(states: np.ndarray, energies: np.ndarray) -> float:
    """J of the chains' energies E = -J sum_j s_j s_{j+1} (periodic), by least squares over the chains;
    an error when the energies are not of that form."""
    s = np.asarray(states, dtype=np.float64)
    bonds = np.sum(s * np.roll(s, -1, axis=1), axis=1)
    J = -float(bonds @ energies / (bonds @ bonds))
    if not np.allclose(-J * bonds, energies, rtol=0, atol=1e-9 * max(1.0, abs(J) * s.shape[1])):
        raise MlreviewError("the 1D Ising file's energies are not -J sum_j s_j s_(j+1) of its chains")
    return J


def design_rank(states: np.ndarray) -> int:
    """Rank of the full L^2-column pair-feature design (numpy's SVD-based rank, default tolerance)."""
    return int(np.linalg.matrix_rank(pair_features(states, dtype=np.float64)))


@step
def interpolation_ising_fit(params: Mapping, *, chains: Path, data: Path) -> dict:
    """Workflow step (panel c): test error of the min-norm fit of the 1D Ising energies against the
    number of training chains, noiseless and with Gaussian noise on the training energies.

    params: ``noise_sigma``, ``n_grid`` (training sizes), ``replicates``, ``n_test`` (chains held out at
    the end of the file), ``rank_states`` (chains of the rank measurement), ``compare`` {low, high}
    (the sizes whose noisy error is compared with the one at n = 781), ``seed``.
    The test error is the mean squared error of the predicted energies against the exact ones.
    """
    states, energies = load_ising1d(chains)
    n_states, L = states.shape
    J = coupling_of(states, energies)
    p_eff = effective_features(L)
    n_test = int(params["n_test"])
    grid = np.asarray(sorted(int(n) for n in params["n_grid"]))
    pool = n_states - n_test
    if grid.max() > pool:
        raise MlreviewError(f"learning_theory interpolation_ising: n_grid reaches {grid.max()} training chains, but "
                            f"{chains} has {n_states} chains of which n_test = {n_test} are held out; lower the "
                            "grid or n_test, or make more chains (ising1d.n_states)")
    if p_eff not in grid:
        raise MlreviewError(f"learning_theory interpolation_ising.n_grid must contain n = {p_eff} (L = {L})")
    rank_states = min(int(params["rank_states"]), pool)
    rank = design_rank(states[:rank_states])
    sigma, R = float(params["noise_sigma"]), int(params["replicates"])
    rng = np.random.default_rng(int(params["seed"]))
    Z = distinct_pair_design(states)
    Z_test, E_test = Z[pool:], energies[pool:]
    mse_clean = np.zeros((len(grid), R))
    mse_noisy = np.zeros((len(grid), R))
    ranks = np.zeros((len(grid), R), int)
    for i, n in enumerate(grid):
        for r in range(R):
            idx = rng.choice(pool, size=int(n), replace=False)
            targets = np.stack([energies[idx], energies[idx] + sigma * rng.standard_normal(int(n))], axis=1)
            coef, _, rank_n, _ = np.linalg.lstsq(Z[idx], targets, rcond=None)
            pred = Z_test @ coef
            mse_clean[i, r] = np.mean((pred[:, 0] - E_test) ** 2)
            mse_noisy[i, r] = np.mean((pred[:, 1] - E_test) ** 2)
            ranks[i, r] = rank_n
    low, high = int(params["compare"]["low"]), int(params["compare"]["high"])
    for n in (low, high):
        if n not in grid:
            raise MlreviewError(f"learning_theory interpolation_ising.n_grid must contain the compared size {n}")
    at = {int(n): i for i, n in enumerate(grid)}
    mean_noisy, median_noisy = mse_noisy.mean(axis=1), np.median(mse_noisy, axis=1)
    w_norm = np.sqrt(L) * J
    guide = min_norm_risk(grid, p_eff, sigma, w_norm)
    curve_n = np.arange(grid.min(), grid.max() + 1, dtype=float)
    curve_n = curve_n[np.abs(curve_n - p_eff) > 1]
    save_npz(data, n=grid, p_eff=p_eff, L=L, mse_clean=mse_clean, mse_noisy=mse_noisy, ranks=ranks,
             curve_n=curve_n, curve_guide=min_norm_risk(curve_n, p_eff, sigma, w_norm),
             curve_clean=min_norm_risk(curve_n, p_eff, 0.0, w_norm), rank=rank, sigma=sigma)
    over = grid >= p_eff
    return {
        "L": L, "J": J, "n_states": n_states, "n_test": n_test, "replicates": R, "noise_sigma": sigma,
        "effective_features": p_eff, "pair_features": L * L,
        "rank": {"value": rank, "states": rank_states, "expected": p_eff, "equals_expected": rank == p_eff},
        "n": grid,
        "rank_of_training_design": ranks.min(axis=1),
        "noiseless": {"mean": mse_clean.mean(axis=1), "max_at_or_above_p": float(mse_clean[over].max()),
                      "max_at_full_rank": float(mse_clean[ranks == p_eff].max()) if (ranks == p_eff).any() else None,
                      "fits_at_or_above_p_below_full_rank": int(np.sum(ranks[over] < p_eff)),
                      "min_below_p": float(mse_clean[~over].min()) if (~over).any() else None},
        "noisy": {"mean": mean_noisy, "median": median_noisy, "guide": guide,
                  "at_p": {"mean": float(mean_noisy[at[p_eff]]), "median": float(median_noisy[at[p_eff]])},
                  "ratio_low": float(mean_noisy[at[p_eff]] / mean_noisy[at[low]]),
                  "ratio_high": float(mean_noisy[at[p_eff]] / mean_noisy[at[high]]),
                  "ratio_min": float(min(mean_noisy[at[p_eff]] / mean_noisy[at[low]],
                                         mean_noisy[at[p_eff]] / mean_noisy[at[high]])),
                  "median_ratio_min": float(min(median_noisy[at[p_eff]] / median_noisy[at[low]],
                                                median_noisy[at[p_eff]] / median_noisy[at[high]])),
                  "compare": {"low": low, "high": high}},
    }
