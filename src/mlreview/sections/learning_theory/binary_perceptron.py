"""Gibbs learning of a perceptron with binary weights, by exhaustive enumeration (figure
``teacher_student``, right panel).

Teacher and student weights are vectors of N spins +-1; Gaussian inputs are labelled by the teacher,
y = sign(t.x). The *version space* after P examples is the set of the 2^N spin vectors that classify
all of them correctly; a *Gibbs student* is a member drawn uniformly from it. With R = w.t / N,
eps_g(w) = arccos(R) / pi exactly.

Enumeration: for every one of the 2^N vectors the index of the first example it misclassifies is
found (numba; the field w.x is the sum of two table look-ups, over the low and the high bits of the
weight index). The version space after P examples is then every vector whose first error comes at
P or later, so one pass over the weights serves every P. For each P this gives the size of the
version space, the exact Gibbs average of eps_g over it, and eps_g of one uniformly drawn member.

Theory (N -> infinity, replica symmetric, Gyorgyi 1990; Sompolinsky, Tishby and Seung 1990): with
q = R (the student and the teacher are exchangeable members of the version space),

    R = int Dz tanh(sqrt(Rh) z + Rh),   Rh = 2 alpha dG_E/dR,
    G_E(R) = 2 int Dt H(-sqrt(R/(1-R)) t) ln H(-sqrt(R/(1-R)) t),
    s(alpha) = -Rh (1 + R) / 2 + int Dz ln 2cosh(sqrt(Rh) z + Rh) + alpha G_E(R),

the entropy per weight of the poorly generalising branch (dG_E/dR = int Dt exp(-R t^2/2) /
H(sqrt(R) t) / (2 pi sqrt(1-R))). It reaches 0 - the entropy of the teacher alone - at alpha_c =
1.245: there the thermodynamic limit jumps to perfect generalisation (eps_g = 0), a first-order
transition. At finite N the jump is smoothed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numba
import numpy as np
from scipy import optimize, special

from mlreview.errors import MlreviewError
from mlreview.io import save_npz
from mlreview.stats import mean_and_se
from mlreview.steps import step

#: the largest N enumerated (2^N weight vectors, a few bytes each)
MAX_N = 26
#: Gauss-Hermite points of the replica integrals (their integrands are smooth on the branch)
GAUSS_POINTS = 201


@numba.njit(cache=True)
def _half_tables(X, lo_bits):
    """Fields of every pattern for every assignment of the low ``lo_bits`` and of the high bits."""
    P, N = X.shape
    hi_bits = N - lo_bits
    lo = np.zeros((P, 1 << lo_bits))
    hi = np.zeros((P, 1 << hi_bits))
    for mu in range(P):
        for k in range(1 << lo_bits):
            s = 0.0
            for i in range(lo_bits):
                s += X[mu, i] if (k >> i) & 1 else -X[mu, i]
            lo[mu, k] = s
        for k in range(1 << hi_bits):
            s = 0.0
            for i in range(hi_bits):
                s += X[mu, lo_bits + i] if (k >> i) & 1 else -X[mu, lo_bits + i]
            hi[mu, k] = s
    return lo, hi


@numba.njit(cache=True)
def _first_errors(lo, hi, y, lo_bits):
    P = lo.shape[0]
    n_lo, n_hi = lo.shape[1], hi.shape[1]
    tau = np.empty(n_lo * n_hi, np.int32)
    for kh in range(n_hi):
        for kl in range(n_lo):
            t = P
            for mu in range(P):
                h = lo[mu, kl] + hi[mu, kh]
                if (h > 0.0) != (y[mu] > 0.0):
                    t = mu
                    break
            tau[(kh << lo_bits) | kl] = t
    return tau


def first_errors(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For every spin vector w (index k: spin i is +1 when bit i of k is set) the index of the first
    example it misclassifies, or P when it classifies all of them correctly (int32, length 2^N)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    P, N = X.shape
    if N > MAX_N:
        raise MlreviewError(f"binary perceptron: N = {N} is too large to enumerate (at most {MAX_N})")
    lo_bits = (N + 1) // 2
    lo, hi = _half_tables(X, lo_bits)
    return _first_errors(lo, hi, np.asarray(y, dtype=np.float64), lo_bits)


def spins(index: int, N: int) -> np.ndarray:
    """The spin vector of weight index ``index``."""
    return np.where((int(index) >> np.arange(N)) & 1, 1.0, -1.0)


def overlaps(teacher_index: int, N: int) -> np.ndarray:
    """R = w.t / N of every weight index with the teacher's: 1 - 2 Hamming(k, t) / N."""
    k = np.arange(1 << N, dtype=np.uint32)
    hamming = np.bitwise_count(k ^ np.uint32(teacher_index)).astype(np.int64)
    return 1.0 - 2.0 * hamming / N


