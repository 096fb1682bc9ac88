"""A wrong key, a wrong type and a missing value each stop the workflow with an
error that names the key."""

import copy
import subprocess

import pytest
import yaml
from snakemake.utils import validate


def _dry_run(root, env, *args):
    return subprocess.run(
        ["snakemake", "-n", "--nolock", "--cores", "2", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )


def test_paper_and_small_configs_are_valid(root, env_with_venv):
    for extra in ([], ["--configfile", "config/small.yaml"]):
        proc = _dry_run(root, env_with_venv, *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "override, key",
    [
        ({"polynomial": {"figures": {"fig01": {"repetitons": 5}}}}, "repetitons"),  # misspelt key
        ({"gradient_descent": {"fig09": {"n_steps": "many"}}}, "n_steps"),  # wrong type
        ({"analytic": {"fig12": {"lam": None}}}, "lam"),  # value left empty
    ],
    ids=["wrong-key", "wrong-type", "missing-value"],
)
def test_bad_config_names_the_key(root, env_with_venv, tmp_path, override, key):
    path = tmp_path / "override.yaml"
    path.write_text(yaml.safe_dump(override))
    proc = _dry_run(root, env_with_venv, "--configfile", str(path))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Error validating config file" in output
    assert key in output


def test_a_deleted_key_is_required(root, paper_config):
    config = copy.deepcopy(paper_config)
    del config["analytic"]["fig12"]["lam"]
    with pytest.raises(Exception, match="'lam' is a required property"):
        validate(config, str(root / "workflow/schemas/config.schema.yaml"))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects a key repeated in one mapping (YAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@pytest.mark.parametrize("name", ["config.yaml", "small.yaml", "offline.yaml", "ising_dbm_notebook.yaml"])
def test_config_files_repeat_no_key(root, name):
    """A repeated section (easily made when two branches add overrides) would silently replace the first."""
    with open(root / "config" / name) as f:
        yaml.load(f, Loader=_UniqueKeyLoader)


def _merged(base: dict, over: dict) -> dict:
    """Snakemake's merge of a later --configfile into an earlier one (nested mappings merged)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_the_decision_l_overlay_of_the_ising_dbms_is_valid(root, paper_config):
    """config/ising_dbm_notebook.yaml (the spec's settings of Figs 66-68, kept as a variant) on top of
    the paper config passes the schema and sets back every training setting of the notebook's starting run."""
    overlay = yaml.safe_load((root / "config" / "ising_dbm_notebook.yaml").read_text())
    config = _merged(paper_config, overlay)
    validate(config, str(root / "workflow/schemas/config.schema.yaml"))
    ising = config["energy_based"]["ising"]
    assert ising["optimizer"] == "adam" and ising["l1"] == 1.0e-4 and not ising["centering"]
    assert ising["pretrain"] == {"epochs": 10, "lr": 1.0e-3, "schedule": "inverse_epoch", "doubled_weights": False}
    assert ising["fantasy"]["start"] == "random" and config["results"] != paper_config["results"]


@pytest.mark.parametrize("name", ["config.yaml", "small.yaml", "offline.yaml", "ising_dbm_notebook.yaml"])
def test_snakemake_reads_the_same_config_with_libyaml(root, name):
    """The Snakefile reads config/config.yaml through Snakemake with libyaml's parser (faster): the
    same document as Snakemake's own reading with PyYAML's, and PyYAML is left as it was."""
    from snakemake.common.configfile import load_configfile

    from mlreview.config_checks import libyaml_config_files

    pure = load_configfile(root / "config" / name)
    with libyaml_config_files():
        assert yaml.FullLoader is getattr(yaml, "CFullLoader", yaml.FullLoader)
        fast = load_configfile(root / "config" / name)
    assert yaml.FullLoader.__module__ == "yaml.loader"
    assert fast == pure
