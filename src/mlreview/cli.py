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
    "polynomial-fit": "mlreview.models.polynomial:fit_step",
    "polynomial-plot": "mlreview.figures.polynomial:plot_step",
    # Section IV: gradient descent (Figs 7, 9)
    "gd-quadratic": "mlreview.models.gradient_descent:quadratic_step",
    "gd-quadratic-plot": "mlreview.figures.gradient_descent:quadratic_plot_step",
    "gd-beale": "mlreview.models.gradient_descent:beale_step",
    "gd-beale-plot": "mlreview.figures.gradient_descent:beale_plot_step",
    # Analytic figures (12, 36, 69, 70)
    "shrinkage": "mlreview.analytic.shrinkage:compute_step",
    "shrinkage-plot": "mlreview.figures.analytic:shrinkage_plot_step",
    "activations": "mlreview.analytic.activations:compute_step",
    "activations-plot": "mlreview.figures.analytic:activations_plot_step",
    "kl-divergence": "mlreview.analytic.divergences:compute_step",
    "kl-divergence-plot": "mlreview.figures.analytic:kl_plot_step",
    # Ising data sets (2D Monte Carlo, 1D chains), their validation, Fig 20
    "ising2d-sample": "mlreview.ising.sampling:sample_step",
    "ising2d-assemble": "mlreview.data.ising:assemble_step",
    "ising2d-validate": "mlreview.ising.validation:validate_step",
    "ising-validation-plot": "mlreview.figures.ising:validation_plot_step",
    "fig20-select": "mlreview.ising.display:select_step",
    "fig20-plot": "mlreview.figures.ising:fig20_plot_step",
    "ising1d": "mlreview.ising.chain1d:chain1d_step",
    # MNIST and SUSY (downloaded, or the SUSY stand-in generator), Figs 24 and 26
    "mnist-prepare": "mlreview.data.mnist:prepare_step",
    "fig26-select": "mlreview.data.mnist:fig26_step",
    "fig26-plot": "mlreview.figures.datasets:fig26_plot_step",
    "susy-prepare": "mlreview.data.susy:prepare_step",
    "susy-toy": "mlreview.data.susy_toy:toy_step",
    "fig24-select": "mlreview.data.susy:fig24_step",
    "fig24-plot": "mlreview.figures.datasets:fig24_plot_step",
    "susy-features-plot": "mlreview.figures.susy:features_plot_step",
    # Section VI: linear regression (Figs 14-17)
    "diabetes-fit": "mlreview.models.diabetes:fit_step",
    "diabetes-r2-plot": "mlreview.figures.linear_regression:diabetes_r2_plot_step",
    "diabetes-paths-plot": "mlreview.figures.linear_regression:diabetes_paths_plot_step",
    "ising1d-regression": "mlreview.models.ising_regression:fit_step",
    "ising1d-r2-plot": "mlreview.figures.ising_regression:r2_plot_step",
    "ising1d-couplings-plot": "mlreview.figures.ising_regression:couplings_plot_step",
    # Section VII: logistic regression (Figs 21, 22, 23, 25, 27)
    "ising-logistic": "mlreview.models.ising_logistic:fit_step",
    "ising-logistic-plot": "mlreview.figures.logistic:ising_accuracy_plot_step",
    "susy-logistic": "mlreview.models.susy_logistic:fit_step",
    "susy-logistic-scan": "mlreview.models.susy_logistic:scan_step",
    "susy-logistic-ablation": "mlreview.models.susy_logistic:ablation_step",
    "fig25-roc": "mlreview.models.susy_logistic:fig25_step",
    "susy-probability-plot": "mlreview.figures.susy:fig22_plot_step",
    "susy-roc-scan-plot": "mlreview.figures.susy:fig23_plot_step",
    "susy-roc-plot": "mlreview.figures.susy:fig25_plot_step",
    "mnist-softmax": "mlreview.models.mnist_softmax:fit_step",
    "mnist-weights-plot": "mlreview.figures.logistic:mnist_weights_plot_step",
    # Section VIII: ensembles (Figs 30, 32, 33, 34; the variance of an ensemble average, spec 4.4)
    "bagging-perceptron": "mlreview.models.bagging:fit_step",
    "bagging-plot": "mlreview.figures.ensembles:bagging_plot_step",
    "ensemble-variance": "mlreview.models.bagging:variance_step",
    "ensemble-variance-plot": "mlreview.figures.ensembles:variance_plot_step",
    "iris-ensembles": "mlreview.models.iris_ensembles:fit_step",
    "iris-ensembles-plot": "mlreview.figures.ensembles:iris_plot_step",
    "ising-forest": "mlreview.models.ising_forest:fit_step",
    "ising-forest-vs-logistic": "mlreview.models.ising_forest:compare_step",
    "ising-forest-plot": "mlreview.figures.ensembles:forest_plot_step",
    "susy-xgboost": "mlreview.models.susy_xgboost:fit_step",
    "susy-xgboost-tune": "mlreview.models.susy_xgboost:tune_step",
    "susy-xgboost-plot": "mlreview.figures.ensembles:xgboost_plot_step",
    # Sections IX-X: deep networks (Figs 37, 38, 40, 41, 45; MNIST optimizers and CNN)
    "mnist-dnn": "mlreview.models.dnn_mnist:fit_step",
    "mnist-optimizer-cv": "mlreview.models.dnn_mnist:optimizer_step",
    "mnist-optimizers": "mlreview.models.dnn_mnist:optimizers_gather_step",
    "mnist-cnn": "mlreview.models.dnn_mnist:cnn_step",
    "susy-dnn-cell": "mlreview.models.dnn_susy:cell_step",
    "susy-dnn-grid": "mlreview.models.dnn_susy:gather_step",
    "ising-dnn-cell": "mlreview.models.dnn_ising:dnn_cell_step",
    "ising-dnn-grid": "mlreview.models.dnn_ising:dnn_gather_step",
    "ising-cnn-depth": "mlreview.models.dnn_ising:cnn_depth_step",
    "ising-cnn-depths": "mlreview.models.dnn_ising:cnn_gather_step",
    "network-history-plot": "mlreview.figures.networks:history_plot_step",
    "mnist-cnn-plot": "mlreview.figures.networks:cnn_history_plot_step",
    "mnist-optimizers-plot": "mlreview.figures.networks:optimizers_plot_step",
    "susy-dnn-plot": "mlreview.figures.networks:fig40_plot_step",
    "ising-dnn-plot": "mlreview.figures.networks:fig41_plot_step",
    "ising-cnn-plot": "mlreview.figures.networks:fig45_plot_step",
    # Section XII: dimensional reduction (Figs 51, 53, 54)
    "ising-pca": "mlreview.models.pca:ising_step",
    "gaussian-mixture-views": "mlreview.models.embeddings:mixture_step",
    "mnist-embed": "mlreview.models.embeddings:mnist_step",
    "fig51-plot": "mlreview.figures.dimensionality_reduction:fig51_plot_step",
    "fig53-plot": "mlreview.figures.dimensionality_reduction:fig53_plot_step",
    "fig54-plot": "mlreview.figures.dimensionality_reduction:fig54_plot_step",
    # Section XIII: clustering (Figs 55-58)
    "kmeans": "mlreview.models.clustering:kmeans_step",
    "hierarchical": "mlreview.models.clustering:hierarchical_step",
    "dbscan": "mlreview.models.clustering:dbscan_step",
    "ising-gmm": "mlreview.models.em:ising_gmm_step",
    "fig55-plot": "mlreview.figures.clustering:fig55_plot_step",
    "fig56-plot": "mlreview.figures.clustering:fig56_plot_step",
    "fig57-plot": "mlreview.figures.clustering:fig57_plot_step",
    "fig58-plot": "mlreview.figures.clustering:fig58_plot_step",
    # Section XIV: EM for two coins, mean-field Ising (project figures)
    "em-coins": "mlreview.models.em:coins_step",
    "em-coins-plot": "mlreview.figures.mean_field:em_coins_plot_step",
    "mean-field": "mlreview.models.mean_field:mean_field_step",
    "mean-field-plot": "mlreview.figures.mean_field:mean_field_plot_step",
    # Sections XV-XVI: energy-based models, exact-likelihood studies (project figures)
    "rbm-likelihood": "mlreview.models.ebm_exact:likelihood_step",
    "rbm-likelihood-plot": "mlreview.figures.ebm_exact:likelihood_plot_step",
    "rbm-ising-kl": "mlreview.models.ebm_exact:ising_kl_step",
    "rbm-ising-kl-plot": "mlreview.figures.ebm_exact:ising_kl_plot_step",
    # Section XVI: deep Boltzmann machines on Ising states (Figs 66-68)
    "ising-dbm": "mlreview.models.ebm_ising:fit_step",
    "ising-dbm-observables": "mlreview.models.ebm_ising:observables_step",
    "ising-dbm-plot": "mlreview.figures.ebm_ising:samples_plot_step",
    "ising-dbm-observables-plot": "mlreview.figures.ebm_ising:observables_plot_step",
    # Section XVII: variational autoencoders (Figs 75-78; training curves, log-likelihood check)
    "vae-mnist": "mlreview.models.vae:mnist_step",
    "vae-ising": "mlreview.models.vae:ising_step",
    "vae-ppca": "mlreview.models.vae:ppca_step",
    "fig75-plot": "mlreview.figures.vae:fig75_plot_step",
    "fig76-plot": "mlreview.figures.vae:fig76_plot_step",
    "fig77-plot": "mlreview.figures.vae:fig77_plot_step",
    "fig78-plot": "mlreview.figures.vae:fig78_plot_step",
    "vae-training-plot": "mlreview.figures.vae:training_plot_step",
    "vae-likelihood-plot": "mlreview.figures.vae:likelihood_plot_step",
    # Sections XV-XVI: energy-based models on MNIST (Figs 60, 64, 65, filters, free energy)
    "ebm-mnist-fit": "mlreview.models.ebm_mnist:fit_step",
    "ebm-mnist-dbm": "mlreview.models.ebm_mnist:dbm_step",
    "ebm-mnist-ais": "mlreview.models.ebm_mnist:ais_step",
    "ebm-mnist-samples": "mlreview.models.ebm_mnist:samples_step",
    "ebm-fig60-plot": "mlreview.figures.ebm_mnist:fig60_plot_step",
    "ebm-fig64-plot": "mlreview.figures.ebm_mnist:fig64_plot_step",
    "ebm-fig65-plot": "mlreview.figures.ebm_mnist:fig65_plot_step",
    "ebm-filters-plot": "mlreview.figures.ebm_mnist:filters_plot_step",
    "ebm-free-energy-plot": "mlreview.figures.ebm_mnist:free_energy_plot_step",
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