def version_space_curves(tau: np.ndarray, eps: np.ndarray, P_max: int, rng: np.random.Generator) -> dict:
    """For P = 0 .. P_max: the version-space size, its mean eps_g (the exact Gibbs average) and
    eps_g of one uniformly drawn member (the Gibbs student)."""
    order = np.argsort(-tau, kind="stable")
    eps_sorted = eps[order]
    cum = np.concatenate([[0.0], np.cumsum(eps_sorted)])
    counts = np.bincount(np.minimum(tau, P_max), minlength=P_max + 1)
    size = np.cumsum(counts[::-1])[::-1]  # size[P] = #{tau >= P}
    draw_index = (rng.random(P_max + 1) * size).astype(np.int64)
    return {"size": size, "gibbs_mean": cum[size] / size, "gibbs_draw": eps_sorted[draw_index]}


# --- replica theory -------------------------------------------------------------------------

#: Gauss-Hermite nodes and weights for integrals over the standard Gaussian measure Dz
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(GAUSS_POINTS)
_WEIGHTS = _WEIGHTS / np.sqrt(2 * np.pi)


def gaussian_average(values: np.ndarray) -> float:
    """int Dz f(z) from the values of f at the Gauss-Hermite nodes ``_NODES``."""
    return float(np.sum(_WEIGHTS * values))


def energetic(R: float) -> float:
    """G_E(R) = 2 int Dt H(-a t) ln H(-a t), a = sqrt(R / (1 - R))."""
    log_h = special.log_ndtr(np.sqrt(R / (1 - R)) * _NODES)
    return 2 * gaussian_average(np.exp(log_h) * log_h)


def energetic_slope(R: float) -> float:
    """dG_E/dR = int Dt exp(-R t^2 / 2) / H(sqrt(R) t) / (2 pi sqrt(1 - R))."""
    values = np.exp(-R * _NODES**2 / 2 - special.log_ndtr(-np.sqrt(R) * _NODES))
    return gaussian_average(values) / (2 * np.pi * np.sqrt(1 - R))


def _tanh_average(Rh: float) -> float:
    return gaussian_average(np.tanh(np.sqrt(Rh) * _NODES + Rh))


def _lncosh_average(Rh: float) -> float:
    x = np.sqrt(Rh) * _NODES + Rh
    return gaussian_average(np.logaddexp(x, -x))


def conjugate(R: float) -> float:
    """Rh with int Dz tanh(sqrt(Rh) z + Rh) = R (the left side grows with Rh from 0 to 1)."""
    high = 1.0
    while _tanh_average(high) < R:
        high *= 2
    return float(optimize.brentq(lambda h: _tanh_average(h) - R, 0.0, high, xtol=1e-14))


def gibbs_at_overlap(R: float) -> dict:
    """The replica-symmetric saddle point of Gibbs learning at teacher overlap R: the alpha at which
    it holds, Rh and the entropy per weight s."""
    Rh = conjugate(R)
    alpha = Rh / (2 * energetic_slope(R))
    s = -Rh * (1 + R) / 2 + _lncosh_average(Rh) + alpha * energetic(R)
    return {"R": R, "Rh": Rh, "alpha": alpha, "entropy": s, "eps": float(np.arccos(R) / np.pi)}


def gibbs_spinodal() -> float:
    """The overlap where alpha(R) of the poor branch is largest (the branch ends there)."""
    res = optimize.minimize_scalar(lambda R: -gibbs_at_overlap(R)["alpha"], bounds=(0.3, 0.99),
                                   method="bounded", options={"xatol": 1e-9})
    return float(res.x)


def gibbs_transition() -> dict:
    """The first-order transition: the overlap R_c < R_spinodal where the entropy of the poor
    branch vanishes, and alpha_c there (Gyorgyi: 1.245)."""
    R_sp = gibbs_spinodal()
    R_c = float(optimize.brentq(lambda R: gibbs_at_overlap(R)["entropy"], 1e-3, R_sp, xtol=1e-12))
    at = gibbs_at_overlap(R_c)
    return {"R_c": R_c, "alpha_c": at["alpha"], "eps_c": at["eps"], "R_spinodal": R_sp,
            "alpha_spinodal": gibbs_at_overlap(R_sp)["alpha"]}


