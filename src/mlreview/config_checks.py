"""The configuration is checked once, when the workflow starts, before any job runs.

:func:`validate` checks it against the schema (``workflow/schemas/config.schema.yaml``) and
reports the first problem in a few lines: the key path, what is wrong, the allowed values or
type, and where the key is documented; not the schema and config dumps a raw validation error
prints. :func:`check` then runs the checks the schema cannot express, between keys: names that
must exist, ranges whose low end is below the high end, sizes that must fit the data set, splits
that must leave a test set, and a results folder that is not the file system's root. Every
message names the key. Both raise :class:`ConfigError` (the Snakefile lets it stop the workflow).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlreview.errors import MlreviewError

#: where the keys are documented (config/README.md explains how to change them)
DOCUMENTED = "config/config.yaml (every key commented) and config/README.md"
#: the sizes of the canonical MNIST sets
MNIST_SIZES = {"n_train": 60000, "n_test": 10000}


class ConfigError(MlreviewError):
    """A configuration value the workflow cannot run with; the message names the key."""


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "(the top level)"


def _allowed(schema: Mapping) -> str:
    """What a schema node allows, in words."""
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return f"exactly {schema['const']!r}"
    kind = schema.get("type")
    if kind is None and "$ref" in schema:
        return f"see {schema['$ref'].rsplit('/', 1)[-1]} in the schema"
    words = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
             "array": "a list", "object": "a mapping of keys", "null": "null"}
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    text = " or ".join(words.get(k, k) for k in kinds)
    bounds = [f"{word} {schema[key]}" for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                          ("maximum", "<="), ("exclusiveMaximum", "<"))
              if key in schema]
    return ", ".join(filter(None, [text, *bounds])) or "see the schema"


def describe(error) -> str:
    """One short message for a jsonschema ValidationError."""
    where = list(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        known = ", ".join(sorted(error.schema.get("properties", {})))
        return (f"{_path([*where, extra[0]]) if extra else _path(where)}: unknown key "
                f"{', '.join(repr(e) for e in extra)} (a typo?); the keys allowed here are: {known}")
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{_path([*where, missing])}: the key is missing ('{missing}' is a required property)"
    value = error.instance
    shown = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) < 60 else type(value).__name__
    description = error.schema.get("description")
    allowed = _allowed(error.schema)
    text = f"{_path(where)}: {shown} is not allowed ({error.message.split(' is ')[-1] if ' is ' in error.message else error.message}); it must be {allowed}"
    return text + (f" - {description}" if description else "")


@contextlib.contextmanager
def libyaml_config_files() -> Iterator[None]:
    """Within this, Snakemake reads config files with libyaml's parser. Snakemake reads them through
    yte with PyYAML's pure-Python ``FullLoader`` (0.25 s for config/config.yaml, a tenth of a run with
    nothing to do); libyaml's ``CFullLoader`` builds the same document in 0.03 s. Where PyYAML has no
    libyaml, nothing changes."""
    import yaml

    loader = yaml.FullLoader
    yaml.FullLoader = getattr(yaml, "CFullLoader", loader)
    try:
        yield
    finally:
        yaml.FullLoader = loader


def validate(config: Mapping, schema_file: str | os.PathLike) -> None:
    """Check ``config`` against the schema; raise :class:`ConfigError` with one short message."""
    import yaml
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    # libyaml's parser when PyYAML has it: the same document, several times faster (every
    # Snakemake call, even one with nothing to do, validates the config)
    schema = yaml.load(Path(schema_file).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    validator = Draft202012Validator(schema)
    error = best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(f"Error validating config file: {describe(error)}. Documented in {DOCUMENTED}.")


# --- the checks between keys -------------------------------------------------------------------


def _walk(node: Any, parts: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    yield parts, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, (*parts, key))


def _results(config: Mapping) -> Iterator[str]:
    results = config.get("results")
    if not isinstance(results, str) or not results.strip():
        yield (f"results: {results!r} is empty; it must be the folder that receives every output, a relative "
               "path such as results/small or an absolute one (every output would land in the file system's root)")
    elif os.path.normpath(results.strip()) == os.sep or results.strip().strip("/") == "":
        yield f"results: {results!r} is the file system's root; name a folder (e.g. results)"


def _ranges(config: Mapping) -> Iterator[str]:
    """Every [low, high] pair named *_range, and every {low, high, n} grid, must increase."""
    for parts, node in _walk(config):
        name = str(parts[-1]) if parts else ""
        if name.endswith("_range") and isinstance(node, list) and len(node) == 2 \
                and all(isinstance(v, (int, float)) for v in node) and not node[0] < node[1]:
            yield f"{_path(parts)}: {node} must be [low, high] with low < high"
        if isinstance(node, Mapping) and {"low", "high", "n"} <= set(node) \
                and all(isinstance(node[k], (int, float)) for k in ("low", "high", "n")):
            if node["low"] > node["high"] or (node["n"] > 1 and node["low"] == node["high"]):
                yield (f"{_path(parts)}: low = {node['low']} and high = {node['high']} must satisfy low < high "
                       f"(a grid of n = {node['n']} values from low to high)")


def _polynomial(config: Mapping) -> Iterator[str]:
    section = config.get("polynomial", {})
    known = set(section.get("functions", {}))
    for fig, entry in section.get("figures", {}).items():
        for name in entry.get("functions", []):
            if name not in known:
                yield (f"polynomial.figures.{fig}.functions: {name!r} is not a function of polynomial.functions "
                       f"(defined: {', '.join(sorted(known))})")


def _sizes(config: Mapping) -> Iterator[str]:
    """Sizes that must fit their data set, and splits that must leave a training and a test set."""
    for parts in (("deep_networks", "mnist_dnn"), ("deep_networks", "mnist_cnn"), ("deep_networks", "mnist_optimizers"),
                  ("vae", "mnist")):
        node = config.get(parts[0], {}).get(parts[1], {})
        for key, size in MNIST_SIZES.items():
            if isinstance(node.get(key), int) and node[key] > size:
                yield f"{_path((*parts, key))}: {node[key]} is more than the {size} images of the MNIST {key[2:]} set"
    for parts in (("energy_based", "mnist"), ("energy_based", "exact", "likelihood")):
        node = config
        for p in parts:
            node = node.get(p, {})
        n = node.get("n_images")
        if isinstance(n, int) and n > MNIST_SIZES["n_train"]:
            yield f"{_path((*parts, 'n_images'))}: {n} is more than the {MNIST_SIZES['n_train']} MNIST training images"
        fraction = node.get("train_fraction")
        if isinstance(fraction, (int, float)):
            total = n if isinstance(n, int) else MNIST_SIZES["n_train"]
            yield from _split((*parts, "train_fraction"), fraction, total)
    samples = config.get("ising", {}).get("sampling", {}).get("samples_per_temperature")
    if isinstance(samples, int):
        per_t = config.get("dimensionality_reduction", {}).get("fig51", {}).get("per_temperature")
        if isinstance(per_t, int) and per_t > samples:
            yield (f"dimensionality_reduction.fig51.per_temperature: {per_t} is more than the {samples} states per "
                   "temperature of the Ising data set (ising.sampling.samples_per_temperature)")
        for parts in (("energy_based", "ising"),):
            fraction = config.get(parts[0], {}).get(parts[1], {}).get("train_fraction")
            if isinstance(fraction, (int, float)):
                yield from _split((*parts, "train_fraction"), fraction, samples)
    susy = config.get("susy", {})
    rows = susy.get("uci", {}).get("rows") if susy.get("source") == "uci" else susy.get("toy", {}).get("n_events")
    if isinstance(rows, int):
        source = "susy.uci.rows" if susy.get("source") == "uci" else "susy.toy.n_events"
        for parts, reduce in ((("ensembles", "fig34", "n_events"), None), (("deep_networks", "susy_dnn", "sizes"), max)):
            node = config
            for p in parts:
                node = node.get(p, {}) if isinstance(node, Mapping) else {}
            value = reduce(node) if reduce and isinstance(node, list) and node else node
            if isinstance(value, int) and value > rows:
                yield f"{_path(parts)}: {value} is more than the {rows} SUSY events ({source})"
        # the test rows are the last min(test_rows, test_fraction x events), the training rows the
        # first min(train_rows, the rest): both must hold at least one event
        for parts in (("logistic_regression", "susy"), ("susy", "fig24")):
            node = config.get(parts[0], {}).get(parts[1], {})
            if isinstance(node.get("test_rows"), int) and isinstance(node.get("test_fraction"), (int, float)):
                n_test = min(node["test_rows"], int(node["test_fraction"] * rows))
                n_train = min(node.get("train_rows", rows), rows - n_test)
                if n_test < 1 or n_train < 1:
                    yield (f"{_path(parts)}.test_rows/test_fraction: {rows} SUSY events ({source}) leave {n_train} "
                           f"training and {n_test} test events; both sets need at least one")


def _split(parts: tuple, fraction: float, total: int) -> Iterator[str]:
    n_train = int(round(fraction * total))
    if n_train < 1 or n_train > total - 1:
        yield (f"{_path(parts)}: {fraction} of {total} leaves {n_train} training and {total - n_train} test rows; "
               "both sets need at least one")


CHECKS = (_results, _ranges, _polynomial, _sizes)


def problems(config: Mapping) -> list[str]:
    """Every cross-key problem of ``config`` (empty when none)."""
    return [message for check in CHECKS for message in check(config)]


def check(config: Mapping) -> None:
    """Raise :class:`ConfigError` listing every cross-key problem of ``config``."""
    found = problems(config)
    if found:
        lines = "\n".join(f"  - {message}" for message in found)
        raise ConfigError(f"the config has {len(found)} problem(s):\n{lines}\nDocumented in {DOCUMENTED}.")
