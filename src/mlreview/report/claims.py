"""The claim registry and how a claim is judged against the measured metrics.

The registry is the set of YAML files in ``workflow/report/sections/``; each holds the
``figures`` and ``claims`` of one part of the review (format in docs/scorecard.md). A claim
points at a value in a metrics file by a '/'-separated key path and says how to
compare it with the review:

- ``approx``: ``|value - target| <= tolerance`` (absolute, relative, or log10 decades);
- ``at_least`` / ``at_most``: ``value >= target`` / ``value <= target``;
- ``exact``: a boolean value must be true; a number must equal ``target`` within
  the tolerance (0 by default);
- ``qualitative``: a project proxy (a boolean value, or the value against a
  ``proxy`` threshold) decides; the status is ``qualitative`` with the evidence in
  words when the proxy holds, ``fail`` when it does not.

Whatever the spec expects, a claim whose check does not hold is ``fail``.

A claim known not to reproduce (``expected: disagree``: the spec expects it, or this
project found and explained it) keeps its measured value and status, and its
``reason`` is printed with the evidence; it never makes a failing check pass.

A claim about particular data (``requires: {source: uci}``: metric path -> value)
is ``not_run`` when the run used other data (e.g. the SUSY stand-in): its check would
say nothing about the review's statement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

COMPARISONS = ("approx", "at_least", "at_most", "exact", "qualitative")
TOLERANCE_KINDS = ("absolute", "relative", "log10")
STATUSES = ("pass", "fail", "qualitative", "not_run")
COLUMNS = (
    "claim_id",
    "figure",
    "quantity",
    "review_value",
    "reproduced_value",
    "tolerance",
    "status",
    "evidence",
)


class RegistryError(ValueError):
    """A claim or figure entry of the registry is malformed."""


@dataclass(frozen=True)
class Claim:
    id: str
    figure: int | str
    statement: str
    metrics: str
    quantity: str
    value: str
    comparison: str
    review_value: Any = None
    target: Any = None
    tolerance: dict | None = None
    proxy: dict | None = None
    evidence: str = ""
    expected: str = "agree"
    reason: str = ""
    requires: dict | None = None
    source: str = field(default="", compare=False)

    @classmethod
    def from_dict(cls, entry: dict, source: str = "") -> Claim:
        where = f"{source}: claim {entry.get('id', '?')}"
        known = set(cls.__dataclass_fields__) - {"source"}
        unknown = set(entry) - known
        if unknown:
            raise RegistryError(f"{where}: unknown fields {sorted(unknown)}")
        for key in ("id", "figure", "statement", "metrics", "quantity", "value", "comparison"):
            if entry.get(key) in (None, ""):
                raise RegistryError(f"{where}: field {key!r} is required")
        claim = cls(**entry, source=source)
        claim.check(where)
        return claim

    def check(self, where: str) -> None:
        if self.comparison not in COMPARISONS:
            raise RegistryError(f"{where}: comparison must be one of {COMPARISONS}")
        if self.expected not in ("agree", "disagree"):
            raise RegistryError(f"{where}: expected must be 'agree' or 'disagree'")
        if self.expected == "disagree" and not self.reason:
            raise RegistryError(f"{where}: a claim expected to disagree needs a 'reason'")
        if self.tolerance is not None:
            if set(self.tolerance) != {"value", "kind"} or self.tolerance["kind"] not in TOLERANCE_KINDS:
                raise RegistryError(f"{where}: tolerance must be {{value, kind}} with kind in {TOLERANCE_KINDS}")
        if self.comparison in ("approx", "at_least", "at_most") and self.reference is None:
            raise RegistryError(f"{where}: {self.comparison} needs a numeric target or review_value")
        if self.comparison == "approx" and self.tolerance is None:
            raise RegistryError(f"{where}: approx needs a tolerance")
        if self.proxy is not None:
            if self.comparison != "qualitative" or len(self.proxy) != 1 or not set(self.proxy) <= {
                "at_least",
                "at_most",
            }:
                raise RegistryError(f"{where}: proxy is {{at_least: x}} or {{at_most: x}}, qualitative claims only")

    @property
    def reference(self) -> float | None:
        ref = self.target if self.target is not None else self.review_value
        return ref if isinstance(ref, (int, float)) and not isinstance(ref, bool) else None


def figure_stem(entry: dict) -> str:
    """File stem of a registered figure: ``fig07`` for review figure 7, else its ``name``."""
    if entry.get("number") is not None:
        return f"fig{int(entry['number']):02d}"
    if entry.get("name"):
        return str(entry["name"])
    raise RegistryError(f"figure entry needs a review 'number' or a project 'name': {entry}")


def figure_key(entry: dict) -> str:
    """How claims refer to a figure: the review number as text, or the project name."""
    return str(entry["number"]) if entry.get("number") is not None else str(entry["name"])


def figure_order(entry: dict) -> tuple[int, int, str]:
    """Review figures by number first, then project figures by name."""
    number = entry.get("number")
    return (0, int(number), "") if number is not None else (1, 0, str(entry.get("name")))


def load_datasets(paths: list[Path]) -> list[dict]:
    """The ``datasets`` entries of every section file (name, title, metrics, description)."""
    datasets: list[dict] = []
    for path in paths:
        datasets += (yaml.safe_load(Path(path).read_text()) or {}).get("datasets", [])
    return datasets


def load_registry(paths: list[Path]) -> tuple[list[dict], list[Claim]]:
    """Figures and claims of every section file.

    A claim may have several entries (one per measured quantity, e.g. C50 checks the
    derivatives of several functions); each (id, value) pair must be unique.
    """
    figures: list[dict] = []
    claims: list[Claim] = []
    for path in paths:
        entry = yaml.safe_load(Path(path).read_text()) or {}
        figures += entry.get("figures", [])
        claims += [Claim.from_dict(c, source=str(path)) for c in entry.get("claims", [])]
    seen: set[tuple[str, str]] = set()
    for claim in claims:
        if (claim.id, claim.value) in seen:
            raise RegistryError(f"claim {claim.id} is registered twice for {claim.value!r}")
        seen.add((claim.id, claim.value))
    stems = [figure_stem(f) for f in figures]
    if len(stems) != len(set(stems)):
        raise RegistryError(f"a figure is registered twice: {sorted(stems)}")
    return sorted(figures, key=figure_order), sorted(claims, key=lambda c: _claim_order(c.id))


def _claim_order(claim_id: str) -> tuple[int, str]:
    digits = "".join(ch for ch in claim_id if ch.isdigit())
    return (int(digits) if digits else 0, claim_id)


def lookup(metrics: dict, path: str) -> Any:
    """The value at a '/'-separated key path; a clear KeyError names the missing part."""
    node: Any = metrics
    walked = []
    for key in path.split("/"):
        walked.append(key)
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.lstrip("-").isdigit():
            node = node[int(key)]
        else:
            raise KeyError(f"metrics have no {'/'.join(walked)!r} (looking up {path!r})")
    return node


def within(value: float, target: float, tolerance: dict | None) -> bool:
    tol = 0.0 if tolerance is None else float(tolerance["value"])
    kind = "absolute" if tolerance is None else tolerance["kind"]
    if kind == "absolute":
        return abs(value - target) <= tol
    if kind == "relative":
        return abs(value - target) <= tol * abs(target)
    if value <= 0 or target <= 0:
        return False
    return abs(math.log10(value) - math.log10(target)) <= tol


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check(claim: Claim, value: Any) -> bool:
    """True when the measured value satisfies the claim's comparison (or proxy)."""
    comparison = claim.comparison
    if comparison == "qualitative":
        if claim.proxy is None:
            if not isinstance(value, bool):
                raise RegistryError(f"{claim.id}: a qualitative claim without a proxy needs a boolean value")
            return value
        (kind, threshold), = claim.proxy.items()
        if not _is_number(value):
            return False
        return value >= threshold if kind == "at_least" else value <= threshold
    if comparison == "exact" and isinstance(value, bool):
        return value
    if not _is_number(value):
        return False
    ref = claim.reference
    if comparison == "exact":
        return within(value, ref if ref is not None else 0.0, claim.tolerance)
    if comparison == "approx":
        return within(value, ref, claim.tolerance)
    slack = 0.0 if claim.tolerance is None else float(claim.tolerance["value"])
    if comparison == "at_least":
        return value >= ref - slack
    return value <= ref + slack


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_tolerance(claim: Claim) -> str:
    if claim.comparison == "qualitative":
        if claim.proxy:
            (kind, threshold), = claim.proxy.items()
            return f"proxy {'≥' if kind == 'at_least' else '≤'} {threshold:g}"
        return "proxy must hold"
    if claim.comparison == "exact" and claim.tolerance is None:
        return "must hold" if claim.reference is None else "exact"
    ref = claim.reference
    if claim.comparison in ("at_least", "at_most"):
        sign = "≥" if claim.comparison == "at_least" else "≤"
        return f"{sign} {ref:g}"
    tol = claim.tolerance or {"value": 0, "kind": "absolute"}
    unit = {"absolute": "", "relative": " (relative)", "log10": " decades"}[tol["kind"]]
    target = "" if ref is None else f" of {ref:g}"
    return f"±{float(tol['value']):g}{unit}{target}"


