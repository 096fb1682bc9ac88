"""The scorecard's judgement of claims, on a made-up registry and metrics."""


import pytest
import yaml

from mlreview.cli import run_step
from mlreview.errors import MlreviewError
from mlreview.io import save_json
from mlreview.report.claims import (
    Claim,
    RegistryError,
    check,
    evaluate,
    figure_key,
    load_registry,
    lookup,
    within,
)
from mlreview.report.scorecard import read_csv

METRICS = {
    "x_break": {"median": 1.04},
    "eta_0.5": {"oscillates": False, "factor": -1.02},
    "frac": 0.8,
    "ok": True,
}


def claim(**kw):
    base = dict(id="C99", figure=1, statement="s", metrics="fig01", quantity="q", value="frac")
    return Claim.from_dict({**base, **kw})


def test_lookup_paths_and_errors():
    assert lookup(METRICS, "x_break/median") == 1.04
    assert lookup(METRICS, "eta_0.5/factor") == -1.02
    assert lookup({"a": [5, 6]}, "a/1") == 6
    with pytest.raises(KeyError, match="x_break/mean"):
        lookup(METRICS, "x_break/mean")


def test_tolerance_kinds():
    assert within(1.04, 1.05, {"value": 0.03, "kind": "absolute"})
    assert not within(1.10, 1.05, {"value": 0.03, "kind": "absolute"})
    assert within(105, 100, {"value": 0.05, "kind": "relative"})
    assert within(3e-3, 1e-3, {"value": 0.5, "kind": "log10"})
    assert not within(3e-2, 1e-3, {"value": 0.5, "kind": "log10"})
    assert within(1.0, 1.0, None) and not within(1.0 + 1e-9, 1.0, None)


@pytest.mark.parametrize(
    "kw, value, expected",
    [
        (dict(comparison="approx", review_value=1.05, tolerance={"value": 0.03, "kind": "absolute"}), 1.04, True),
        (dict(comparison="approx", review_value=1.05, tolerance={"value": 0.03, "kind": "absolute"}), 1.2, False),
        (dict(comparison="at_least", target=0.5), 0.8, True),
        (dict(comparison="at_least", target=0.9), 0.8, False),
        (dict(comparison="at_most", target=0.9), 0.8, True),
        (dict(comparison="exact"), True, True),
        (dict(comparison="exact"), False, False),
        (dict(comparison="exact", target=-1.02, tolerance={"value": 1e-12, "kind": "absolute"}), -1.02, True),
        (dict(comparison="qualitative"), True, True),
        (dict(comparison="qualitative", proxy={"at_least": 0.5}), 0.8, True),
        (dict(comparison="qualitative", proxy={"at_most": 0.5}), 0.8, False),
        (dict(comparison="approx", review_value=1.0, tolerance={"value": 1, "kind": "absolute"}), None, False),
    ],
)
def test_check(kw, value, expected):
    assert check(claim(**kw), value) is expected


def test_statuses_and_evidence():
    row = evaluate(claim(comparison="approx", value="x_break/median", review_value=1.05,
                         tolerance={"value": 0.03, "kind": "absolute"},
                         evidence="median {m[x_break][median]:.2f}"), METRICS)
    assert row["status"] == "pass" and row["reproduced_value"] == "1.04"
    assert row["evidence"] == "holds. median 1.04" and row["tolerance"] == "±0.03 of 1.05"
    assert evaluate(claim(comparison="at_least", target=0.9), METRICS)["status"] == "fail"
    row = evaluate(claim(comparison="qualitative", proxy={"at_least": 0.5}), METRICS)
    assert row["status"] == "qualitative" and row["evidence"].startswith("proxy (project choice) holds")
    assert evaluate(claim(comparison="qualitative", proxy={"at_least": 0.9}), METRICS)["status"] == "fail"
    assert evaluate(claim(comparison="exact", value="ok"), None)["status"] == "not_run"


def test_expected_disagreement_is_reported_not_hidden():
    c = claim(comparison="qualitative", value="eta_0.5/oscillates", expected="disagree", reason="eta=eta_opt")
    row = evaluate(c, METRICS)
    assert row["status"] == "fail"
    assert row["reproduced_value"] == "false"
    assert "does not reproduce (known disagreement: eta=eta_opt)" in row["evidence"]
    # a numeric claim expected to disagree still fails when it fails
    c = claim(comparison="at_least", target=0.9, expected="disagree", reason="r")
    assert evaluate(c, METRICS)["status"] == "fail"


def test_claim_on_other_data_is_not_run():
    c = claim(comparison="at_least", target=0.5, requires={"source": "uci"})
    row = evaluate(c, {**METRICS, "source": "toy"})
    assert row["status"] == "not_run"
    assert "needs source = uci (this run: source = toy)" in row["evidence"]
    assert evaluate(c, {**METRICS, "source": "uci"})["status"] == "pass"


