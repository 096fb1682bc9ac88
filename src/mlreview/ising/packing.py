"""Ising states stored as bits: the packing of the sampler's files and its inverse (numpy only, so that
a step that only reads states does not import the sampler)."""

from __future__ import annotations

import numpy as np


def pack_states(states: np.ndarray) -> np.ndarray:
    """(n, N) +-1 spins -> (n, ceil(N/8)) uint8 bits (1 = up)."""
    return np.packbits(np.asarray(states) > 0, axis=1)


def unpack_states(packed: np.ndarray, n_spins: int, encoding: str = "pm1") -> np.ndarray:
    """Inverse of :func:`pack_states`: int8 spins as +-1 (``pm1``) or 0/1 (``01``)."""
    bits = np.unpackbits(np.asarray(packed, np.uint8), axis=1, count=n_spins).astype(np.int8)
    if encoding == "01":
        return bits
    if encoding == "pm1":
        return 2 * bits - 1
    raise ValueError(f"encoding must be 'pm1' or '01', got {encoding!r}")
