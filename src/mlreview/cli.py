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
git commit, wall time). ``python -m mlreview list`` prints every step with one line about it,
``python -m mlreview STEP --help`` its docstring, inputs, outputs and params, ``--version`` the
package's version. Neither imports a step's module: they read the source (:mod:`mlreview.steps`).
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

from mlreview import __version__
from mlreview.errors import MlreviewError
from mlreview.runtime import prepare
from mlreview.steps import describe, registry, summary

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
    return _load_json(text, "--params")


def _load_json(text: str, option: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise StepError(f"{option} is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise StepError(f"{option} must be a JSON object")
    return value


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
        description="Run one step of the mlreview workflow. `python -m mlreview list` lists the steps, "
        "`python -m mlreview STEP --help` describes one.",
        add_help=False,
    )
    parser.add_argument("step", nargs="?", help="step name, or 'list'")
    parser.add_argument("--input", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--output", nargs="*", default=[], metavar="NAME=PATH")
    parser.add_argument("--params", default=None, help="JSON object, or @file.json")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--figure-style", default=None, metavar="JSON",
                        help="the config's figure_style (plot steps), e.g. '{\"pdf_fonttype\": 3}'")
    parser.add_argument("-h", "--help", action="store_true", help="this help, or a step's (STEP --help)")
    parser.add_argument("--version", action="version", version=f"mlreview {__version__}")
    return parser


def _print(lines: list[str]) -> int:
    """Print ``lines``; a reader that stops early (``| head``) ends the output quietly."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that no second error follows
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def list_lines() -> list[str]:
    """One line per step: its name and the first line of its docstring."""
    steps = sorted(registry())
    width = max(map(len, steps), default=0)
    return [f"{name:{width}s}  {summary(name)}" for name in steps]


def _wrap(text: str, indent: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ") or [indent]


def help_lines(step: str) -> list[str]:
    """What ``python -m mlreview STEP --help`` prints (read from the source, nothing imported)."""
    if step not in registry():
        raise StepError(f"unknown step {step!r}; `python -m mlreview list` lists the steps")
    info = describe(step)
    files, rule_in, rule_out = info["files"], info["rule_inputs"], info["rule_outputs"]
    outputs = [n for n in rule_out if n in files or n == METRICS]
    inputs = [n for n in files if n not in outputs]
    usage = f"usage: python -m mlreview {step}"
    if inputs:
        usage += " --input " + " ".join(f"{n}=PATH" for n in inputs)
    if outputs or not info["rule"]:
        usage += " --output " + " ".join(f"{n}=PATH" for n in outputs or ["NAME"])
    usage += " --params JSON" + (" [--threads N]" if info["threads"] else "")
    lines = [usage, "", *info["doc"].splitlines(), ""]
    lines.append(f"function: {info['target']}")
    if info["module_summary"]:
        lines += _wrap(f"module:   {info['module_summary']}", "")
    if info["rule"] is not None:
        path, block = info["rule"]
        doc = block.strip().splitlines()[0].strip().strip('"')
        lines += _wrap(f"rule:     {step} ({path.parent.parent.name}/{path.parent.name}/{path.name}): {doc}", "")

    def entry(name: str, rule_side: dict) -> list[str]:
        spec = files.get(name)
        kind = (spec["annotation"] or "path (or a list of paths)") if spec else "JSON"
        note = " (optional)" if spec and spec["optional"] else ""
        if name == METRICS and spec is None:
            note += " - the numbers the step returns, written by this program with their provenance"
        text = f"{name:14s} {kind}{note}"
        if name in rule_side:
            text += f"; the rule gives {rule_side[name]}"
        return _wrap(text, "  ")

    if info["rule"] is None and files:
        lines += ["", "files (--input/--output NAME=PATH):"]
        for name in files:
            lines += entry(name, {})
    else:
        if inputs:
            lines += ["", "inputs (--input NAME=PATH; a name given several times arrives as a list):"]
            for name in inputs:
                lines += entry(name, rule_in)
        if outputs:
            lines += ["", "outputs (--output NAME=PATH):"]
            for name in outputs:
                lines += entry(name, rule_out)
    lines += ["", "params (--params JSON object, or @file.json):"]
    if info["rule_params"].get("json"):
        lines += _wrap(f"the rule gives {info['rule_params']['json']}", "  ")
    elif info["rule"] is not None:
        lines.append("  the rule gives none ({})")
    if info["params_keys"]:
        lines += _wrap("keys the function reads itself: " + ", ".join(info["params_keys"]), "  ")
    if info["threads"]:
        lines += ["", "threads (--threads N): the number of threads the step may use (default 1)"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.help or args.step is None:
        if args.step is None or args.step == "list":
            return _print(parser.format_help().splitlines()) if args.help else parser.error("name a step, or 'list'")
        try:
            return _print(help_lines(args.step))
        except MlreviewError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.step == "list":
        return _print(list_lines())
    # Thread counts (and numba's cache folder) must be fixed before numpy/torch/numba are
    # imported by the step module.
    prepare(args.threads)
    # Progress printed by libraries (openTSNE, scikit-learn's workers) reaches the job's log as it
    # happens, not when a buffer fills.
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # matplotlib's PDF backend logs every font subset at INFO; keep the step logs readable.
    for noisy in ("fontTools", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.figure_style is not None:
            from mlreview.figures.style import configure

            configure(_load_json(args.figure_style, "--figure-style"))
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
