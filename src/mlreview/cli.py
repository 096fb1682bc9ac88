"""Command line entry point: every workflow step is one call of this program.

A Snakemake rule runs exactly one step, and the same line runs it by hand::

    python -m mlreview polynomial-fit \\
        --output data=results/polynomial/fig01.npz metrics=results/metrics/fig01.json \\
        --params '{"seed": 1, ...}'

``--params`` takes a JSON object (or ``@file.json``). Inputs and outputs are passed as
``NAME=PATH`` pairs and reach the step function as keyword arguments of those names
(a name given several times arrives as a list of paths).
The output named ``metrics`` is reserved: the step returns a dict of measured numbers
and this module writes it together with the provenance (params, seeds, versions,
git commit, wall time). ``python -m mlreview list`` prints every step.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import os
import sys
import time
from pathlib import Path

from mlreview.errors import MlreviewError

#: step name -> "module:function". Modules are imported only when their step runs.
STEPS: dict[str, str] = {
    # Section II: polynomial regression (Figs 1-3)
    "polynomial-fit": "mlreview.sections.polynomial.fit:fit_step",
    "polynomial-plot": "mlreview.sections.polynomial.plots:plot_step",
    # Section IV: gradient descent (Figs 7, 9)
    "gd-quadratic": "mlreview.sections.gradient_descent.runs:quadratic_step",
    "gd-quadratic-plot": "mlreview.sections.gradient_descent.plots:quadratic_plot_step",
    "gd-beale": "mlreview.sections.gradient_descent.runs:beale_step",
    "gd-beale-plot": "mlreview.sections.gradient_descent.plots:beale_plot_step",
    # Analytic figures (12, 36, 69, 70)
    "shrinkage": "mlreview.sections.analytic.shrinkage:compute_step",
    "shrinkage-plot": "mlreview.sections.analytic.plots:shrinkage_plot_step",
    "activations": "mlreview.sections.analytic.activations:compute_step",
    "activations-plot": "mlreview.sections.analytic.plots:activations_plot_step",
    "kl-divergence": "mlreview.sections.analytic.divergences:compute_step",
    "kl-divergence-plot": "mlreview.sections.analytic.plots:kl_plot_step",
    # Ising data sets (2D Monte Carlo, 1D chains), their validation, Fig 20
    "ising2d-sample": "mlreview.ising.sampling:sample_step",
    "ising2d-assemble": "mlreview.data.ising:assemble_step",
    "ising2d-validate": "mlreview.ising.validation:validate_step",
    "ising-validation-plot": "mlreview.ising.plots:validation_plot_step",
    "fig20-select": "mlreview.ising.display:select_step",
    "fig20-plot": "mlreview.ising.plots:fig20_plot_step",
    "ising1d": "mlreview.ising.chain1d:chain1d_step",
    # MNIST and SUSY (downloaded, or the SUSY stand-in generator), Figs 24 and 26
    "mnist-prepare": "mlreview.data.mnist:prepare_step",
    "fig26-select": "mlreview.data.mnist:fig26_step",
    "fig26-plot": "mlreview.data.plots:fig26_plot_step",
    "susy-prepare": "mlreview.data.susy:prepare_step",
    "susy-toy": "mlreview.data.susy_toy:toy_step",
    "fig24-select": "mlreview.data.susy:fig24_step",
    "fig24-plot": "mlreview.data.plots:fig24_plot_step",
    "susy-features-plot": "mlreview.data.plots:features_plot_step",
    # Section VI: linear regression (Figs 14-17)
    "diabetes-fit": "mlreview.sections.linear_regression.diabetes:fit_step",
    "diabetes-r2-plot": "mlreview.sections.linear_regression.plots:diabetes_r2_plot_step",
    "diabetes-paths-plot": "mlreview.sections.linear_regression.plots:diabetes_paths_plot_step",
    "ising1d-regression": "mlreview.sections.linear_regression.ising:fit_step",
    "ising1d-r2-plot": "mlreview.sections.linear_regression.ising_plots:r2_plot_step",
    "ising1d-couplings-plot": "mlreview.sections.linear_regression.ising_plots:couplings_plot_step",
    # Section VII: logistic regression (Figs 21, 22, 23, 25, 27)
    "ising-logistic": "mlreview.sections.logistic_regression.ising:fit_step",
    "ising-logistic-plot": "mlreview.sections.logistic_regression.plots:ising_accuracy_plot_step",
    "susy-logistic": "mlreview.sections.logistic_regression.susy:fit_step",
    "susy-logistic-scan": "mlreview.sections.logistic_regression.susy:scan_step",
    "susy-logistic-ablation": "mlreview.sections.logistic_regression.susy:ablation_step",
    "fig25-roc": "mlreview.sections.logistic_regression.susy:fig25_step",
    "susy-probability-plot": "mlreview.sections.logistic_regression.susy_plots:fig22_plot_step",
    "susy-roc-scan-plot": "mlreview.sections.logistic_regression.susy_plots:fig23_plot_step",
    "susy-roc-plot": "mlreview.sections.logistic_regression.susy_plots:fig25_plot_step",
    "mnist-softmax": "mlreview.sections.logistic_regression.mnist:fit_step",
    "mnist-weights-plot": "mlreview.sections.logistic_regression.plots:mnist_weights_plot_step",
    # Section VIII: ensembles (Figs 30, 32, 33, 34; the variance of an ensemble average, spec 4.4)
    "bagging-perceptron": "mlreview.sections.ensembles.bagging:fit_step",
    "bagging-plot": "mlreview.sections.ensembles.plots:bagging_plot_step",
    "ensemble-variance": "mlreview.sections.ensembles.bagging:variance_step",
    "ensemble-variance-plot": "mlreview.sections.ensembles.plots:variance_plot_step",
    "iris-ensembles": "mlreview.sections.ensembles.iris:fit_step",
    "iris-ensembles-plot": "mlreview.sections.ensembles.plots:iris_plot_step",
    "ising-forest": "mlreview.sections.ensembles.ising_forest:fit_step",
    "ising-forest-vs-logistic": "mlreview.sections.ensembles.ising_forest:compare_step",
    "ising-forest-plot": "mlreview.sections.ensembles.plots:forest_plot_step",
    "susy-xgboost": "mlreview.sections.ensembles.susy_xgboost:fit_step",
    "susy-xgboost-tune": "mlreview.sections.ensembles.susy_xgboost:tune_step",
    "susy-xgboost-plot": "mlreview.sections.ensembles.plots:xgboost_plot_step",
    # Sections IX-X: deep networks (Figs 37, 38, 40, 41, 45; MNIST optimizers and CNN)
    "mnist-dnn": "mlreview.sections.deep_networks.mnist:fit_step",
    "mnist-optimizer-cv": "mlreview.sections.deep_networks.mnist:optimizer_step",
    "mnist-optimizers": "mlreview.sections.deep_networks.mnist:optimizers_gather_step",
    "mnist-cnn": "mlreview.sections.deep_networks.mnist:cnn_step",
    "susy-dnn-cell": "mlreview.sections.deep_networks.susy:cell_step",
    "susy-dnn-grid": "mlreview.sections.deep_networks.susy:gather_step",
    "ising-dnn-cell": "mlreview.sections.deep_networks.ising:dnn_cell_step",
    "ising-dnn-grid": "mlreview.sections.deep_networks.ising:dnn_gather_step",
    "ising-cnn-depth": "mlreview.sections.deep_networks.ising:cnn_depth_step",
    "ising-cnn-depths": "mlreview.sections.deep_networks.ising:cnn_gather_step",
    "network-history-plot": "mlreview.sections.deep_networks.plots:history_plot_step",
    "mnist-cnn-plot": "mlreview.sections.deep_networks.plots:cnn_history_plot_step",
    "mnist-optimizers-plot": "mlreview.sections.deep_networks.plots:optimizers_plot_step",
    "susy-dnn-plot": "mlreview.sections.deep_networks.plots:fig40_plot_step",
    "ising-dnn-plot": "mlreview.sections.deep_networks.plots:fig41_plot_step",
    "ising-cnn-plot": "mlreview.sections.deep_networks.plots:fig45_plot_step",
    # Section XII: dimensional reduction (Figs 51, 53, 54)
    "ising-pca": "mlreview.sections.dimensionality_reduction.pca:ising_step",
    "gaussian-mixture-views": "mlreview.sections.dimensionality_reduction.embeddings:mixture_step",
    "mnist-embed": "mlreview.sections.dimensionality_reduction.embeddings:mnist_step",
    "fig51-plot": "mlreview.sections.dimensionality_reduction.plots:fig51_plot_step",
    "fig53-plot": "mlreview.sections.dimensionality_reduction.plots:fig53_plot_step",
    "fig54-plot": "mlreview.sections.dimensionality_reduction.plots:fig54_plot_step",
    # Section XIII: clustering (Figs 55-58)
    "kmeans": "mlreview.sections.clustering.clustering:kmeans_step",
    "hierarchical": "mlreview.sections.clustering.clustering:hierarchical_step",
    "dbscan": "mlreview.sections.clustering.clustering:dbscan_step",
    "ising-gmm": "mlreview.em:ising_gmm_step",
    "fig55-plot": "mlreview.sections.clustering.plots:fig55_plot_step",
    "fig56-plot": "mlreview.sections.clustering.plots:fig56_plot_step",
    "fig57-plot": "mlreview.sections.clustering.plots:fig57_plot_step",
    "fig58-plot": "mlreview.sections.clustering.plots:fig58_plot_step",
    # Section XIV: EM for two coins, mean-field Ising (project figures)
    "em-coins": "mlreview.em:coins_step",
    "em-coins-plot": "mlreview.sections.mean_field.plots:em_coins_plot_step",
    "mean-field": "mlreview.sections.mean_field.mean_field:mean_field_step",
    "mean-field-plot": "mlreview.sections.mean_field.plots:mean_field_plot_step",
    # Sections XV-XVI: energy-based models, exact-likelihood studies (project figures)
    "rbm-likelihood": "mlreview.sections.energy_based.exact:likelihood_step",
    "rbm-likelihood-plot": "mlreview.sections.energy_based.exact_plots:likelihood_plot_step",
    "rbm-ising-kl": "mlreview.sections.energy_based.exact:ising_kl_step",
    "rbm-ising-kl-plot": "mlreview.sections.energy_based.exact_plots:ising_kl_plot_step",
    # Section XVI: deep Boltzmann machines on Ising states (Figs 66-68)
    "ising-dbm": "mlreview.sections.energy_based.ising:fit_step",
    "ising-dbm-observables": "mlreview.sections.energy_based.ising:observables_step",
    "ising-dbm-plot": "mlreview.sections.energy_based.ising_plots:samples_plot_step",
    "ising-dbm-observables-plot": "mlreview.sections.energy_based.ising_plots:observables_plot_step",
    # Section XVII: variational autoencoders (Figs 75-78; training curves, log-likelihood check)
    "vae-mnist": "mlreview.sections.vae.fits:mnist_step",
    "vae-ising": "mlreview.sections.vae.fits:ising_step",
    "vae-ppca": "mlreview.sections.vae.fits:ppca_step",
    "fig75-plot": "mlreview.sections.vae.plots:fig75_plot_step",
    "fig76-plot": "mlreview.sections.vae.plots:fig76_plot_step",
    "fig77-plot": "mlreview.sections.vae.plots:fig77_plot_step",
    "fig78-plot": "mlreview.sections.vae.plots:fig78_plot_step",
    "vae-training-plot": "mlreview.sections.vae.plots:training_plot_step",
    "vae-likelihood-plot": "mlreview.sections.vae.plots:likelihood_plot_step",
    # Sections XV-XVI: energy-based models on MNIST (Figs 60, 64, 65, filters, free energy)
    "ebm-mnist-fit": "mlreview.sections.energy_based.mnist:fit_step",
    "ebm-mnist-dbm": "mlreview.sections.energy_based.mnist:dbm_step",
    "ebm-mnist-ais": "mlreview.sections.energy_based.mnist:ais_step",
    "ebm-mnist-samples": "mlreview.sections.energy_based.mnist:samples_step",
    "ebm-fig60-plot": "mlreview.sections.energy_based.mnist_plots:fig60_plot_step",
    "ebm-fig64-plot": "mlreview.sections.energy_based.mnist_plots:fig64_plot_step",
    "ebm-fig65-plot": "mlreview.sections.energy_based.mnist_plots:fig65_plot_step",
    "ebm-filters-plot": "mlreview.sections.energy_based.mnist_plots:filters_plot_step",
    "ebm-free-energy-plot": "mlreview.sections.energy_based.mnist_plots:free_energy_plot_step",
    # Scorecard and report
    "scorecard": "mlreview.report.scorecard:scorecard_step",
    "report": "mlreview.report.html:report_step",
}

METRICS = "metrics"
log = logging.getLogger("mlreview")


class StepError(MlreviewError):
    """A step was called wrongly (unknown name, bad NAME=PATH pair, missing argument)."""


def _pairs(items: list[str] | None, what: str) -> dict[str, Path | list[Path]]:
    """Parse NAME=PATH pairs; a name given more than once collects a list of paths."""
    result: dict[str, Path | list[Path]] = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise StepError(f"--{what} expects NAME=PATH pairs, got {item!r}")
        if name in result:
            previous = result[name]
            result[name] = [*previous, Path(path)] if isinstance(previous, list) else [previous, Path(path)]
        else:
            result[name] = Path(path)
    return result


def as_list(value: Path | list[Path] | None) -> list[Path]:
    """Normalise an input that may be one path or several (a repeated NAME)."""
    if value is None:
        return []
    return [Path(v) for v in value] if isinstance(value, (list, tuple)) else [Path(value)]


def _load_params(text: str | None) -> dict:
    if text is None:
        return {}
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    try:
        params = json.loads(text)
    except json.JSONDecodeError as err:
        raise StepError(f"--params is not valid JSON: {err}") from err
    if not isinstance(params, dict):
        raise StepError("--params must be a JSON object")
    return params


def resolve(step: str):
    """The function registered for ``step``."""
    try:
        target = STEPS[step]
    except KeyError:
        known = ", ".join(sorted(STEPS))
        raise StepError(f"unknown step {step!r}; known steps: {known}") from None
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def run_step(
    step: str,
    params: dict,
    inputs: dict[str, Path] | None = None,
    outputs: dict[str, Path] | None = None,
    threads: int = 1,
) -> dict | None:
    """Run one step in-process (used by the CLI and by tests).

    Returns the metrics dict the step produced (``None`` for steps without metrics).
    """
    from mlreview.io import save_json
    from mlreview.provenance import provenance

    inputs, outputs = dict(inputs or {}), dict(outputs or {})
    clash = set(inputs) & set(outputs)
    if clash:
        raise StepError(f"names used for both input and output: {sorted(clash)}")
    func = resolve(step)
    metrics_path = outputs.pop(METRICS, None)
    kwargs = {**inputs, **outputs}
    signature = inspect.signature(func)
    if "threads" in signature.parameters:
        kwargs["threads"] = threads
    missing = [
        name
        for name, p in signature.parameters.items()
        if p.default is inspect.Parameter.empty and name not in kwargs and name != "params"
    ]
    unknown = [name for name in kwargs if name not in signature.parameters]
    if missing or unknown:
        raise StepError(
            f"step {step!r} takes {list(signature.parameters)}; missing {missing}, unexpected {unknown}"
        )
    log.info("step %s: start", step)
    start = time.perf_counter()
    metrics = func(params, **kwargs)
    wall = time.perf_counter() - start
    log.info("step %s: done in %.2f s", step, wall)
    if metrics_path is not None:
        if metrics is None:
            raise StepError(f"step {step!r} was given a metrics output but returned no metrics")
        save_json(
            metrics_path,
            {"metrics": metrics, "provenance": provenance(step, params, wall, threads)},
        )
    return metrics


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlreview",
        description="Run one step of the mlreview workflow (see `python -m mlreview list`).",
    )
    parser.add_argument("step", help="step name, or 'list'")
    parser.add_argument("--input", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--output", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--params", default=None, help="JSON object, or @file.json")
    parser.add_argument("--threads", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.step == "list":
        for name, target in STEPS.items():
            print(f"{name:24s} {target}")
        return 0
    # Thread counts must be fixed before numpy/torch are imported by the step module.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # matplotlib's PDF backend logs every font subset at INFO; keep the step logs readable.
    for noisy in ("fontTools", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        run_step(
            args.step,
            _load_params(args.params),
            _pairs(args.input, "input"),
            _pairs(args.output, "output"),
            threads=args.threads,
        )
    except MlreviewError as err:
        # Errors the user can act on: their message, no traceback.
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
