import json
import subprocess
import sys

import pytest

from mlreview import cli
from mlreview.io import as_list, load_json
from mlreview.steps import registry


def _metrics_step(params, *, data):
    data.write_text("x")
    return {"value": params["x"] * 2}


def _plain_step(params, *, inputs, out):
    out.write_text(",".join(p.name for p in as_list(inputs)))


@pytest.fixture
def fake_steps(monkeypatch):
    monkeypatch.setitem(registry(), "fake-metrics", "tests.test_cli:_metrics_step")
    monkeypatch.setitem(registry(), "fake-plain", "tests.test_cli:_plain_step")


def test_run_step_writes_metrics_with_provenance(tmp_path, fake_steps):
    metrics = tmp_path / "m.json"
    result = cli.run_step(
        "fake-metrics", {"x": 2, "seed": 7}, outputs={"data": tmp_path / "d", "metrics": metrics}
    )
    assert result == {"value": 4}
    stored = load_json(metrics)
    assert stored["metrics"] == {"value": 4}
    prov = stored["provenance"]
    assert prov["params"] == {"x": 2, "seed": 7}
    assert prov["seeds"] == {"seed": 7}
    assert prov["step"] == "fake-metrics" and prov["wall_time_s"] >= 0
    assert {"python", "numpy", "mlreview"} <= set(prov["versions"])
    assert "commit" in prov["git"]


def test_repeated_names_become_lists(tmp_path, fake_steps):
    pairs = cli._pairs(["inputs=a.txt", "inputs=b.txt", "one=c"], "input")
    assert [p.name for p in pairs["inputs"]] == ["a.txt", "b.txt"]
    assert pairs["one"].name == "c"
    out = tmp_path / "o.txt"
    cli.run_step("fake-plain", {}, inputs={"inputs": pairs["inputs"]}, outputs={"out": out})
    assert out.read_text() == "a.txt,b.txt"


def test_errors_are_clear(tmp_path, fake_steps):
    with pytest.raises(cli.StepError, match="unknown step 'nope'"):
        cli.run_step("nope", {})
    with pytest.raises(cli.StepError, match="missing \\['data'\\]"):
        cli.run_step("fake-metrics", {"x": 1})
    with pytest.raises(cli.StepError, match="returned no metrics"):
        cli.run_step("fake-plain", {}, inputs={"inputs": []}, outputs={"out": tmp_path / "o", "metrics": tmp_path / "m"})
    with pytest.raises(cli.StepError, match="NAME=PATH"):
        cli._pairs(["nopath"], "input")
    with pytest.raises(cli.StepError, match="JSON object"):
        cli._load_params("[1, 2]")


def test_every_registered_step_resolves():
    for name in registry():
        assert callable(cli.resolve(name)), name


def test_command_line_runs_a_step(tmp_path, env_with_venv, root):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"x": 3}))
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from mlreview import cli; from mlreview.steps import registry; "
         "registry()['fake-metrics']='tests.test_cli:_metrics_step'; sys.exit(cli.main(sys.argv[1:]))",
         "fake-metrics", "--output", f"data={tmp_path/'d'}", f"metrics={tmp_path/'m.json'}",
         "--params", f"@{params}"],
        cwd=root, env=env_with_venv, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert load_json(tmp_path / "m.json")["metrics"] == {"value": 6}
    bad = subprocess.run([sys.executable, "-m", "mlreview", "no-such-step"], capture_output=True, text=True,
                         env=env_with_venv)
    assert bad.returncode == 2 and "unknown step" in bad.stderr
    style = subprocess.run([sys.executable, "-m", "mlreview", "fig12_plot", "--figure-style", "{3}"],
                           capture_output=True, text=True, env=env_with_venv)
    assert style.returncode == 2 and "--figure-style is not valid JSON" in style.stderr


def test_list_describes_every_step_without_importing_it():
    """`list`: one line per step with the first sentence of its docstring, read from the source."""
    before = set(sys.modules)
    lines = cli.list_lines()
    assert [line.split()[0] for line in lines] == sorted(registry())
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines), [ln for ln in lines if len(ln.split()) < 2]
    imported = set(sys.modules) - before
    assert not {m for m in imported if m.startswith("mlreview.sections") or m.split(".")[0] == "torch"}, imported


def test_list_survives_a_reader_that_stops_early(env_with_venv, root):
    """`python -m mlreview list | head`: no BrokenPipeError once head has what it wants."""
    proc = subprocess.Popen([sys.executable, "-m", "mlreview", "list"], cwd=root, env=env_with_venv,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert "Error" not in stderr and "Traceback" not in stderr, stderr


def test_version_and_step_help(env_with_venv, root):
    import mlreview

    version = subprocess.run([sys.executable, "-m", "mlreview", "--version"], cwd=root, env=env_with_venv,
                             capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == f"mlreview {mlreview.__version__}"
    text = "\n".join(cli.help_lines("ising_logistic_fit"))
    assert "Fit both solvers on the lambda grid" in text  # the docstring
    assert "mlreview.sections.logistic_regression.ising:ising_logistic_fit" in text
    assert "--input dataset=PATH --output data=PATH metrics=PATH" in text  # split by the rule's input/output
    assert 'res("logistic/fig21.npz")' in text and 'LOGISTIC["ising"]' in text  # what the rule passes
    assert "lambdas" in text  # a params key the function reads
    with pytest.raises(cli.StepError, match="unknown step"):
        cli.help_lines("nope")


def test_every_step_has_help():
    for name in registry():
        assert cli.help_lines(name)[2].strip(), f"step {name} has no docstring"


#: steps that must not import a library they do not use (each a second of start-up per job): every
#: plot step draws with numpy and matplotlib alone; the energy-based and VAE steps use torch (and
#: scikit-learn only inside the functions that fit with it); the coin EM uses scipy.special
LEAN_STEPS = {
    "plot": ([s for s in registry() if s.endswith("_plot")], ("torch", "sklearn", "scipy", "pandas", "numba")),
    "torch": (["ebm_mnist_fit", "ebm_mnist_ais", "ebm_mnist_dbm_fit", "ebm_mnist_samples", "rbm_ising_kl",
               "rbm_likelihood", "vae_mnist_fit", "vae_ising_fit"], ("sklearn", "pandas")),
    "coins": (["em_coins"], ("sklearn", "torch")),
}


@pytest.mark.parametrize("group", sorted(LEAN_STEPS))
def test_steps_import_only_what_they_use(group, env_with_venv):
    steps, forbidden = LEAN_STEPS[group]
    code = ("import sys\nfrom mlreview.cli import resolve\n"
            f"for step in {steps!r}:\n    resolve(step)\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(forbidden)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_with_venv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"{group} steps import {proc.stdout.strip()}"
