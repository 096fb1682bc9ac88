r"""A physics stand-in for the UCI SUSY data set (Baldi, Sadowski & Whiteson 2014).

Where the real file cannot be downloaded, this generator makes events with the same 19
columns (:data:`mlreview.data.susy.COLUMNS`) from a small, vectorised simulation. It is a
toy: leading-order kinematics only, no matrix elements, no spin correlations, no jets.
Every number comes from ``params`` (the ``susy.toy`` section of the config); energies in GeV.

Processes
---------
* Signal (label 1): :math:`pp \to \tilde\chi^+\tilde\chi^-`, each chargino (mass
  ``chargino_mass``) decaying as :math:`\tilde\chi^\pm \to W^\pm \tilde\chi^0_1` (neutralino
  mass ``neutralino_mass``, invisible), then :math:`W \to \ell\nu`.
* Background (label 0): :math:`pp \to W^+W^-`, each :math:`W \to \ell\nu`.

Event generation (per event, all in numpy arrays)
-------------------------------------------------
1. W masses from a non-relativistic Breit-Wigner (Cauchy) line shape of mass ``w_mass`` and
   width ``w_width``, truncated to ``w_mass +- w_window_widths * w_width`` (and, in a chargino
   decay, below ``chargino_mass - neutralino_mass`` so the W is on its mass shell), drawn by
   inverting the truncated Cauchy CDF.
2. Pair mass: :math:`\sqrt{\hat s}` = threshold (the sum of the two parent masses) + an
   exponential tail of scale ``signal_sqrt_shat_tail`` / ``background_sqrt_shat_tail``,
   truncated at the collider energy ``sqrt_s`` (a stand-in for the falling parton luminosity).
3. Production: the two parents back to back in the pair rest frame, isotropic direction
   (no angular dependence of the matrix element).
4. Decays: isotropic two-body decays in each parent's rest frame (no spin correlations),
   boosted to the pair frame; chargino -> W + neutralino, then W -> lepton + neutrino
   (massless leptons and neutrinos).
5. Pair system in the lab: a transverse recoil kick (each component Gaussian with width
   ``recoil_width``; the recoiling initial-state radiation is treated as measured but is not a
   feature) and a longitudinal boost with rapidity drawn from a Gaussian of width
   ``rapidity_width``, truncated at the kinematic limit :math:`|y| < \ln(\sqrt s / m_T)`
   (a stand-in for the parton-luminosity rapidity distribution). All final-state particles
   are boosted with the pair velocity.
6. Detector: the lepton :math:`p_T` is smeared by a relative Gaussian resolution
   ``lepton_resolution`` (direction kept). The measured missing transverse momentum is the
   transverse momentum of the invisible particles (neutrinos + neutralinos), plus the lepton
   mismeasurement (it balances the measured leptons), plus an independent Gaussian term of
   width ``met_resolution`` per component (soft terms, recoil measurement).
7. Acceptance: both leptons with measured :math:`p_T >` ``lepton_pt_min`` and
   :math:`|\eta| <` ``lepton_eta_max``; rejected events are replaced (batches are simulated
   until each class has its count). The number of signal events in a chunk is binomial
   with probability ``signal_fraction``; classes are shuffled together.

Features (the 18 columns; raw values in GeV, then scaled as below)
-----------------------------------------------------------------
The two leptons are ordered by measured :math:`p_T`: "lepton 1" is the leading, "lepton 2"
the sub-leading lepton (the review's names). After the per-column scaling the stored
lepton 2 value can exceed lepton 1 in some events, as in the UCI file.

* ``lepton{1,2}_pt, _eta, _phi``: transverse momentum, pseudorapidity, azimuth (-pi, pi].
* ``met``, ``met_phi``: magnitude and azimuth of the measured missing transverse momentum
  :math:`\vec E_T^{miss}`.
* ``met_rel``: :math:`E_T^{miss,rel} = E_T^{miss}` if :math:`\Delta\phi \ge \pi/2`, else
  :math:`E_T^{miss}\sin\Delta\phi`, where :math:`\Delta\phi` is the azimuthal angle between
  :math:`\vec E_T^{miss}` and the closest lepton (ATLAS, e.g. Phys. Lett. B 718 (2013) 879;
  Baldi et al. 2014). No jets exist in the toy, so only leptons enter.
* ``axial_met``: :math:`-\vec E_T^{miss}\cdot\hat p_T^{\ell\ell}`, minus the missing
  transverse momentum projected on the dilepton transverse direction (Baldi et al. 2014:
  "missing transverse energy along the vector defined by the charged leptons"; the sign is
  the one of the first UCI row, where MET roughly along the dileptons gives a negative value).
  It is positive when the missing momentum balances the leptons.
* ``m_r``: the razor mass of Rogan (arXiv:1006.2727) and CMS (Phys. Rev. D 85 (2012)
  012004), original definition :math:`M_R = \sqrt{(E_1+E_2)^2 - (p_{z,1}+p_{z,2})^2}`.
* ``m_tr_2``: the transverse razor mass
  :math:`M_T^R = \sqrt{[E_T^{miss}(p_{T,1}+p_{T,2}) - \vec E_T^{miss}\cdot(\vec p_{T,1}+\vec p_{T,2})]/2}`
  (same references). Stored as :math:`M_T^R` itself, not squared.
* ``r``: the razor ratio :math:`R = M_T^R / M_R` (not squared; CMS plots use :math:`R^2`).
  It is usually below one but not bounded by one (large missing momentum).
* ``mt2``: the stransverse mass (Lester & Summers 1999; Barr, Lester & Stephens 2003) of
  the two leptons and :math:`\vec E_T^{miss}`, invisible-mass hypothesis
  ``mt2_invisible_mass`` (0), from the ``mt2`` package (Lester & Nachman bisection). A
  non-finite or negative return (no solution; never seen in practice) is stored as 0.
* Super-razor variables (Buckley, Lykken, Rogan & Spiropulu, arXiv:1310.4827), built here as
  follows (the construction of the paper; the algebra was re-derived, and overall constant
  factors, which the mean scaling removes anyway, may differ from the paper's):

  1. Boost the leptons longitudinally by :math:`\beta_L = (p_{z,1}+p_{z,2})/(E_1+E_2)`, to
     the frame where the dilepton system has :math:`p_z = 0`. There the dilepton energy is
     :math:`M_R` (above) and its mass is :math:`m_{\ell\ell}`.
  2. Give the invisible system :math:`p_z = 0` in that frame and a mass equal to
     :math:`m_{\ell\ell}` (the smallest Lorentz-invariant choice; equivalent to requiring
     equal visible and invisible energies in the estimated centre-of-mass frame), so its
     energy is :math:`E_I = \sqrt{m_{\ell\ell}^2 + |\vec E_T^{miss}|^2}`.
  3. ``s_r``: :math:`\sqrt{\hat s}_R = \sqrt{(M_R + E_I)^2 - |\vec p_T^{\ell\ell} + \vec E_T^{miss}|^2}`,
     i.e. :math:`\hat s_R = 2[M_R^2 - |\vec p_T^{\ell\ell}|^2 - \vec p_T^{\ell\ell}\cdot\vec E_T^{miss}
     + M_R\sqrt{M_R^2 - |\vec p_T^{\ell\ell}|^2 + |\vec E_T^{miss}|^2}]`.
     The transverse boost to this "R frame" is :math:`\vec\beta_R = (\vec p_T^{\ell\ell}+\vec E_T^{miss})/(M_R+E_I)`.
  4. ``dphi_r_b``: :math:`\Delta\phi_R^\beta`, the azimuthal angle in [0, pi] between
     :math:`\vec\beta_R` and the sum of the lepton momenta evaluated in the R frame.
  5. The boost from the R frame to the two parent frames ("R+1" frames, equal and opposite)
     :math:`\vec\beta_{R+1} = (\vec p_1 - \vec p_2)/(E_1 + E_2)` (lepton momenta in the R
     frame); it gives both leptons the same energy in their own parent frame.
  6. ``m_delta_r``: :math:`M_\Delta^R = \sqrt{\hat s}_R / (2\gamma_{R+1})`, normalised so that
     for parents produced at rest, each decaying to a massless visible and an invisible
     particle, its endpoint is :math:`M_\Delta = (m_P^2 - m_I^2)/m_P`.
  7. ``cos_theta_r1``: :math:`|\cos\theta_{R+1}|`, the cosine of the angle between the leading
     lepton's momentum in its R+1 frame and :math:`\vec\beta_{R+1}` (absolute value, as in the
     paper, where the two sides are interchangeable).

Scaling
-------
As in the UCI file ("the pT variables have been scaled to a mean of one", the review), every
momentum- or mass-like column (``lepton1_pt, lepton2_pt, met, met_rel, axial_met, m_r,
m_tr_2, mt2, s_r, m_delta_r``) is divided by its mean over the generated sample (the means, in
GeV, are returned and stored in the parquet metadata). Angles, ``r`` and ``cos_theta_r1`` are
kept as they are. ``axial_met`` is signed; its mean is positive for these processes (should it
not be, the mean of its absolute value is used instead, so the sign is kept).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from mlreview.data.susy import COLUMNS, FEATURES, LABEL
from mlreview.io import atomic_path
from mlreview.progress import Progress

log = logging.getLogger(__name__)

#: Columns divided by their sample mean (momentum- or mass-like); the rest are kept as they are.
SCALED = (
    "lepton1_pt",
    "lepton2_pt",
    "met",
    "met_rel",
    "axial_met",
    "m_r",
    "m_tr_2",
    "mt2",
    "s_r",
    "m_delta_r",
)

#: Numerical-safety constants (not physics): a floor for divisions and 1 - beta^2, the
#: over-sampling factor of a rejection batch, the minimum batch, and the limit of batches.
_TINY = 1e-12
_OVERSAMPLE = 1.15
_MIN_BATCH = 256
_MAX_ROUNDS = 100


# --------------------------------------------------------------------------- kinematics
def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Lorentz-boost four-vectors ``p`` (N, 4: E, px, py, pz) by velocities ``beta`` (N, 3).

    A particle at rest acquires velocity ``beta`` (boost *from* a frame moving with ``beta``);
    use ``-beta`` to go *into* that frame.
    """
    b2 = np.minimum(np.einsum("ij,ij->i", beta, beta), 1.0 - _TINY)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.einsum("ij,ij->i", beta, p[:, 1:])
    out = np.empty_like(p)
    out[:, 0] = gamma * (p[:, 0] + bp)
    coef = gamma * gamma / (gamma + 1.0) * bp + gamma * p[:, 0]
    out[:, 1:] = p[:, 1:] + coef[:, None] * beta
    return out


