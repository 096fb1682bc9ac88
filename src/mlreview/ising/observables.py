"""Per-configuration observables of 2D Ising states on a periodic L x L lattice (vectorised).

The same conventions as the Monte Carlo (:mod:`mlreview.ising.kernels`) and the exact results
(:mod:`mlreview.ising.exact`): H = -J sum_<ij> s_i s_j over the 2 L^2 nearest-neighbour bonds of
the torus (each site's right and down neighbour, with wrap-around), each bond counted once.

* :func:`lattice_observables` - the magnetisation per spin m, the energy per spin e = H / N and
  the nearest-neighbour correlation <s_i s_j> (the mean over the 2N bonds, so e = -2 J <s_i s_j>)
  of every configuration of a batch, given as flat rows (n, L*L) or as lattices (n, L, L), in +-1
  or 0/1 spins.
* :func:`spatial_nn_correlation` - within each configuration, <s_i s_j>_bonds - m^2, averaged over
  a batch (the spatial structure of single configurations, blind to the ensemble).
* :func:`connected_nn_correlation` - over the ensemble, <s_i s_j> - <s_i><s_j> per bond, averaged
  over the bonds (near zero for independent spins whatever their bias).
"""

from __future__ import annotations

import numpy as np

#: spin encodings: +-1, or 0/1 with s = 2 v - 1 (the 0/1 form of the data loader)
ENCODINGS = ("pm1", "01")


def as_spin_lattices(states, lattice: int | None = None, encoding: str = "pm1") -> np.ndarray:
    """States as float +-1 lattices (n, L, L): ``states`` is (n, L*L) (then ``lattice`` = L, or L
    inferred from the number of columns), (n, L, L), or one flat configuration (L*L,)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown spin encoding {encoding!r}; choose one of {ENCODINGS}")
    s = np.asarray(states, dtype=np.float64)
    if s.ndim == 1:
        s = s[None]
    if s.ndim == 2:
        n_spins = s.shape[1]
        L = int(lattice) if lattice is not None else int(round(np.sqrt(n_spins)))
        if L * L != n_spins:
            raise ValueError(f"{n_spins} spins per row are not an {L} x {L} lattice")
        s = s.reshape(len(s), L, L)
    if s.ndim != 3 or s.shape[1] != s.shape[2]:
        raise ValueError(f"expected flat rows (n, L*L) or lattices (n, L, L), got shape {np.shape(states)}")
    if encoding == "01":
        s = 2.0 * s - 1.0
    if not np.all(np.abs(s) == 1.0):
        raise ValueError(f"spins must be +-1 (encoding {encoding!r})")
    return s


def lattice_observables(states, lattice: int | None = None, encoding: str = "pm1",
                        J: float = 1.0) -> dict[str, np.ndarray]:
    """Per configuration: ``m`` (magnetisation per spin), ``energy`` (energy per spin
    -J/N sum_<ij> s_i s_j, periodic boundaries) and ``nn_correlation`` (mean s_i s_j over the 2N
    nearest-neighbour bonds); each an array of length n."""
    s = as_spin_lattices(states, lattice, encoding)
    bonds = (s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)).mean(axis=(1, 2))  # per spin: 2 bonds
    nn = bonds / 2.0
    return {"m": s.mean(axis=(1, 2)), "energy": -float(J) * bonds, "nn_correlation": nn}


def spatial_nn_correlation(states, lattice: int | None = None, encoding: str = "pm1") -> float:
    """Mean over the configurations of (their nearest-neighbour correlation - m^2)."""
    obs = lattice_observables(states, lattice, encoding)
    return float((obs["nn_correlation"] - obs["m"] ** 2).mean())


def connected_nn_correlation(states, lattice: int | None = None, encoding: str = "pm1") -> float:
    """<s_i s_j> - <s_i><s_j> with the averages over the ensemble of configurations, per
    nearest-neighbour bond of the periodic lattice, then averaged over the 2N bonds."""
    s = as_spin_lattices(states, lattice, encoding)
    mean = s.mean(axis=0)
    out = 0.0
    for axis in (1, 2):
        nb = np.roll(s, 1, axis=axis)
        out += float(((s * nb).mean(axis=0) - mean * nb.mean(axis=0)).mean())
    return out / 2.0