def gibbs_curve(n_points: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """(alpha, eps_g) of the poor branch from R = 0 to the transition, and the transition record."""
    transition = gibbs_transition()
    R = np.linspace(0.0, transition["R_c"], int(n_points))[1:]
    points = [gibbs_at_overlap(float(r)) for r in R]
    return np.array([p["alpha"] for p in points]), np.array([p["eps"] for p in points]), transition


@step
def teacher_student_binary_fit(params: Mapping, *, data: Path) -> dict:
    """Workflow step: Gibbs learning with binary weights for every N in ``sizes`` by enumeration.

    params: ``sizes`` (N), ``alpha_max`` (examples up to alpha_max N), ``replicates``,
    ``theory_points`` (alphas of the replica curve below alpha_c), ``seed``.
    """
    sizes = [int(n) for n in params["sizes"]]
    alpha_max, R_reps = float(params["alpha_max"]), int(params["replicates"])
    arrays: dict[str, np.ndarray] = {"sizes": np.array(sizes)}
    per_n: dict = {}
    for N in sizes:
        rng = np.random.default_rng([int(params["seed"]), N])
        P_max = int(np.ceil(alpha_max * N))
        draws = np.zeros((R_reps, P_max + 1))
        means = np.zeros((R_reps, P_max + 1))
        sizes_vs = np.zeros((R_reps, P_max + 1))
        for r in range(R_reps):
            teacher = int(rng.integers(0, 1 << N))
            X = rng.standard_normal((P_max, N))
            y = np.sign(X @ spins(teacher, N))
            tau = first_errors(X, y)
            if tau[teacher] != P_max:
                raise MlreviewError("binary perceptron: the teacher misclassifies its own example (round-off)")
            eps = np.arccos(overlaps(teacher, N)) / np.pi
            curves = version_space_curves(tau, eps, P_max, rng)
            draws[r], means[r], sizes_vs[r] = curves["gibbs_draw"], curves["gibbs_mean"], curves["size"]
        alpha = np.arange(P_max + 1) / N
        draw_stats = [mean_and_se(draws[:, j]) for j in range(P_max + 1)]
        arrays.update({f"N{N}_alpha": alpha, f"N{N}_gibbs_draw": draws, f"N{N}_gibbs_mean": means,
                       f"N{N}_size": sizes_vs, f"N{N}_draw_mean": np.array([m for m, _ in draw_stats]),
                       f"N{N}_draw_se": np.array([e for _, e in draw_stats]),
                       f"N{N}_version_space_mean": means.mean(axis=0)})
        only_teacher = (sizes_vs == 1).mean(axis=0)
        per_n[str(N)] = {
            "alpha": alpha,
            "eps_draw_mean": np.array([m for m, _ in draw_stats]),
            "eps_draw_se": np.array([s for _, s in draw_stats]),
            "eps_gibbs_mean": means.mean(axis=0),
            "log2_version_space_median": np.log2(np.median(sizes_vs, axis=0)),
            "fraction_teacher_only": only_teacher,
            "alpha_half_teacher_only": float(alpha[np.argmax(only_teacher >= 0.5)]) if (only_teacher >= 0.5).any()
            else None,
        }
    theory_alpha, theory_eps, transition = gibbs_curve(int(params["theory_points"]))
    alpha_c = transition["alpha_c"]
    arrays.update({"theory_alpha": theory_alpha, "theory_eps": theory_eps, "alpha_c": alpha_c,
                   "alpha_spinodal": transition["alpha_spinodal"]})
    save_npz(data, **arrays)
    largest = str(max(sizes))
    just_above = int(np.searchsorted(per_n[largest]["alpha"], alpha_c))
    return {
        "sizes": sizes, "replicates": R_reps, "alpha_max": alpha_max, "per_N": per_n,
        "theory": transition,
        "largest_N": {"N": int(largest), "alpha_just_above_alpha_c": float(per_n[largest]["alpha"][just_above]),
                      "eps_draw_just_above_alpha_c": float(per_n[largest]["eps_draw_mean"][just_above])},
    }