def velocity(p: np.ndarray) -> np.ndarray:
    """The velocity vector p/E of four-vectors (N, 4)."""
    return p[:, 1:] / p[:, :1]


def mass(p: np.ndarray) -> np.ndarray:
    """Invariant mass of four-vectors (N, 4), clipped at zero."""
    m2 = p[:, 0] ** 2 - np.einsum("ij,ij->i", p[:, 1:], p[:, 1:])
    return np.sqrt(np.maximum(m2, 0.0))


def _isotropic(n: int, rng: np.random.Generator) -> np.ndarray:
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(-math.pi, math.pi, n)
    sin_t = np.sqrt(np.maximum(1.0 - cos_t**2, 0.0))
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1)


def two_body_momentum(m_parent, m_a, m_b) -> np.ndarray:
    """Daughter momentum in the parent rest frame, sqrt(lambda(M^2, ma^2, mb^2)) / 2M."""
    m_parent, m_a, m_b = (np.asarray(x, float) for x in (m_parent, m_a, m_b))
    s, a, b = m_parent**2, m_a**2, m_b**2
    lam = s * s + a * a + b * b - 2.0 * (s * a + s * b + a * b)
    return np.sqrt(np.maximum(lam, 0.0)) / (2.0 * m_parent)


def two_body_at_rest(n: int, m_parent, m_a, m_b, rng: np.random.Generator):
    """Isotropic back-to-back a + b in the rest frame of a parent of mass ``m_parent``."""
    m_a = np.broadcast_to(np.asarray(m_a, float), (n,))
    m_b = np.broadcast_to(np.asarray(m_b, float), (n,))
    pstar = two_body_momentum(m_parent, m_a, m_b)
    direction = _isotropic(n, rng) * pstar[:, None]
    a = np.empty((n, 4))
    b = np.empty((n, 4))
    a[:, 0] = np.sqrt(pstar**2 + m_a**2)
    b[:, 0] = np.sqrt(pstar**2 + m_b**2)
    a[:, 1:] = direction
    b[:, 1:] = -direction
    return a, b


