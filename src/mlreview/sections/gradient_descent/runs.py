"""Section IV, Figs 7 and 9: gradient descent on a quadratic bowl, and five optimisers on Beale's function.

``quadratic_step`` runs plain GD on E = a x^2 + b y^2 + c for each learning rate of the
config and classifies the regime of each run twice: from the trajectory (measured) and
from eta relative to eta_opt = 1 / (d^2E) (predicted). ``beale_step`` runs GD, GDM,
NAG, RMSprop and ADAM from each start on Beale's function. Both write an ``.npz`` with
the trajectories and a contour grid for the plot step, and return the metrics of
claims C09-C15.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mlreview.io import save_npz
from mlreview.sections.gradient_descent.landscapes import BEALE_MINIMUM, QuadraticBowl, beale, beale_gradient
from mlreview.optimizers import EPSILON_PLACEMENT, GD, make_optimizer, run
from mlreview.steps import step

#: The four regimes of plain GD on a quadratic (review Fig 8), plus the marginal case
#: eta = 2 eta_opt (undamped oscillation) and "other" for anything else.
MONOTONE = "monotone"
ONE_STEP = "one-step"
OSCILLATING = "oscillating-convergent"
DIVERGENT = "divergent"
UNDAMPED = "undamped-oscillation"
OTHER = "other"
REGIMES = (MONOTONE, ONE_STEP, OSCILLATING, DIVERGENT)

#: Relative round-off allowance (numerical safety only): a distance below this fraction
#: of the start distance counts as "at the minimum", and eta within this relative
#: distance of eta_opt counts as equal to it.
_ROUNDOFF = 1e-12


def _key(prefix: str, value: float) -> str:
    return f"{prefix}_{value:g}"


def start_key(start) -> str:
    """Metrics key of a start point, e.g. ``start_-1_4``."""
    return "start_" + "_".join(f"{float(v):g}" for v in start)


# ---------------------------------------------------------------------------------
# Fig 7: plain GD on the quadratic bowl
# ---------------------------------------------------------------------------------


def predicted_regime(eta: float, eta_opt: np.ndarray) -> str:
    """Regime that theory predicts from eta relative to eta_opt (per direction).

    eta < eta_opt: monotone; eta = eta_opt: one step; eta_opt < eta < 2 eta_opt:
    oscillating but convergent; eta > 2 eta_opt: divergent. With different curvatures
    the direction of largest curvature (smallest eta_opt) decides between oscillation
    and divergence, and a one-step convergence needs eta = eta_opt in every direction.
    """
    eta_opt = np.asarray(eta_opt, dtype=float)

    def close(u, v):
        return math.isclose(u, v, rel_tol=_ROUNDOFF, abs_tol=0.0)

    if any(eta > 2 * e and not close(eta, 2 * e) for e in eta_opt):
        return DIVERGENT
    if any(close(eta, 2 * e) for e in eta_opt):
        return UNDAMPED
    if all(close(eta, e) for e in eta_opt):
        return ONE_STEP
    if any(eta > e and not close(eta, e) for e in eta_opt):
        return OSCILLATING
    return MONOTONE


def measured_regime(traj: np.ndarray, minimum: np.ndarray) -> str:
    """Regime read off a trajectory (distances to the minimum and sign changes)."""
    dist = np.linalg.norm(traj - minimum, axis=1)
    d0 = dist[0]
    rel = traj - minimum
    sign_changes = int(np.sum(rel[1:] * rel[:-1] < 0))
    if dist[-1] > d0 * (1 + _ROUNDOFF):
        return DIVERGENT
    if np.all(dist[1:] <= _ROUNDOFF * d0):
        return ONE_STEP
    if math.isclose(dist[-1], d0, rel_tol=_ROUNDOFF):
        return UNDAMPED if sign_changes else OTHER
    if sign_changes:
        return OSCILLATING
    if np.all(np.diff(dist) < 0):
        return MONOTONE
    return OTHER


def _component_ratios(traj: np.ndarray, minimum: np.ndarray) -> list[np.ndarray]:
    """Per component, the ratios (x_{t+1} - x*) / (x_t - x*) wherever x_t != x*."""
    rel = traj - minimum
    out = []
    for k in range(traj.shape[1]):
        prev, nxt = rel[:-1, k], rel[1:, k]
        ok = prev != 0
        out.append(nxt[ok] / prev[ok])
    return out


def quadratic_run_metrics(traj: np.ndarray, bowl: QuadraticBowl, eta: float, report_steps) -> dict:
    """Metrics of one GD run on the bowl (see :func:`quadratic_step`)."""
    minimum = bowl.minimum
    rel = traj - minimum
    dist = np.linalg.norm(rel, axis=1)
    n = len(traj) - 1
    factor = bowl.gd_factor(eta)

    distance = {f"step_{s}": float(dist[s]) for s in report_steps if s <= n}
    distance["start"] = float(dist[0])
    distance["final"] = float(dist[-1])

    # Per-component factor (signed): measured ratios against the analytic 1 - 2 a eta.
    ratios = _component_ratios(traj, minimum)
    names = ("x", "y")
    comp = {}
    worst_dev, worst_value, worst_target = 0.0, None, None
    for name, r, f in zip(names, ratios, factor):
        dev = np.abs(r - f)
        entry = {"analytic": float(f), "n_ratios": int(r.size)}
        if r.size:
            i = int(np.argmax(dev))
            entry.update(mean=float(np.mean(r)), worst=float(r[i]), max_deviation=float(dev[i]))
            if dev[i] >= worst_dev:
                worst_dev, worst_value, worst_target = float(dev[i]), float(r[i]), float(f)
        comp[name] = entry
    uniform = bool(np.allclose(factor, factor[0], rtol=0, atol=0))
    comp["isotropic"] = uniform
    comp["worst"] = worst_value  # measured ratio farthest from its analytic factor
    comp["worst_analytic"] = worst_target
    comp["max_deviation"] = worst_dev if worst_value is not None else None

    # Successive distance ratios d_{t+1} / d_t against the analytic prediction
    # |F theta_t| / |theta_t| (= |1 - 2 a eta| on an isotropic bowl).
    ok = dist[:-1] > 0
    d_ratio = dist[1:][ok] / dist[:-1][ok]
    d_pred = np.linalg.norm(rel[:-1][ok] * factor, axis=1) / dist[:-1][ok]
    dist_ratio = {
        "analytic": float(abs(factor[0])) if uniform else None,
        "n_ratios": int(d_ratio.size),
        "mean": float(np.mean(d_ratio)) if d_ratio.size else None,
        "max_deviation": float(np.max(np.abs(d_ratio - d_pred))) if d_ratio.size else None,
    }

    sign_x = int(np.sum(rel[1:, 0] * rel[:-1, 0] < 0))
    sign_y = int(np.sum(rel[1:, 1] * rel[:-1, 1] < 0))
    regime = measured_regime(traj, minimum)
    return {
        "eta": float(eta),
        "start": [float(v) for v in traj[0]],
        "steps": n,
        "position_step_1": {"x": float(traj[min(1, n), 0]), "y": float(traj[min(1, n), 1])},
        "final_position": {"x": float(traj[-1, 0]), "y": float(traj[-1, 1])},
        "distance": distance,
        "factor": comp,
        "distance_ratio": dist_ratio,
        "sign_changes": {"x": sign_x, "y": sign_y, "total": sign_x + sign_y},
        "oscillates": bool(sign_x + sign_y > 0),
        "diverges": bool(dist[-1] > dist[0]),
        "distance_grows_every_step": bool(np.all(np.diff(dist) > 0)),
        "oscillates_then_converges": regime == OSCILLATING,
        "regime": regime,
        "regime_predicted": predicted_regime(eta, bowl.eta_opt),
    }


@step
def gradient_descent_quadratic(params: dict, *, data: Path) -> dict:
    """Fig 7: plain GD on E = a x^2 + b y^2 + c for each run (eta, start, steps) of ``params``.

    Writes ``data`` (.npz: one trajectory per run, the etas, a contour grid of E over
    the window) and returns metrics keyed ``eta_<eta>`` plus a ``regimes`` summary (C12).
    """
    bowl = QuadraticBowl.from_params(params["surface"])
    report_steps = [int(s) for s in params["report_steps"]]
    metrics: dict = {
        "surface": {"a": bowl.a, "b": bowl.b, "c": bowl.c},
        "curvature": {"x": float(bowl.curvature[0]), "y": float(bowl.curvature[1])},
        "eta_opt": {"x": float(bowl.eta_opt[0]), "y": float(bowl.eta_opt[1])},
        "minimum": bowl.minimum.tolist(),
    }
    arrays: dict[str, np.ndarray] = {}
    etas = []
    for i, spec in enumerate(params["runs"]):
        eta = float(spec["eta"])
        traj = run(GD({"eta": eta}), bowl.gradient, spec["start"], int(spec["steps"]))
        key = _key("eta", eta)
        if key in metrics:
            raise ValueError(f"learning rate {eta} appears twice in runs")
        metrics[key] = quadratic_run_metrics(traj, bowl, eta, report_steps)
        arrays[f"traj_{i}"] = traj
        etas.append(eta)

    measured = {_key("eta", e): metrics[_key("eta", e)]["regime"] for e in etas}
    predicted = {_key("eta", e): metrics[_key("eta", e)]["regime_predicted"] for e in etas}
    each_matches = all(measured[k] == predicted[k] for k in measured)
    shown = sorted(set(measured.values()))
    all_four = all(r in measured.values() for r in REGIMES)
    metrics["regimes"] = {
        "measured": measured,
        "predicted": predicted,
        "each_run_matches_theory": each_matches,
        "shown": shown,
        "all_four_shown": all_four,
        # C12: every run is in the regime theory predicts, and the four regimes all appear
        "all_match_theory": bool(each_matches and all_four),
    }

    lo, hi = (float(v) for v in params["window"])
    grid = np.linspace(lo, hi, int(params["contour_grid"]))
    gx, gy = np.meshgrid(grid, grid)
    save_npz(
        data,
        etas=np.array(etas),
        n_runs=np.array(len(etas)),
        minimum=bowl.minimum,
        grid_x=gx,
        grid_y=gy,
        grid_e=bowl.value(gx, gy),
        window=np.array([lo, hi]),
        **arrays,
    )
    return metrics


# ---------------------------------------------------------------------------------
# Fig 9: five optimisers on Beale's function
# ---------------------------------------------------------------------------------


def _first_within(dist: np.ndarray, radius: float) -> int | None:
    hits = np.flatnonzero(dist < radius)
    return int(hits[0]) if hits.size else None


def _steps_or_inf(value: int | None) -> float:
    return math.inf if value is None else float(value)


@step
def gradient_descent_beale(params: dict, *, data: Path) -> dict:
    """Fig 9: GD, GDM, NAG, RMSprop, ADAM from each start on Beale's function.

    Writes ``data`` (.npz: trajectories of shape (methods, starts, n_steps + 1, 2), the
    method names, starts, and a contour grid of f over the window) and returns metrics
    keyed ``start_<x>_<y>/<method>`` plus C13 (``at_minimum``), C14 (``c14``) and C15
    (``ravine``).
    """
    n_steps = int(params["n_steps"])
    starts = np.array(params["starts"], dtype=float)
    minimum = np.array(params["minimum"], dtype=float)
    radius = float(params["near_radius"])
    methods = list(params["optimizers"])
    adaptive = [m for m in params["adaptive"] if m in methods]
    simple = [m for m in methods if m not in adaptive]

    g_min = beale_gradient(BEALE_MINIMUM)
    metrics: dict = {
        "epsilon_placement": EPSILON_PLACEMENT,
        "n_steps": n_steps,
        "near_radius": radius,
        "minimum": minimum.tolist(),
        # C13: f and its gradient at the stated minimum (3, 0.5)
        "at_minimum": {
            "f": float(beale(*BEALE_MINIMUM)),
            "grad_x": float(g_min[0]),
            "grad_y": float(g_min[1]),
            "grad_norm": float(np.linalg.norm(g_min)),
            "max_abs_f_grad": float(max(abs(beale(*BEALE_MINIMUM)), np.max(np.abs(g_min)))),
        },
        "adaptive_methods": adaptive,
        "simple_methods": simple,
    }

    trajs = np.empty((len(methods), len(starts), n_steps + 1, 2))
    for j, start in enumerate(starts):
        per_start: dict = {}
        for i, name in enumerate(methods):
            traj = run(make_optimizer(name, params["optimizers"][name]), beale_gradient, start, n_steps)
            trajs[i, j] = traj
            dist = np.linalg.norm(traj - minimum, axis=1)
            final = traj[-1]
            per_start[name] = {
                "final_x": float(final[0]),
                "final_y": float(final[1]),
                "f_final": float(beale(*final)),
                "distance": float(dist[-1]),
                "first_step_near": _first_within(dist, radius),
                "abs_y_minus_1": float(abs(final[1] - 1.0)),
                "finite": bool(np.all(np.isfinite(traj))),
            }
        per_start["c14"] = _c14(per_start, adaptive, simple)
        metrics[start_key(start)] = per_start

    keys = [start_key(s) for s in starts]
    metrics["c14"] = {
        "holds_per_start": {k: metrics[k]["c14"]["holds"] for k in keys},
        "holds": bool(all(metrics[k]["c14"]["holds"] for k in keys)),
    }
    metrics["ravine"] = _ravine(metrics, params["ravine"], methods)

    lo, hi = (float(v) for v in params["window"])
    grid = np.linspace(lo, hi, int(params["contour_grid"]))
    gx, gy = np.meshgrid(grid, grid)
    save_npz(
        data,
        trajectories=trajs,
        methods=np.array(methods),
        starts=starts,
        minimum=minimum,
        grid_x=gx,
        grid_y=gy,
        grid_f=beale(gx, gy),
        window=np.array([lo, hi]),
    )
    return metrics


def _c14(per_start: dict, adaptive: list[str], simple: list[str]) -> dict:
    """C14 proxy for one start: every adaptive method ends lower than every simple one,
    and/or every adaptive method reaches the neighbourhood in fewer steps than any simple one."""
    f_ad = [per_start[m]["f_final"] for m in adaptive]
    f_si = [per_start[m]["f_final"] for m in simple]
    n_ad = [_steps_or_inf(per_start[m]["first_step_near"]) for m in adaptive]
    n_si = [_steps_or_inf(per_start[m]["first_step_near"]) for m in simple]
    worst_ad_f, best_si_f = max(f_ad), min(f_si)
    slowest_ad, fastest_si = max(n_ad), min(n_si)
    lower_f = bool(worst_ad_f < best_si_f)
    faster = bool(slowest_ad < fastest_si)
    return {
        "worst_adaptive_f": worst_ad_f,
        "best_simple_f": best_si_f,
        "f_ratio": best_si_f / worst_ad_f if worst_ad_f > 0 else None,
        "slowest_adaptive_first_near": None if math.isinf(slowest_ad) else int(slowest_ad),
        "fastest_simple_first_near": None if math.isinf(fastest_si) else int(fastest_si),
        "adaptive_lower_f": lower_f,
        "adaptive_reach_faster": faster,
        "holds": bool(lower_f or faster),
    }


def _ravine(metrics: dict, cfg: dict, methods: list[str]) -> dict:
    """C15 proxy: from ``cfg['start']``, methods that end within ``max_abs_y_minus_1`` of
    y = 1 and farther than ``min_distance`` from the minimum."""
    key = start_key(cfg["start"])
    if key not in metrics:
        raise ValueError(f"ravine start {cfg['start']} is not one of the starts")
    y_tol, d_min = float(cfg["max_abs_y_minus_1"]), float(cfg["min_distance"])
    hits = [
        m for m in methods if metrics[key][m]["abs_y_minus_1"] < y_tol and metrics[key][m]["distance"] > d_min
    ]
    details = "; ".join(
        f"{m}: end ({metrics[key][m]['final_x']:.2f}, {metrics[key][m]['final_y']:.3f}), "
        f"|y-1| = {metrics[key][m]['abs_y_minus_1']:.3f}, distance {metrics[key][m]['distance']:.2f}"
        for m in hits
    )
    return {
        "start": key,
        "max_abs_y_minus_1": y_tol,
        "min_distance": d_min,
        "methods": hits,
        "n_methods": len(hits),
        "methods_text": details if hits else "none",
        "holds": bool(hits),
    }
