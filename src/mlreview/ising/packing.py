"""Ising states stored as bits: the packing of the sampler's files and its inverse (numpy only, so that
a step that only reads states does not import the sampler)."""

from __future__ import annotations

import functools

import numpy as np


def pack_states(states: np.ndarray) -> np.ndarray:
    """(n, N) +-1 spins -> (n, ceil(N/8)) uint8 bits (1 = up)."""
    return np.packbits(np.asarray(states) > 0, axis=1)


@functools.cache
def _spin_table(encoding: str, dtype: str) -> np.ndarray:
    """(256, 8): the eight spins of each byte value, most significant bit first (as packbits)."""
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1)
    if encoding == "01":
        return bits.astype(dtype)
    if encoding == "pm1":
        return (2 * bits.astype(np.int8) - 1).astype(dtype)
    raise ValueError(f"encoding must be 'pm1' or '01', got {encoding!r}")


def unpack_states(packed: np.ndarray, n_spins: int, encoding: str = "pm1", dtype=np.int8) -> np.ndarray:
    """Inverse of :func:`pack_states`: spins as +-1 (``pm1``) or 0/1 (``01``), of ``dtype`` (int8 by
    default). Each byte is looked up in a table of its eight spins, written straight into the
    result: a float result needs no int8 copy of the states first (160,000 states of 1,600 spins:
    1 GB of float32, and the int8 copies cost more than the lookup)."""
    table = _spin_table(encoding, np.dtype(dtype).str)
    packed = np.asarray(packed, np.uint8)
    if packed.ndim != 2 or packed.shape[1] * 8 < n_spins:
        raise ValueError(f"packed states must be (n, >= {(n_spins + 7) // 8}) bytes, got shape {packed.shape}")
    states = table[packed].reshape(len(packed), 8 * packed.shape[1])
    return states if states.shape[1] == n_spins else np.ascontiguousarray(states[:, :n_spins])