def two_body_decay(parent: np.ndarray, m_parent, m_a, m_b, rng: np.random.Generator):
    """Isotropic two-body decays of ``parent`` (N, 4) of mass ``m_parent`` -> a + b, in the
    frame of ``parent``. Returns the four-vectors of a and b."""
    a, b = two_body_at_rest(parent.shape[0], m_parent, m_a, m_b, rng)
    beta = velocity(parent)
    return boost(a, beta), boost(b, beta)


def breit_wigner(n: int, m0: float, width: float, low: float, high: float, rng) -> np.ndarray:
    """Masses from a Cauchy (non-relativistic Breit-Wigner) line shape truncated to [low, high]."""
    if not low < high:
        raise ValueError(f"empty Breit-Wigner window [{low}, {high}]")
    if width <= 0.0:
        if not low <= m0 <= high:
            raise ValueError(f"mass {m0} outside the window [{low}, {high}]")
        return np.full(n, float(m0))
    a = math.atan(2.0 * (low - m0) / width)
    b = math.atan(2.0 * (high - m0) / width)
    masses = m0 + 0.5 * width * np.tan(rng.uniform(a, b, n))
    return np.clip(masses, low, high)


def _truncated_exponential(scale: float, upper: np.ndarray, rng) -> np.ndarray:
    """Exponential of ``scale`` truncated to [0, upper] (inverse CDF)."""
    upper = np.maximum(upper, 0.0)
    if scale <= 0.0:
        return np.zeros_like(upper)
    u = rng.random(upper.shape)
    return -scale * np.log1p(u * np.expm1(-upper / scale))