def evaluate(claim: Claim, metrics: dict | None) -> dict[str, str]:
    """One scorecard row for ``claim`` given the metrics dict (``None`` = not run)."""
    row = {
        "claim_id": claim.id,
        "figure": str(claim.figure),
        "quantity": claim.quantity,
        "review_value": format_value(claim.review_value),
        "tolerance": format_tolerance(claim),
    }
    if metrics is None:
        return {**row, "reproduced_value": "—", "status": "not_run", "evidence": f"no metrics file {claim.metrics}.json"}
    unmet = {path: want for path, want in (claim.requires or {}).items() if lookup(metrics, path) != want}
    if unmet:
        got = ", ".join(f"{path} = {lookup(metrics, path)}" for path in unmet)
        wanted = ", ".join(f"{path} = {want}" for path, want in unmet.items())
        return {**row, "reproduced_value": "—", "status": "not_run",
                "evidence": f"not checkable with this run: the claim needs {wanted} (this run: {got})"}
    value = lookup(metrics, claim.value)
    try:
        evidence = claim.evidence.format_map({"m": metrics}) if claim.evidence else ""
    except (KeyError, IndexError, ValueError, TypeError) as err:
        raise RegistryError(f"{claim.id}: evidence template cannot be filled: {err!r}") from err
    holds = check(claim, value)
    if claim.comparison == "qualitative":
        label = "proxy (project choice) holds" if holds else "proxy (project choice) does not hold"
        status = "qualitative" if holds else "fail"
    else:
        label = "holds" if holds else "does not hold"
        status = "pass" if holds else "fail"
    if claim.expected == "disagree":
        label = (
            f"does not reproduce (known disagreement: {claim.reason})"
            if not holds
            else f"reproduces although a disagreement was expected ({claim.reason})"
        )
    evidence = f"{label}. {evidence}".strip() if evidence else label
    return {**row, "reproduced_value": format_value(value), "status": status, "evidence": evidence}
