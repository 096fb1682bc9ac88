"""Command line entry point: every workflow step is one call of this program.

A Snakemake rule runs exactly one step, the function of the rule's name (:mod:`mlreview.steps`),
and the same line runs it by hand::

    python -m mlreview polynomial_fit \\
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
import sys
import time
from pathlib import Path

from mlreview.errors import MlreviewError
from mlreview.runtime import prepare
from mlreview.steps import registry

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
    steps = registry()
    try:
        target = steps[step]
    except KeyError:
        known = ", ".join(sorted(steps))
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
    from mlreview.io import current_step, save_json
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
    token = current_step.set(step)  # every .npz it writes records its writer
    try:
        metrics = func(params, **kwargs)
    finally:
        current_step.reset(token)
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
        for name, target in sorted(registry().items()):
            print(f"{name:32s} {target}")
        return 0
    # Thread counts (and numba's cache folder) must be fixed before numpy/torch/numba are
    # imported by the step module.
    prepare(args.threads)
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
