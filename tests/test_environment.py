"""pyproject.toml and environment.yml describe the same environment."""

import re
import tomllib

import yaml


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_pyproject_and_environment_list_the_same_packages(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    pip_side = {_name(r) for r in project["dependencies"]}
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda_side = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda_side |= {_name(r) for r in dep["pip"]}
        elif _name(dep) not in ("python", "pip"):
            conda_side.add(_name(dep))
    assert pip_side == conda_side, f"only pyproject: {pip_side - conda_side}; only environment.yml: {conda_side - pip_side}"


def test_no_cuda_build_is_requested(root):
    text = (root / "pyproject.toml").read_text() + (root / "environment.yml").read_text()
    assert "torch==2.13.0" in text
    assert "xgboost-cpu" in text
    assert not re.search(r"^\s*-?\s*\"?xgboost[><=\"]", text, flags=re.M)
    assert "cuda" not in text.lower().replace("no cuda", "").replace("never a cuda", "")