def _truncated_normal(width: float, limit: np.ndarray, rng) -> np.ndarray:
    """Gaussian of ``width`` truncated to [-limit, limit] (inverse CDF)."""
    limit = np.maximum(limit, 0.0)
    if width <= 0.0:
        return np.zeros_like(limit)
    lo = ndtr(-limit / width)
    u = lo + rng.random(limit.shape) * (1.0 - 2.0 * lo)
    return np.clip(width * ndtri(u), -limit, limit)


def _w_window(params: Mapping, upper: float = math.inf) -> tuple[float, float]:
    m_w, width = float(params["w_mass"]), float(params["w_width"])
    half = float(params["w_window_widths"]) * width
    low = max(m_w - half, _TINY)
    high = min(m_w + half, upper - _TINY)
    if not low < high:
        raise ValueError(f"no on-shell W below {upper} GeV (window {m_w - half}..{m_w + half} GeV)")
    return low, high


def _w_masses(n: int, params: Mapping, rng, upper: float = math.inf) -> np.ndarray:
    low, high = _w_window(params, upper)
    return breit_wigner(n, float(params["w_mass"]), float(params["w_width"]), low, high, rng)


def simulate_truth(n: int, signal: bool, params: Mapping, rng: np.random.Generator) -> dict:
    """Generator-level events of one process: the two leptons and the invisible system in
    the lab (four-vectors, N x 4), before detector effects and acceptance."""
    sqrt_s = float(params["sqrt_s"])
    if signal:
        m_chi = float(params["chargino_mass"])
        m_lsp = float(params["neutralino_mass"])
        m1 = np.full(n, m_chi)
        m2 = np.full(n, m_chi)
        tail = float(params["signal_sqrt_shat_tail"])
    else:
        m1 = _w_masses(n, params, rng)
        m2 = _w_masses(n, params, rng)
        tail = float(params["background_sqrt_shat_tail"])
    threshold = m1 + m2
    if np.any(threshold >= sqrt_s):
        raise ValueError(f"pair threshold above sqrt_s = {sqrt_s} GeV")
    sqrt_shat = threshold + _truncated_exponential(tail, sqrt_s - threshold, rng)

    # Parents back to back in the pair rest frame.
    p1, p2 = two_body_at_rest(n, sqrt_shat, m1, m2, rng)

    # Decays (in the pair rest frame).
    invisible = np.zeros((n, 4))
    if signal:
        w1_mass = _w_masses(n, params, rng, upper=m_chi - m_lsp)
        w2_mass = _w_masses(n, params, rng, upper=m_chi - m_lsp)
        w1, lsp1 = two_body_decay(p1, m1, w1_mass, m_lsp, rng)
        w2, lsp2 = two_body_decay(p2, m2, w2_mass, m_lsp, rng)
        invisible += lsp1 + lsp2
    else:
        w1, w2, w1_mass, w2_mass = p1, p2, m1, m2
    lep1, nu1 = two_body_decay(w1, w1_mass, 0.0, 0.0, rng)
    lep2, nu2 = two_body_decay(w2, w2_mass, 0.0, 0.0, rng)
    invisible += nu1 + nu2

    # The pair system in the lab: transverse recoil kick and longitudinal rapidity.
    kick = rng.normal(0.0, float(params["recoil_width"]), (n, 2))
    m_t = np.sqrt(sqrt_shat**2 + np.einsum("ij,ij->i", kick, kick))
    y = _truncated_normal(float(params["rapidity_width"]), np.log(sqrt_s / m_t), rng)
    system = np.empty((n, 4))
    system[:, 0] = m_t * np.cosh(y)
    system[:, 1:3] = kick
    system[:, 3] = m_t * np.sinh(y)
    beta = velocity(system)
    return {
        "lepton1": boost(lep1, beta),
        "lepton2": boost(lep2, beta),
        "invisible": boost(invisible, beta),
        "sqrt_shat": sqrt_shat,
    }


