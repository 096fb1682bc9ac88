"""The one seeded train/test split of a data set family: computed from the config (seed,
fraction) and shared by every model of that family (the Ising phases of Figs 21, 33, 41, 45; the
MNIST energy-based models and VAEs; the SUSY ensembles and networks)."""

from __future__ import annotations

import numpy as np


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)``: (train rows, test rows), each sorted.

    ``round(train_fraction * n)`` rows train and the rest test; the same (n, fraction, seed) gives
    the same split, so every model of a family that uses the config's values shares it.
    """
    if n < 2:
        raise ValueError(f"need at least 2 rows to split, got {n}")
    if not 0.0 < float(train_fraction) < 1.0:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    n_train = int(round(float(train_fraction) * n))
    n_train = min(max(n_train, 1), n - 1)
    order = np.random.default_rng(int(seed)).permutation(n)
    return np.sort(order[:n_train]), np.sort(order[n_train:])
