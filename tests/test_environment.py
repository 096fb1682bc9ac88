"""pyproject.toml, environment.yml and the rule environments of workflow/envs/ describe the same
software, and every conda environment installs the package itself."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

#: what only Snakemake's own process needs (the Snakefile's config checks), not the steps
WORKFLOW_ONLY = {"snakemake", "snakemake-executor-plugin-slurm", "jsonschema"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject(root) -> set[str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return {_name(r) for r in project["dependencies"]}


def _env(path: Path) -> tuple[set[str], list[str]]:
    """The package names of a conda environment file and its pip options (lines starting with -)."""
    env = yaml.safe_load(path.read_text())
    names, options = set(), []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for r in dep["pip"]:
                if r.strip().startswith("-"):
                    options.append(r.strip())
                else:
                    names.add(_name(r))
        elif _name(dep) not in ("python", "pip"):
            names.add(_name(dep))
    return names, options


def _editable(options: list[str]) -> list[str]:
    return [o.split(None, 1)[1] for o in options if o.split()[0] in ("-e", "--editable")]


def _rule_envs(root) -> list[Path]:
    return sorted((root / "workflow" / "envs").glob("*.yaml"))


def test_pyproject_and_environment_list_the_same_packages(root):
    pip_side = _pyproject(root)
    conda_side, _ = _env(root / "environment.yml")
    assert pip_side == conda_side, f"only pyproject: {pip_side - conda_side}; only environment.yml: {conda_side - pip_side}"


def test_environment_yml_installs_the_package(root):
    # conda runs pip in the folder of the environment file: the path is relative to it
    _, options = _env(root / "environment.yml")
    paths = _editable(options)
    assert len(paths) == 1, f"environment.yml must install the package with `- -e .` under pip: {options}"
    assert (root / paths[0]).resolve() == root.resolve()


def test_rule_environments_core_and_torch(root):
    envs = {p.stem: _env(p)[0] for p in _rule_envs(root)}
    assert set(envs) == {"core", "torch"}
    steps = _pyproject(root) - WORKFLOW_ONLY
    assert envs["torch"] == steps, f"torch.yaml differs from pyproject.toml: {envs['torch'] ^ steps}"
    assert envs["core"] == steps - {"torch"}, f"core.yaml: {envs['core'] ^ (steps - {'torch'})}"


@pytest.mark.parametrize("name", ["core", "torch"])
def test_rule_environments_install_the_package(root, name):
    """Both where conda creates it by hand (workflow/envs/) and where Snakemake does (its copy in
    .snakemake/conda/ of the project folder), the editable path is the project folder."""
    _, options = _env(root / "workflow" / "envs" / f"{name}.yaml")
    paths = _editable(options)
    assert len(paths) == 1, f"workflow/envs/{name}.yaml must install the package (- -e ../..): {options}"
    for folder in (root / "workflow" / "envs", root / ".snakemake" / "conda"):
        assert (folder / paths[0]).resolve() == root.resolve()


def test_the_rule_environments_match_what_the_steps_import(root):
    from mlreview.steps import registry, uses_torch

    torch_steps = {name for name in registry() if uses_torch(name)}
    assert {"mnist_dnn_fit", "vae_mnist_fit", "ising_dnn_cell"} <= torch_steps
    assert not {"polynomial_fit", "ising2d_sample", "scorecard", "fig07_plot"} & torch_steps


def test_no_gpu_build_is_requested(root):
    files = [root / "pyproject.toml", root / "environment.yml", *_rule_envs(root)]
    text = "".join(p.read_text() for p in files)
    assert "torch==2.13.0" in text
    assert "xgboost-cpu" in text
    assert not re.search(r"^\s*-?\s*\"?xgboost[><=\"]", text, flags=re.M)
    assert "cuda" not in text.lower()
    # the conda environments take torch from PyTorch's CPU index
    for path in [root / "environment.yml", *_rule_envs(root)]:
        _, options = _env(path)
        if "torch" in _env(path)[0]:
            assert f"--extra-index-url {CPU_INDEX}" in options, path


def test_makefile_offers_the_cpu_index(root):
    makefile = (root / "Makefile").read_text()
    assert re.search(r"^TORCH_INDEX \?=\s*$", makefile, flags=re.M), "TORCH_INDEX must default to empty"
    assert "$(TORCH_INDEX)" in makefile