def _pt_eta_phi(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pt = np.hypot(p[:, 1], p[:, 2])
    eta = np.arcsinh(p[:, 3] / np.maximum(pt, _TINY))
    phi = np.arctan2(p[:, 2], p[:, 1])
    return pt, eta, phi


def detector(truth: Mapping, params: Mapping, rng: np.random.Generator) -> dict:
    """Smearing, pT ordering and acceptance. Returns measured lepton (pt, eta, phi) arrays,
    the missing transverse momentum (metx, mety), and the acceptance mask."""
    n = truth["lepton1"].shape[0]
    resolution = float(params["lepton_resolution"])
    out = {}
    balance = truth["invisible"][:, 1:3].copy()
    for i, key in enumerate(("lepton1", "lepton2"), start=1):
        pt, eta, phi = _pt_eta_phi(truth[key])
        pt_meas = pt * (1.0 + resolution * rng.standard_normal(n))
        # The measured MET balances the measured leptons: true invisible pT minus the mismeasurement.
        balance[:, 0] += (pt - pt_meas) * np.cos(phi)
        balance[:, 1] += (pt - pt_meas) * np.sin(phi)
        out[f"pt{i}"], out[f"eta{i}"], out[f"phi{i}"] = pt_meas, eta, phi
    balance += rng.normal(0.0, float(params["met_resolution"]), (n, 2))
    out["metx"], out["mety"] = balance[:, 0], balance[:, 1]
    # Leading / sub-leading by measured pT.
    swap = out["pt2"] > out["pt1"]
    for name in ("pt", "eta", "phi"):
        a, b = out[f"{name}1"], out[f"{name}2"]
        out[f"{name}1"], out[f"{name}2"] = np.where(swap, b, a), np.where(swap, a, b)
    pt_min = max(float(params["lepton_pt_min"]), 0.0)
    eta_max = float(params["lepton_eta_max"])
    out["accepted"] = (
        (out["pt2"] > pt_min)
        & (out["pt1"] > pt_min)
        & (np.abs(out["eta1"]) < eta_max)
        & (np.abs(out["eta2"]) < eta_max)
    )
    return out


# --------------------------------------------------------------------------- features
def _wrap(dphi: np.ndarray) -> np.ndarray:
    """Absolute azimuthal difference folded into [0, pi]."""
    return np.abs(np.mod(dphi + math.pi, 2.0 * math.pi) - math.pi)


def _four_vector(pt, eta, phi) -> np.ndarray:
    """Massless four-vectors from (pt, eta, phi)."""
    return np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=1)


