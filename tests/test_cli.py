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
