"""The layout the Snakemake workflow catalog expects ("standardized usage")."""

import re
import tomllib

import yaml


def test_catalog_file(root):
    catalog = yaml.safe_load((root / ".snakemake-workflow-catalog.yml").read_text())
    usage = catalog["usage"]
    assert set(usage["software-stack-deployment"]) == {"conda", "singularity", "singularity+conda"}
    assert usage["software-stack-deployment"]["conda"] is True
    assert usage["report"] is True
    assert {"desc", "flags"} <= set(usage["mandatory-flags"])


def test_license_matches_pyproject(root):
    license_ = tomllib.loads((root / "pyproject.toml").read_text())["project"]["license"]["text"]
    assert (root / "LICENSE").read_text().splitlines()[0] == f"{license_} License"


def test_config_readme_names_every_config_file(root):
    text = (root / "config" / "README.md").read_text()
    for path in (root / "config").glob("*.yaml"):
        assert f"`{path.name}`" in text, path.name


def test_every_rule_has_a_one_line_docstring(root):
    files = [root / "Snakefile", *sorted((root / "workflow" / "rules").glob("*.smk"))]
    missing = []
    for path in files:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if m := re.match(r"rule (\w+):", line):
                doc = lines[i + 1].strip()
                if not (doc.startswith('"""') and doc.endswith('"""') and len(doc) > 6):
                    missing.append(f"{path.name}: {m.group(1)}")
    assert not missing, missing