def features(meas: Mapping, params: Mapping) -> dict[str, np.ndarray]:
    """The 18 raw features (GeV for momenta and masses) from measured leptons and MET."""
    from mt2 import mt2 as mt2_ufunc

    pt1, eta1, phi1 = meas["pt1"], meas["eta1"], meas["phi1"]
    pt2, eta2, phi2 = meas["pt2"], meas["eta2"], meas["phi2"]
    metx, mety = meas["metx"], meas["mety"]
    l1, l2 = _four_vector(pt1, eta1, phi1), _four_vector(pt2, eta2, phi2)
    met = np.hypot(metx, mety)
    met_phi = np.arctan2(mety, metx)

    f = {
        "lepton1_pt": pt1,
        "lepton1_eta": eta1,
        "lepton1_phi": phi1,
        "lepton2_pt": pt2,
        "lepton2_eta": eta2,
        "lepton2_phi": phi2,
        "met": met,
        "met_phi": met_phi,
    }
    # MET_rel: MET, or MET sin(dphi) if the closest lepton is within pi/2 in azimuth.
    dphi_min = np.minimum(_wrap(met_phi - phi1), _wrap(met_phi - phi2))
    f["met_rel"] = np.where(dphi_min < 0.5 * math.pi, met * np.sin(dphi_min), met)
    # Axial MET: minus the MET projected on the dilepton transverse direction.
    llx, lly = l1[:, 1] + l2[:, 1], l1[:, 2] + l2[:, 2]
    ll_pt = np.hypot(llx, lly)
    f["axial_met"] = -(metx * llx + mety * lly) / np.maximum(ll_pt, _TINY)
    # Razor (original definitions).
    e_sum, pz_sum = l1[:, 0] + l2[:, 0], l1[:, 3] + l2[:, 3]
    m_r = np.sqrt(np.maximum(e_sum**2 - pz_sum**2, 0.0))
    m_tr = np.sqrt(np.maximum(0.5 * (met * (pt1 + pt2) - (metx * llx + mety * lly)), 0.0))
    f["m_r"] = m_r
    f["m_tr_2"] = m_tr
    f["r"] = m_tr / np.maximum(m_r, _TINY)
    # MT2 (leptons massless, invisible-mass hypothesis from params).
    m_inv = float(params["mt2_invisible_mass"])
    mt2 = mt2_ufunc(0.0, l1[:, 1], l1[:, 2], 0.0, l2[:, 1], l2[:, 2], metx, mety, m_inv, m_inv)
    f["mt2"] = np.where(np.isfinite(mt2) & (mt2 >= 0.0), mt2, 0.0)
    f.update(super_razor(l1, l2, metx, mety))
    return f


def super_razor(l1: np.ndarray, l2: np.ndarray, metx: np.ndarray, mety: np.ndarray) -> dict[str, np.ndarray]:
    """sqrt(s_hat)_R, M_Delta^R, dphi_R^beta and |cos theta_R+1| (see the module docstring)."""
    n = l1.shape[0]
    # 1. Longitudinal boost to the frame where the dilepton pz vanishes.
    vis = l1 + l2
    beta_l = np.zeros((n, 3))
    beta_l[:, 2] = -vis[:, 3] / vis[:, 0]
    a, b = boost(l1, beta_l), boost(l2, beta_l)
    vis = a + b
    m_r = vis[:, 0]
    m_ll2 = np.maximum(m_r**2 - vis[:, 1] ** 2 - vis[:, 2] ** 2, 0.0)
    # 2.-3. Invisible system with pz = 0 and mass m_ll; the estimated centre-of-mass frame.
    e_inv = np.sqrt(m_ll2 + metx**2 + mety**2)
    total = m_r + e_inv
    px, py = vis[:, 1] + metx, vis[:, 2] + mety
    s_r = np.sqrt(np.maximum(total**2 - px**2 - py**2, 0.0))
    beta_r = np.stack([px, py, np.zeros(n)], axis=1) / total[:, None]
    a, b = boost(a, -beta_r), boost(b, -beta_r)
    # 4. Azimuth between the R-frame boost and the visible momentum in the R frame.
    dphi = _wrap(np.arctan2(py, px) - np.arctan2(a[:, 2] + b[:, 2], a[:, 1] + b[:, 1]))
    # 5.-6. Equal and opposite boosts to the two parent frames.
    beta_r1 = (a[:, 1:] - b[:, 1:]) / np.maximum(a[:, :1] + b[:, :1], _TINY)
    b2 = np.minimum(np.einsum("ij,ij->i", beta_r1, beta_r1), 1.0 - _TINY)
    gamma_r1 = 1.0 / np.sqrt(1.0 - b2)
    m_delta = s_r / (2.0 * gamma_r1)
    # 7. Decay angle of the leading lepton in its parent frame.
    a1 = boost(a, -beta_r1)
    norm = np.sqrt(np.einsum("ij,ij->i", a1[:, 1:], a1[:, 1:]) * b2)
    cos = np.einsum("ij,ij->i", a1[:, 1:], beta_r1) / np.maximum(norm, _TINY)
    return {
        "s_r": s_r,
        "m_delta_r": m_delta,
        "dphi_r_b": dphi,
        "cos_theta_r1": np.clip(np.abs(cos), 0.0, 1.0),
    }


