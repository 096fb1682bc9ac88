"""The whole DAG on the small config, in a temporary copy of the project; plus lint."""

import json
import subprocess

import pytest
import yaml

from mlreview.report.claims import figure_stem, load_datasets, load_registry
from mlreview.report.scorecard import read_csv

@pytest.mark.workflow
def test_small_dag_builds_every_output(small_run):
    work, seconds = small_run
    results = work / yaml.safe_load((work / "config/small.yaml").read_text())["results"]
    figures, claims = load_registry(sorted((work / "workflow/report/sections").glob("*.yaml")))
    for fig in figures:
        for ext in ("pdf", "png"):
            path = results / "figures" / f"{figure_stem(fig)}.{ext}"
            assert path.stat().st_size > 1000, path
        metrics = results / "metrics" / f"{fig['metrics']}.json"
        assert metrics.exists(), metrics
    for entry in load_datasets(sorted((work / "workflow/report/sections").glob("*.yaml"))):
        assert (results / "metrics" / f"{entry['metrics']}.json").exists(), entry
    for name in ("scorecard.csv", "scorecard.md", "report.html"):
        assert (results / name).exists(), name
    rows = read_csv(results / "scorecard.csv")
    assert {r["claim_id"] for r in rows} == {c.id for c in claims}
    # A fail is allowed only where the registry documents the disagreement (expected: disagree,
    # with its reason); not_run only for claims about data this run does not use (SUSY stand-in).
    documented = {(c.id, c.quantity) for c in claims if c.expected == "disagree"}
    failed = [f"{r['claim_id']}: {r['evidence']}" for r in rows
              if (r["status"] == "fail" and (r["claim_id"], r["quantity"]) not in documented)
              or (r["status"] == "not_run" and "not checkable with this run" not in r["evidence"])]
    assert not failed, failed
    # the generated Ising data pass their physics checks (exact energies, Onsager, signs, spacing)
    validation = json.loads((results / "metrics" / "ising_validation.json").read_text())["metrics"]
    for flag in ("all_z_ok", "onsager_ok", "sign_ok", "spacing_ok"):
        assert validation[flag], (flag, validation["table"])
    html = (results / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(figures)
    print(f"small DAG: {seconds:.1f} s")


@pytest.mark.workflow
def test_second_run_does_nothing(small_run, env_with_venv):
    work, _ = small_run
    proc = subprocess.run(
        ["snakemake", "-n", "--cores", "2", "--configfile", "config/small.yaml"],
        cwd=work, env=env_with_venv, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr



@pytest.mark.workflow
def test_snakemakes_report_files_figures_under_their_sections(small_run, env_with_venv):
    """`snakemake --report` on the small results, for two figures (the whole report costs about a
    CPU-minute): each a report item in the category of its section, with its caption."""
    from mlreview.report.native import category, kind

    work, _ = small_run
    results = yaml.safe_load((work / "config/small.yaml").read_text())["results"]
    figures, _ = load_registry(sorted((work / "workflow/report/sections").glob("*.yaml")))
    chosen = [next(f for f in figures if f.get("number") == 21), next(f for f in figures if f.get("number") is None)]
    out = work / results / "snakemake-report-two.html"
    targets = [f"{results}/figures/{figure_stem(f)}.png" for f in chosen]
    proc = subprocess.run(["snakemake", "--report", str(out), *targets, "--configfile", "config/small.yaml"],
                          cwd=work, env=env_with_venv, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    items, categories = report_data(out.read_text())
    for fig, target in zip(chosen, targets):
        assert target in categories[category(fig["section"])][kind(fig)], target
        assert fig["caption"].split()[0] in items[target]["caption"], target


def report_data(text: str) -> tuple[dict, dict]:
    """The items and the categories that a report of Snakemake carries as JSON in its page."""
    import re

    decoder = json.JSONDecoder()

    def var(name):
        start = [m.end() for m in re.finditer(rf"\bvar {name} = (?=\{{)", text)][-1]
        return decoder.raw_decode(text, start)[0]

    return var("results"), var("categories")

def test_paper_dry_run_lists_every_job(root, env_with_venv, paper_config):
    proc = subprocess.run(["snakemake", "-n", "--nolock", "--cores", "2", "--forceall"],
                          cwd=root, env=env_with_venv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    sections = sorted((root / "workflow/report/sections").glob("*.yaml"))
    figures, _ = load_registry(sections)
    out = proc.stdout + proc.stderr
    results = paper_config["results"]
    wanted = [f"{results}/figures/{figure_stem(f)}.pdf" for f in figures]
    wanted += [f"{results}/metrics/{d['metrics']}.json" for d in load_datasets(sections)]
    wanted += [f"{results}/scorecard.csv", f"{results}/report.html"]
    wanted += [f"{results}/ising/ising2d_T{t:.2f}.npz" for t in paper_config["ising"]["sampling"]["temperatures"]]
    missing = [w for w in wanted if w not in out]
    assert not missing, missing


def test_lint_and_format_are_clean(root, env_with_venv):
    lint = subprocess.run(["snakemake", "--lint"], cwd=root, env=env_with_venv, capture_output=True, text=True,
                          timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Lints for" not in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    fmt = subprocess.run(["snakefmt", "--check", "Snakefile", "workflow"], cwd=root, env=env_with_venv,
                         capture_output=True, text=True, timeout=300)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.workflow
def test_changing_a_plot_setting_reruns_only_the_plot(small_run, env_with_venv):
    work, _ = small_run
    override = work / "plot_override.yaml"
    override.write_text(yaml.safe_dump({"gradient_descent": {"fig07": {"plot": {"contour_levels": 7}}}}))
    proc = subprocess.run(
        ["snakemake", "-n", "--cores", "2", "--configfile", "config/small.yaml", str(override)],
        cwd=work, env=env_with_venv, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "fig07_plot" in out
    assert "gradient_descent_quadratic" not in out, out
    assert "polynomial_fit" not in out and "shrinkage_compute" not in out


def test_bare_snakemake_runs_its_own_python_without_activation(tmp_path):
    """`.venv/bin/snakemake ...` without activating the environment: no python on PATH, and the
    steps still run (they call the interpreter Snakemake runs under)."""
    import os
    import sys

    from tests.conftest import BIN, copy_project

    work = copy_project(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = "/usr/bin:/bin"
    found = subprocess.run(["bash", "-c", "command -v python || true"], env=env, capture_output=True, text=True)
    assert not found.stdout.strip() or os.path.realpath(found.stdout.strip()) != os.path.realpath(sys.executable)
    proc = subprocess.run([str(BIN / "snakemake"), "--cores", "1", "results/report/captions"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (work / "results/report/captions/fig21.rst").stat().st_size > 100