def test_registry_errors():
    with pytest.raises(RegistryError, match="comparison"):
        claim(comparison="roughly")
    with pytest.raises(RegistryError, match="needs a tolerance"):
        claim(comparison="approx", review_value=1.0)
    with pytest.raises(RegistryError, match="unknown fields"):
        claim(comparison="exact", colour="red")
    with pytest.raises(RegistryError, match="needs a 'reason'"):
        claim(comparison="exact", expected="disagree")
    with pytest.raises(RegistryError, match="evidence template"):
        evaluate(claim(comparison="exact", value="ok", evidence="{m[nope]}"), METRICS)


def test_scorecard_step(tmp_path):
    section = tmp_path / "s.yaml"
    section.write_text(yaml.safe_dump({
        "figures": [{"number": 1, "title": "t", "section": "II", "kind": "compute", "metrics": "fig01",
                     "caption": "c"}],
        "claims": [
            dict(id="C02", figure=1, statement="s", metrics="fig01", quantity="q", value="ok", comparison="exact"),
            dict(id="C01", figure=1, statement="s", metrics="fig01", quantity="q", value="frac",
                 comparison="at_least", target=0.5),
            dict(id="C03", figure=2, statement="s", metrics="fig02", quantity="q", value="ok", comparison="exact"),
        ],
    }))
    save_json(tmp_path / "fig01.json", {"metrics": METRICS, "provenance": {}})
    run_step("scorecard", {}, inputs={"sections": [section], "metrics": [tmp_path / "fig01.json"]},
             outputs={"csv": tmp_path / "sc.csv", "md": tmp_path / "sc.md"})
    rows = read_csv(tmp_path / "sc.csv")
    assert [r["claim_id"] for r in rows] == ["C01", "C02", "C03"]
    assert [r["status"] for r in rows] == ["pass", "pass", "not_run"]
    assert list(rows[0]) == ["claim_id", "figure", "quantity", "review_value", "reproduced_value", "tolerance",
                             "status", "evidence"]
    assert "pass 2, fail 0, qualitative 0, not_run 1" in (tmp_path / "sc.md").read_text()


def test_project_registry_is_valid(root):
    figures, claims = load_registry(sorted((root / "workflow/report/sections").glob("*.yaml")))
    assert figures and claims
    keys = {figure_key(f) for f in figures}
    for c in claims:
        assert str(c.figure) in keys, f"{c.id} belongs to an unregistered figure {c.figure}"
    for f in figures:
        assert {"title", "section", "kind", "metrics", "caption"} <= set(f), f
        assert f.get("number") is not None or f.get("name"), f
        assert f["kind"] in ("compute", "analytic")


def test_report_flags_fits_that_did_not_converge():
    from mlreview.report.html import render, unconverged

    metrics = {"a": {"lam_1": {"convergence": {"converged": False}}, "lam_2": {"convergence": {"converged": True}}},
               "b": {"convergence_warning": True, "n": 3}, "liblinear": {"convergence_warnings": 2},
               "sgd": {"convergence_warnings": 0}}
    assert unconverged(metrics) == ["a/lam_1/convergence", "b", "liblinear/convergence_warnings = 2"]
    assert unconverged({"converged": True, "x": {"convergence_warning": False}}) == []
    fig = {"number": 23, "title": "t", "section": "VII", "kind": "compute", "metrics": "fig23", "caption": "c"}
    page = render([fig], [], {}, {"fig23": {"metrics": metrics}}, [], [], {})
    assert "Not converged" in page and "a/lam_1/convergence" in page and "3 fit(s) not converged" in page


def test_scorecard_of_one_figure(tmp_path):
    """`figures` keeps the claims about those figures only (results/scorecards/<figure>.csv)."""
    section = tmp_path / "s.yaml"
    section.write_text(yaml.safe_dump({"claims": [
        dict(id="C01", figure=1, statement="s", metrics="fig01", quantity="q", value="ok", comparison="exact"),
        dict(id="C02", figure="ising_validation", statement="s", metrics="val", quantity="q", value="ok",
             comparison="exact"),
    ]}))
    save_json(tmp_path / "fig01.json", {"metrics": METRICS, "provenance": {}})
    run_step("figure_scorecard", {"figures": ["1"]}, inputs={"sections": [section], "metrics": [tmp_path / "fig01.json"]},
             outputs={"csv": tmp_path / "sc.csv", "md": tmp_path / "sc.md"})
    assert [(r["claim_id"], r["status"]) for r in read_csv(tmp_path / "sc.csv")] == [("C01", "pass")]
    with pytest.raises(MlreviewError, match="no registered claim is about figure"):
        run_step("figure_scorecard", {"figures": ["99"]}, inputs={"sections": [section], "metrics": []},
                 outputs={"csv": tmp_path / "sc.csv", "md": tmp_path / "sc.md"})
