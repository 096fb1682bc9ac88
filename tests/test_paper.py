"""Checks on the paper-scale results (run `make paper` first, then `make test-paper`).

Not part of `make test` / CI: they need the results of the full paper configuration.
"""

import pytest
import yaml

from mlreview.io import load_json
from mlreview.report.claims import load_registry
from mlreview.report.scorecard import read_csv

pytestmark = pytest.mark.paper


@pytest.fixture(scope="module")
def results(root, paper_config):
    folder = root / paper_config["results"]
    if not (folder / "scorecard.csv").exists():
        pytest.fail(f"no paper results in {folder}: run `make paper` first")
    return folder


def test_paper_results_are_complete_and_no_claim_fails(root, results):
    figures, claims = load_registry(sorted((root / "workflow/report/sections").glob("*.yaml")))
    for fig in figures:
        assert (results / "figures" / f"fig{fig['number']:02d}.pdf").exists()
    rows = read_csv(results / "scorecard.csv")
    assert {r["claim_id"] for r in rows} == {c.id for c in claims}
    bad = [f"{r['claim_id']}: {r['evidence']}" for r in rows if r["status"] in ("fail", "not_run")]
    assert not bad, bad


def test_paper_metrics_were_made_with_the_paper_config(root, results, paper_config):
    """Every metrics file records the params it was computed with; they must be the paper ones."""
    poly = paper_config["polynomial"]
    for fig, own in poly["figures"].items():
        params = load_json(results / "metrics" / f"{fig}.json")["provenance"]["params"]
        assert params["repetitions"] == own["repetitions"] and params["n_train"] == own["n_train"], fig
    params = load_json(results / "metrics" / "fig09.json")["provenance"]["params"]
    assert params == yaml.safe_load(yaml.safe_dump(paper_config["gradient_descent"]["fig09"]))
