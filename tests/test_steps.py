"""One name per step: every rule runs the step of its own name, every step is run by a rule, and the
step registry read from the source agrees with the functions the `@step` decorator marks."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re

import mlreview
from mlreview import steps
from mlreview.report.figure_table import BEGIN, END

#: a rule header and the body up to the next top-level statement
RULE = re.compile(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", re.MULTILINE)
#: the rules that run no step
NO_STEP = {"all"}


def rules_and_shells(root) -> dict[str, str]:
    """rule name -> the text of its `shell:` directive, from workflow/rules/*.smk and the Snakefile."""
    found = {}
    for path in [root / "Snakefile", *sorted((root / "workflow/rules").glob("*.smk"))]:
        for name, body in RULE.findall(path.read_text()):
            assert name not in found, f"rule {name} is defined twice"
            shell = re.search(r"^    shell:\n((?:        .*\n)+)", body, re.MULTILINE)
            found[name] = shell.group(1).strip() if shell else ""
    return found


def test_every_rule_runs_the_step_of_its_name_and_every_step_has_a_rule(root):
    rules = rules_and_shells(root)
    not_step = {name: shell for name, shell in rules.items() if name not in NO_STEP and shell != "STEP"}
    assert not not_step, f"rules whose shell is not STEP (the step of the rule's name): {not_step}"
    registered = set(steps.registry())
    assert set(rules) - NO_STEP - registered == set(), "rules without a step"
    assert registered - set(rules) == set(), "steps without a rule"


def test_the_source_scan_agrees_with_the_decorator():
    decorated = {}
    for info in pkgutil.walk_packages(mlreview.__path__, "mlreview."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "__mlreview_step__", False) and obj.__module__ == module.__name__:
                decorated[name] = f"{module.__name__}:{name}"
    assert decorated == steps.registry()


def test_a_step_defined_twice_is_an_error(tmp_path, monkeypatch):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("@step\ndef same(params):\n    pass\n")
    monkeypatch.setattr(steps, "PACKAGE", tmp_path)
    steps.registry.cache_clear()
    try:
        import pytest

        with pytest.raises(RuntimeError, match="step 'same' is defined twice"):
            steps.registry()
    finally:
        monkeypatch.undo()
        steps.registry.cache_clear()


def test_the_figure_table_is_current(root):
    """The table is generated (python -m mlreview.report.figure_table --write docs/figures.md)."""
    from mlreview.report.figure_table import figure_rows, markdown

    text = (root / "docs" / "figures.md").read_text()
    current = text.partition(BEGIN)[2].partition(END)[0].lstrip("\n")
    assert current == markdown(figure_rows(root)), (
        "docs/figures.md's figure table is out of date: run python -m mlreview.report.figure_table --write docs/figures.md")


def test_the_import_scan_finds_what_the_syntax_tree_holds():
    """The conda environment of a rule follows from its step's imports (`uses_torch`), read from the
    import statements alone; every module of the package against its whole syntax tree."""
    paths = sorted(steps.PACKAGE.rglob("*.py"))
    assert len(paths) > 100
    for path in paths:
        module = steps.module_name(path)
        if path.name == "__init__.py":
            module = module.removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        whole_tree = ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        assert steps._imports(module) == steps.imported_names(whole_tree, package=package), path


def test_the_import_scan_reads_every_form_of_import(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mod.py").write_text(
        '"""Prose that reads like an import:\nimport the data, then fit.\n"""\n'
        "import os, sys as system\n"
        "from . import (\n    sibling,  # a comment\n    other,\n)\n"
        "from ..top import \\\n    name\n"
        "def f():\n    if True:\n        import torch.nn as nn\n"
    )
    monkeypatch.setattr(steps, "PACKAGE", tmp_path)
    steps._imports.cache_clear()
    steps._module_path.cache_clear()
    try:
        found = steps._imports("mlreview.sub.mod")
    finally:
        monkeypatch.undo()
        steps._imports.cache_clear()
        steps._module_path.cache_clear()
    assert found == {"os", "sys", "mlreview.sub", "mlreview.sub.sibling", "mlreview.sub.other", "mlreview.top",
                     "mlreview.top.name", "torch.nn"}