# --------------------------------------------------------------------------- samples
def simulate_accepted(n: int, signal: bool, params: Mapping, rng: np.random.Generator) -> tuple[dict, dict]:
    """Exactly ``n`` accepted events of one process: raw features (float64, GeV) and a
    summary (events simulated, acceptance)."""
    if n <= 0:
        return {name: np.zeros(0) for name in FEATURES}, {"simulated": 0, "accepted": 0}
    parts: list[dict] = []
    have, simulated, rounds = 0, 0, 0
    efficiency = 1.0
    while have < n:
        rounds += 1
        if rounds > _MAX_ROUNDS:
            raise RuntimeError(f"acceptance too low: {have} of {n} events after {simulated} simulated")
        batch = max(int(math.ceil((n - have) * _OVERSAMPLE / efficiency)), _MIN_BATCH)
        meas = detector(simulate_truth(batch, signal, params, rng), params, rng)
        keep = meas.pop("accepted")
        simulated += batch
        taken = {k: v[keep][: n - have] for k, v in meas.items()}
        parts.append(taken)
        have += len(taken["pt1"])
        efficiency = max(have / simulated, 1.0 / batch)
    meas = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return features(meas, params), {"simulated": simulated, "accepted": n}


def simulate_chunk(n: int, params: Mapping, rng: np.random.Generator) -> tuple[np.ndarray, dict, dict]:
    """``n`` events of both classes, shuffled: labels (int8), raw features, acceptance counts."""
    n_signal = int(rng.binomial(n, float(params["signal_fraction"])))
    sig, sig_info = simulate_accepted(n_signal, True, params, rng)
    bkg, bkg_info = simulate_accepted(n - n_signal, False, params, rng)
    order = rng.permutation(n)
    labels = np.concatenate([np.ones(n_signal, np.int8), np.zeros(n - n_signal, np.int8)])[order]
    raw = {name: np.concatenate([sig[name], bkg[name]])[order] for name in FEATURES}
    return labels, raw, {"signal": sig_info, "background": bkg_info}


def generate_raw(n_events: int, params: Mapping, seed: int) -> tuple[np.ndarray, dict, dict]:
    """Labels, raw (unscaled, float64, GeV) features and acceptance counts of ``n_events``
    events, simulated in chunks of ``chunk_events`` (chunk k uses the stream [seed, k])."""
    chunk = int(params["chunk_events"])
    labels, raws = [], []
    counts = {c: {"simulated": 0, "accepted": 0} for c in ("signal", "background")}
    progress = Progress(n_events, "SUSY stand-in events", log)
    for k, start in enumerate(range(0, n_events, chunk)):
        rng = np.random.default_rng([int(seed), k])
        lab, raw, info = simulate_chunk(min(chunk, n_events - start), params, rng)
        labels.append(lab)
        raws.append(raw)
        for c in counts:
            for key in counts[c]:
                counts[c][key] += info[c][key]
        progress.advance(f"chunk {k + 1}: {start + len(lab):,} of {n_events:,}", amount=len(lab))
    if not raws:
        return np.zeros(0, np.int8), {name: np.zeros(0) for name in FEATURES}, counts
    raw = {name: np.concatenate([r[name] for r in raws]) for name in FEATURES}
    return np.concatenate(labels), raw, counts


