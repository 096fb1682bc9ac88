"""The layout rule of the package: the review's sections are the rooms, and a room never reaches
into another. Every import in ``mlreview.sections.<a>`` (at module level or inside a function)
names ``mlreview.sections.<a>`` itself or a shared layer, never ``mlreview.sections.<b>``; and no
shared layer imports a section."""

from __future__ import annotations

import ast
from pathlib import Path

import mlreview

PACKAGE = Path(mlreview.__file__).parent
SECTIONS = PACKAGE / "sections"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file; ``from a import b`` gives both ``a`` and ``a.b``
    (``b`` may be a submodule)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def section_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["mlreview", "sections"] else None


def test_every_section_is_a_package_named_like_its_rule_file(root):
    rule_files = {p.stem for p in (root / "workflow/rules").glob("*.smk")}
    sections = {p.name for p in SECTIONS.iterdir() if (p / "__init__.py").exists()}
    assert sections <= rule_files, sorted(sections - rule_files)


def test_no_section_imports_another():
    offences = []
    for path in sorted(SECTIONS.rglob("*.py")):
        rel = path.relative_to(SECTIONS)
        if len(rel.parts) < 2:
            continue  # sections/__init__.py
        own = rel.parts[0]
        for line, module in imported_modules(path):
            other = section_of(module)
            if other is not None and other != own:
                offences.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert not offences, "a section imports another section; move what they share into a shared layer:\n" + "\n".join(
        offences)


def test_no_shared_layer_imports_a_section():
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if SECTIONS in path.parents:
            continue
        for line, module in imported_modules(path):
            if section_of(module) is not None:
                offences.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert not offences, "\n".join(offences)


def test_the_check_sees_a_sibling_import(tmp_path):
    """The walk itself: a function-level sibling import is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from mlreview.sections.vae import fits\n")
    assert (2, "mlreview.sections.vae.fits") in imported_modules(bad)
    assert section_of("mlreview.sections.vae.fits") == "vae"
