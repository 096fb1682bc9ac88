"""EM for two biased coins (spec 4.1; Do & Batzoglou 2008), a project figure of Section XIV: the
log-likelihood per EM iteration (never decreasing) and the EM estimates against the estimates
from the complete data (which coin was tossed), over many seeded repetitions. The algorithm is
:mod:`mlreview.em`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlreview.em import coin_em, complete_data_estimate, toss_coins
from mlreview.io import save_npz, to_jsonable
from mlreview.steps import step


@step
def em_coins(params: Mapping, *, data: Path) -> dict:
    """Workflow step (spec 4.1): EM on the displayed realisation, over many seeds and random starts,
    and on the Do & Batzoglou example; the monotone-likelihood check (C83)."""
    thetas, n_exp, n = params["theta_true"], int(params["n_experiments"]), int(params["n_tosses"])
    init, tol, max_iter = params["init"], float(params["tol"]), int(params["max_iter"])
    rng = np.random.default_rng(int(params["init_seed"]))
    random_inits = rng.uniform(*params["random_init_range"], size=(int(params["n_random_inits"]), 2))

    seeds = int(params["seed"]) + np.arange(int(params["n_seeds"]))
    min_delta, n_runs = np.inf, 0
    em_final, complete, iters = [], [], []
    shown = {}
    for seed in seeds:
        heads, coins = toss_coins(thetas, n_exp, n, int(seed))
        runs = [coin_em(heads, n, init, tol, max_iter)] + [coin_em(heads, n, s, tol, max_iter) for s in random_inits]
        for run in runs:
            min_delta = min(min_delta, float(np.min(np.diff(run["log_likelihood"]))))
        n_runs += len(runs)
        em_final.append(runs[0]["theta"][-1])
        complete.append(complete_data_estimate(heads, coins, n))
        iters.append(runs[0]["iterations"])
        if seed == seeds[0]:
            shown = {"heads": heads, "coins": coins, "runs": runs}
    em_final, complete = np.array(em_final), np.array(complete)

    fixture = params["fixture"]
    ref = coin_em(fixture["heads"], int(fixture["n_tosses"]), fixture["init"], tol, max_iter,
                  fixed_iterations=int(fixture["iterations"]))
    min_delta = min(min_delta, float(np.min(np.diff(ref["log_likelihood"]))))

    main = shown["runs"][0]
    lengths = [len(r["log_likelihood"]) for r in shown["runs"]]
    padded = np.full((len(lengths), max(lengths)), np.nan)
    for i, r in enumerate(shown["runs"]):
        padded[i, : len(r["log_likelihood"])] = r["log_likelihood"]
    save_npz(data, heads=shown["heads"], coins=shown["coins"], theta=main["theta"], log_likelihood=padded,
             em_final=em_final, complete=complete, random_inits=random_inits, fixture_theta=ref["theta"])
    both = ~np.isnan(complete).any(axis=1)
    complete_shown = complete_data_estimate(shown["heads"], shown["coins"], n)
    return to_jsonable({
        "shown": {"seed": int(seeds[0]), "heads": shown["heads"], "coins": np.where(shown["coins"] == 0, "A", "B"),
                  "em_theta": main["theta"][-1], "complete_theta": complete_shown, "iterations": main["iterations"],
                  "log_likelihood": main["log_likelihood"]},
        "seeds": {"n_seeds": len(seeds), "n_random_inits": int(len(random_inits)), "n_runs": n_runs,
                  "mean_iterations": float(np.mean(iters)), "n_both_coins_used": int(both.sum()),
                  "mean_abs_em_minus_complete": np.mean(np.abs(em_final[both] - complete[both]), axis=0),
                  "mean_em_theta": em_final.mean(axis=0), "mean_complete_theta": np.nanmean(complete, axis=0)},
        "fixture": {"heads": fixture["heads"], "theta_after_1": ref["theta"][1], "theta_after_10": ref["theta"][-1],
                    "iterations": ref["iterations"]},
        "c83": {"min_log_likelihood_change": min_delta, "tolerance": float(params["monotone_tolerance"]),
                "monotone": bool(min_delta >= -float(params["monotone_tolerance"]))},
    })