def column_scales(raw: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The divisor of every scaled column: its sample mean (GeV); the mean of the absolute
    value where the mean is not positive (keeps the sign of axial MET)."""
    scales = {}
    for name in SCALED:
        values = np.asarray(raw[name], float)
        mean = float(values.mean()) if values.size else 1.0
        if not mean > _TINY:
            mean = float(np.abs(values).mean()) if values.size else 1.0
        scales[name] = mean if mean > _TINY else 1.0
    return scales


def to_frame(labels: np.ndarray, raw: Mapping[str, np.ndarray], scales: Mapping[str, float]) -> pd.DataFrame:
    """The UCI-layout table: label int8, features float32, scaled columns divided by ``scales``."""
    data = {LABEL: np.asarray(labels, np.int8)}
    for name in FEATURES:
        values = np.asarray(raw[name], float)
        if name in scales:
            values = values / scales[name]
        data[name] = values.astype(np.float32)
    frame = pd.DataFrame(data, columns=list(COLUMNS))
    return frame


def generate_with_scales(n_events: int, params: Mapping, seed: int) -> tuple[pd.DataFrame, dict, dict]:
    """:func:`generate`, also returning the column scales (GeV) and the acceptance counts."""
    labels, raw, counts = generate_raw(n_events, params, seed)
    scales = column_scales(raw)
    return to_frame(labels, raw, scales), scales, counts


def generate(n_events: int, params: Mapping, seed: int) -> pd.DataFrame:
    """``n_events`` toy events with the columns :data:`mlreview.data.susy.COLUMNS`
    (label int8 0/1, features float32, momentum-like columns scaled to a mean of one)."""
    return generate_with_scales(n_events, params, seed)[0]


# --------------------------------------------------------------------------- step
def write_parquet(frame: pd.DataFrame, path: Path, metadata: Mapping[str, str], row_group: int) -> None:
    """Write ``frame`` to parquet atomically, in row groups of ``row_group`` rows, with
    ``metadata`` added to the schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta.update({k.encode(): v.encode() for k, v in metadata.items()})
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, table.schema) as writer:
            for start in range(0, max(table.num_rows, 1), row_group):
                writer.write_table(table.slice(start, row_group))


def classifier_auc(frame: pd.DataFrame, params: Mapping, threads: int = 1) -> dict:
    """AUC of a histogram gradient-boosted classifier (xgboost) on a seeded random split."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from xgboost import XGBClassifier

    n = min(len(frame), int(params["events"]))
    x = frame[list(FEATURES)].to_numpy()[:n]
    y = frame[LABEL].to_numpy()[:n]
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=float(params["test_fraction"]), random_state=int(params["seed"]), stratify=y
    )
    model = XGBClassifier(
        tree_method="hist",
        n_estimators=int(params["n_estimators"]),
        max_depth=int(params["max_depth"]),
        learning_rate=float(params["learning_rate"]),
        random_state=int(params["seed"]),
        n_jobs=int(threads),
    )
    model.fit(x_train, y_train)
    prob = model.predict_proba(x_test)[:, 1]
    return {
        "value": float(roc_auc_score(y_test, prob)),
        "events": n,
        "train": len(y_train),
        "test": len(y_test),
    }


def generate_susy(params: Mapping, *, parquet: Path, threads: int = 1) -> dict:
    """Generate ``n_events`` toy events (``params`` = the ``susy.toy`` config
    section), write them to ``parquet`` (schema metadata ``source: toy``, the generator
    params as JSON, and the column scales in GeV), and return summary metrics."""
    n = int(params["n_events"])
    start = time.perf_counter()
    frame, scales, counts = generate_with_scales(n, params, int(params["seed"]))
    t_generate = time.perf_counter() - start

    start = time.perf_counter()
    metadata = {
        "source": "toy",
        "generator": "mlreview.data.susy_toy",
        "params": json.dumps(dict(params), sort_keys=True),
        "scales_gev": json.dumps(scales, sort_keys=True),
    }
    write_parquet(frame, Path(parquet), metadata, int(params["chunk_events"]))
    t_write = time.perf_counter() - start

    labels = frame[LABEL].to_numpy()
    means = {}
    for cls, value in (("signal", 1), ("background", 0)):
        rows = frame[labels == value]
        means[cls] = {name: float(rows[name].astype(np.float64).mean()) for name in FEATURES}

    start = time.perf_counter()
    auc = classifier_auc(frame, params["auc"], threads)
    t_auc = time.perf_counter() - start
    return {
        "source": "toy",
        "n_events": n,
        "signal_fraction": float(labels.mean()) if n else 0.0,
        "acceptance": {c: counts[c]["accepted"] / max(counts[c]["simulated"], 1) for c in counts},
        "mean": means,
        "scales_gev": scales,
        "fraction_r_above_one": float((frame["r"].to_numpy() > 1.0).mean()) if n else 0.0,
        "auc": auc,
        "wall_time_s": {"generate": t_generate, "write": t_write, "auc": t_auc},
    }
