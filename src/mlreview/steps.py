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

import ast
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


# --- Descriptions for `python -m mlreview list` and `python -m mlreview STEP --help`, read from the
# source (the function's signature and docstring, the rule of the same name), importing nothing.

#: the workflow's rule files, beside the package in a checkout (absent from a plain install)
RULES = PACKAGE.parents[1] / "workflow" / "rules"
#: the output the CLI writes itself (the step returns its content)
METRICS = "metrics"


def _function_node(name: str) -> tuple[ast.FunctionDef, ast.Module, Path]:
    module, _, func = registry()[name].partition(":")
    path = PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == func:
            return node, tree, path
    raise LookupError(f"step {name!r}: no function {func} in {path}")


def plain(text: str) -> str:
    """Docstring text without reStructuredText markup: ``x`` and :mod:`x` become x."""
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
    return text.replace("``", "")


def summary(name: str, width: int = 90) -> str:
    """The first sentence of a step's docstring on one line (without the 'Workflow step (Fig N):'
    prefix some have), shortened to about ``width`` characters at a word boundary."""
    node, _, _ = _function_node(name)
    paragraph = " ".join(plain(ast.get_docstring(node) or "").strip().split("\n\n")[0].split())
    paragraph = re.sub(r"^(Workflow|Plot) step(?: \(([^)]*)\))?:\s*", lambda m: f"{m[2]}: " if m[2] else "",
                       paragraph)
    sentence = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]
    sentence = sentence[:1].upper() + sentence[1:]
    if len(sentence) <= width:
        return sentence
    return sentence[: width - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def _params_keys(node: ast.FunctionDef) -> list[str]:
    """Keys the function reads from ``params`` itself: ``params["key"]`` and ``params.get("key")``."""
    keys: list[str] = []
    for sub in ast.walk(node):
        key = None
        if (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id == "params"
                and isinstance(sub.slice, ast.Constant)):
            key = sub.slice.value
        elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "get"
              and isinstance(sub.func.value, ast.Name) and sub.func.value.id == "params" and sub.args
              and isinstance(sub.args[0], ast.Constant)):
            key = sub.args[0].value
        if isinstance(key, str) and key not in keys:
            keys.append(key)
    return keys


def rule_source(name: str) -> tuple[Path, str] | None:
    """(rule file, text of the rule's block) of the rule named like the step, or None outside a checkout."""
    header = re.compile(rf"^rule {re.escape(name)}:\n((?:[ \t]+.*\n|\n)*)", re.MULTILINE)
    for path in sorted(RULES.glob("*.smk")) if RULES.is_dir() else []:
        found = header.search(path.read_text(encoding="utf-8"))
        if found:
            return path, found.group(1).rstrip() + "\n"
    return None


def _directive(block: str, name: str) -> dict[str, str]:
    """``NAME=expression`` entries of one directive (input, output, params) of a rule's block."""
    found = re.search(rf"^    {name}:\n((?:        .*\n)+)", block, re.MULTILINE)
    entries: dict[str, str] = {}
    if not found:
        return entries
    current = None
    for line in found.group(1).splitlines():
        item = re.match(r"^        (\w+)=(.*)$", line)
        if item:
            current = item.group(1)
            entries[current] = item.group(2).rstrip(",")
        elif current is not None:
            entries[current] += " " + line.strip().rstrip(",")
    return entries


def describe(name: str) -> dict:
    """What ``python -m mlreview NAME --help`` shows: the function, its docstring, its file arguments
    (split into inputs and outputs by the rule of the same name), the ``params`` keys it reads, and the
    rule's own declarations."""
    node, tree, path = _function_node(name)
    args = node.args
    defaults = dict(zip([a.arg for a in args.kwonlyargs], args.kw_defaults))
    files = {}
    for arg in args.kwonlyargs:
        if arg.arg == "threads":
            continue
        default = defaults.get(arg.arg)
        files[arg.arg] = {
            "annotation": ast.unparse(arg.annotation) if arg.annotation is not None else "",
            "optional": default is not None,
        }
    rule = rule_source(name)
    inputs = outputs = params = {}
    if rule is not None:
        inputs, outputs, params = (_directive(rule[1], d) for d in ("input", "output", "params"))
    module_doc = " ".join(plain(ast.get_docstring(tree) or "").strip().split("\n\n")[0].split())
    return {
        "name": name,
        "target": registry()[name],
        "source": path,
        "doc": plain(ast.get_docstring(node) or ""),
        "module_summary": module_doc,
        "files": files,
        "threads": any(a.arg == "threads" for a in args.kwonlyargs),
        "params_keys": _params_keys(node),
        "rule": rule,
        "rule_inputs": inputs,
        "rule_outputs": outputs,
        "rule_params": params,
    }


# --- The software a step needs: whether its code imports torch (its conda environment) ----------


@functools.cache
def _module_path(module: str) -> Path | None:
    """The source file of an ``mlreview`` module (a package's ``__init__.py``), or None."""
    parts = module.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


#: an import statement at the start of a line (in a function too): ``import a, b`` or ``from x import
#: y``, its names in parentheses over several lines or continued with backslashes
_IMPORT = re.compile(
    r"^[ \t]*((?:from[ \t]+[\w.]+[ \t]+)?import[ \t]+(?:\([^)]*\)|(?:[^\n]*\\\n)*[^\n]*))", re.MULTILINE
)


@functools.cache
def _imports(module: str) -> frozenset[str]:
    """Every module an ``mlreview`` module imports, anywhere in it (also inside functions).

    Only the import statements are parsed (found by :data:`_IMPORT`; a line of prose that reads
    like one fails to parse and is skipped): parsing the whole package with ``ast`` cost most of a
    run of the workflow with nothing to do. ``tests/test_steps.py`` checks that this finds what
    walking each module's whole syntax tree finds."""
    path = _module_path(module)
    if path is None:
        return frozenset()
    nodes = []
    for statement in _IMPORT.findall(path.read_text(encoding="utf-8")):
        try:
            nodes += ast.parse(statement).body
        except SyntaxError:
            continue
    return imported_names(nodes, package=module if path.name == "__init__.py" else module.rpartition(".")[0])


def imported_names(nodes, *, package: str) -> frozenset[str]:
    """The modules (and ``from`` names) the import statements among ``nodes`` name, relative
    imports resolved against ``package``."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return frozenset(found)


def imported_packages(name: str) -> set[str]:
    """The top-level packages a step's code can import: its module and every ``mlreview`` module it
    imports, followed through the package (read from the source, nothing imported)."""
    seen, queue, packages = set(), [registry()[name].partition(":")[0]], set()
    while queue:
        module = queue.pop()
        if module in seen:
            continue
        seen.add(module)
        for imported in _imports(module):
            top = imported.split(".")[0]
            if top == "mlreview":
                if _module_path(imported) is not None:
                    queue.append(imported)
            else:
                packages.add(top)
    return packages


def uses_torch(name: str) -> bool:
    """Whether a step's code imports PyTorch (its rule then runs in the torch environment)."""
    return "torch" in imported_packages(name)
