"""The steps of the workflow: one function per Snakemake rule, with the rule's name.

A step is a function of the package marked with :func:`step`::

    @step
    def ising_logistic_fit(params, *, dataset, data):
        ...

``snakemake ... ising_logistic_fit`` runs ``python -m mlreview ising_logistic_fit ...``, which calls
this function. The registry is derived from the source: :func:`registry` finds every ``@step``
function by reading the package's files, without importing them (importing a section imports
torch or scikit-learn; a step imports only its own module). ``tests/test_steps.py`` checks that
the text scan and the decorator agree, that every rule's command names a registered step and that
every step is run by a rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

#: ``@step`` on its own line, possibly under other decorators' lines, then ``def NAME(``
_STEP = re.compile(r"^@step[ \t]*\n(?:@.*\n)*def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)


def step(func: Callable) -> Callable:
    """Mark ``func`` as the step of the rule of the same name (see the module docstring)."""
    func.__mlreview_step__ = True
    return func


def module_name(path: Path) -> str:
    """``mlreview.sections.vae.fits`` for ``.../mlreview/sections/vae/fits.py``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("mlreview", *parts))


@functools.cache
def registry() -> dict[str, str]:
    """Step name -> ``"module:function"`` of every ``@step`` function in the package."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "@step" not in text:
            continue
        module = module_name(path)
        for name in _STEP.findall(text):
            if name in found:
                raise RuntimeError(f"step {name!r} is defined twice: in {found[name]} and in {module}")
            found[name] = f"{module}:{name}"
    return found
