"""The 2D Ising data set end to end at a tiny size: per-temperature sampling step -> assembly ->
loaders (phases, temperatures, encodings) -> Fig 20 selection and validation checks."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlreview.cli import run_step
from mlreview.data import ising as D
from mlreview.io import load_json, load_npz
from mlreview.ising import exact, packing, sampling, validation
from mlreview.ising.display import nearest_neighbour_correlation, fig20_select

ROOT = Path(__file__).resolve().parents[1]
TEMPS = [1.0, 2.25, 3.5]
CRITICAL_RANGE = [2.0, 2.5]
L = 8
N_SAMPLES = 40


def np_energy(states: np.ndarray, J: float = 1.0) -> np.ndarray:
    s = states.reshape(-1, L, L).astype(np.int64)
    return -J * ((s * np.roll(s, 1, 1)).sum((1, 2)) + (s * np.roll(s, 1, 2)).sum((1, 2))) / (L * L)


@pytest.fixture(scope="module")
def paper() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["ising"]


@pytest.fixture(scope="module")
def sampling_params(paper) -> dict:
    params = copy.deepcopy(paper["sampling"])
    params.update(
        lattice=L,
        temperatures=TEMPS,
        samples_per_temperature=N_SAMPLES,
        chains=2,
        equilibration_units=50,
        pilot_units=300,
        tau_study={"units": 300, "equilibration_units": 50, "stream": 1000},
    )
    return params


@pytest.fixture(scope="module")
def per_temperature(sampling_params, tmp_path_factory):
    """sample_step for each temperature (reverse order, to exercise the sorting): paths, metrics."""
    out = tmp_path_factory.mktemp("ising_T")
    paths, metrics = {}, {}
    for T in reversed(TEMPS):
        path = out / f"ising2d_T{sampling.temperature_key(T)}.npz"
        metrics[T] = sampling.ising2d_sample({**sampling_params, "temperature": T}, data=path)
        paths[T] = path
    return paths, metrics


def assemble_params(temps=TEMPS) -> dict:
    return {"temperatures": list(temps), "J": 1.0, "critical_range": CRITICAL_RANGE}


@pytest.fixture(scope="module")
def dataset(per_temperature, tmp_path_factory):
    paths, _ = per_temperature
    path = tmp_path_factory.mktemp("ising_ds") / "ising2d.npz"
    metrics = D.ising2d_assemble(assemble_params(), temperatures=[paths[T] for T in (2.25, 3.5, 1.0)], dataset=path)
    return path, metrics


def test_sample_step_outputs(per_temperature):
    paths, metrics = per_temperature
    for T in TEMPS:
        d = load_npz(paths[T])
        assert float(d["temperature"]) == T and int(d["lattice"]) == L
        assert d["packed"].shape == (N_SAMPLES, L * L // 8) and d["packed"].dtype == np.uint8
        states = packing.unpack_states(d["packed"], L * L)
        assert np.array_equal(np_energy(states), d["energy"])
        assert np.array_equal(states.mean(1, dtype=float), d["m"])
        met = metrics[T]
        for key in ("tau_pilot", "tau_production", "spacing_units", "spacing_ok", "acceptance_rate",
                    "mean_cluster_size", "equilibration_units", "tau_study", "n_samples", "mean_energy",
                    "mean_abs_m", "fraction_m_positive"):
            assert key in met
        assert met["n_samples"] == N_SAMPLES and met["t_index"] == TEMPS.index(T)
        assert met["mean_energy"] == pytest.approx(float(d["energy"].mean()), rel=1e-12)
    # ordered at T = 1, disordered at T = 3.5
    assert metrics[1.0]["mean_abs_m"] > 0.95 and metrics[3.5]["mean_abs_m"] < 0.5
    assert metrics[1.0]["mean_energy"] < metrics[2.25]["mean_energy"] < metrics[3.5]["mean_energy"]


def test_assemble_rows_labels_and_sets(per_temperature, dataset):
    paths, _ = per_temperature
    path, metrics = dataset
    d = load_npz(path)
    n = N_SAMPLES * len(TEMPS)
    assert d["packed"].shape == (n, L * L // 8)
    # rows ordered by T, in blocks of N_SAMPLES, each block the file of its temperature
    assert np.all(np.diff(d["temperature"]) >= 0)
    assert np.array_equal(d["temperatures"], TEMPS)
    for b, T in enumerate(TEMPS):
        block = slice(b * N_SAMPLES, (b + 1) * N_SAMPLES)
        assert np.all(d["temperature"][block] == np.float32(T))
        assert np.array_equal(d["packed"][block], load_npz(paths[T])["packed"])
    tc = exact.critical_temperature(1.0)
    assert float(d["tc"]) == pytest.approx(tc, rel=1e-15)
    assert np.array_equal(d["label"], (d["temperature"] < tc).astype(np.int8))
    assert d["label"].sum() == 2 * N_SAMPLES  # T = 1.0 and 2.25 < Tc = 2.269; label != phase
    assert np.array_equal(d["phase"], D.phase_of(d["temperature"], CRITICAL_RANGE))
    # the three index sets partition the rows and match the phase codes
    sets = [d[f"{name}_idx"] for name in D.PHASES]
    assert np.array_equal(np.sort(np.concatenate(sets)), np.arange(n))
    for code, idx in enumerate(sets):
        assert np.all(d["phase"][idx] == code) and len(idx) == N_SAMPLES
    assert metrics["n_rows"] == n and metrics["lattice"] == L
    assert metrics["set_sizes"] == {"ordered": N_SAMPLES, "critical": N_SAMPLES, "disordered": N_SAMPLES}
    assert metrics["set_temperatures"] == {"ordered": [1.0], "critical": [2.25], "disordered": [3.5]}
    assert metrics["label_counts"] == {"ordered_1": 2 * N_SAMPLES, "disordered_0": N_SAMPLES}
    assert metrics["rows_per_temperature"] == {"T_1.00": N_SAMPLES, "T_2.25": N_SAMPLES, "T_3.50": N_SAMPLES}


def test_assemble_via_run_step(per_temperature, tmp_path):
    paths, _ = per_temperature
    out = {"dataset": tmp_path / "ds.npz", "metrics": tmp_path / "ds.json"}
    metrics = run_step("ising2d_assemble", assemble_params(), inputs={"temperatures": list(paths.values())},
                       outputs=out)
    assert out["dataset"].exists() and out["metrics"].exists()
    assert load_json(out["metrics"])["metrics"]["n_rows"] == metrics["n_rows"] == 3 * N_SAMPLES


def test_assemble_rejects_temperature_mismatch(per_temperature, tmp_path):
    paths, _ = per_temperature
    files = list(paths.values())
    with pytest.raises(ValueError, match="do not match"):
        D.ising2d_assemble(assemble_params([1.0, 2.25, 3.0]), temperatures=files, dataset=tmp_path / "a.npz")
    with pytest.raises(ValueError, match="do not match"):
        D.ising2d_assemble(assemble_params(), temperatures=files[:2], dataset=tmp_path / "b.npz")
    with pytest.raises(ValueError, match="do not match"):
        D.ising2d_assemble(assemble_params([*TEMPS, 4.0]), temperatures=files, dataset=tmp_path / "c.npz")
    assert not any(tmp_path.iterdir())


def test_phase_of():
    t = [0.25, 1.99, 2.0, 2.25, 2.5, 2.51, 4.0]
    assert D.phase_of(t, [2.0, 2.5]).tolist() == [0, 0, 1, 1, 1, 2, 2]
    assert D.phase_of(np.float32([2.0, 2.5]), [2.0, 2.5]).tolist() == [1, 1]
    assert D.phase_of(t, [2.0, 2.5]).dtype == np.int8


def test_load_ising2d(per_temperature, dataset):
    paths, _ = per_temperature
    path, _ = dataset
    full = D.load_ising2d(path)
    n = 3 * N_SAMPLES
    assert full.X.shape == (n, L * L) and full.X.dtype == np.int8
    assert set(np.unique(full.X)) <= {-1, 1}
    assert full.lattice == L and full.tc == pytest.approx(exact.critical_temperature())
    assert full.lattices().shape == (n, L, L)
    assert np.array_equal(full.lattices()[5].ravel(), full.X[5])
    # the decoded states are the sampled ones: energies recomputed equal the stored energies
    for b, T in enumerate(TEMPS):
        assert np.array_equal(np_energy(full.X[b * N_SAMPLES : (b + 1) * N_SAMPLES]), load_npz(paths[T])["energy"])
    # encodings
    zero_one = D.load_ising2d(path, encoding="01")
    assert zero_one.X.dtype == np.int8 and np.array_equal(zero_one.X, (full.X + 1) // 2)
    with pytest.raises(ValueError):
        D.load_ising2d(path, encoding="spin")
    # phases
    ordered = D.load_ising2d(path, phases=["ordered"])
    assert len(ordered.X) == N_SAMPLES and np.all(ordered.temperature == 1.0)
    assert np.all(ordered.label == 1) and np.all(ordered.phase == 0)
    assert np.array_equal(ordered.X, full.X[:N_SAMPLES])
    no_crit = D.load_ising2d(path, phases=("ordered", "disordered"))
    assert sorted(set(no_crit.temperature.tolist())) == [1.0, 3.5] and len(no_crit.X) == 2 * N_SAMPLES
    assert np.array_equal(no_crit.X, full.X[full.phase != 1])
    with pytest.raises(ValueError, match="unknown phase"):
        D.load_ising2d(path, phases=["critical", "hot"])
    # temperatures, alone and with phases
    sel = D.load_ising2d(path, temperatures=[3.5, 2.25])
    assert sorted(set(sel.temperature.tolist())) == [2.25, 3.5] and len(sel.X) == 2 * N_SAMPLES
    assert np.array_equal(sel.X, full.X[N_SAMPLES:])
    assert len(D.load_ising2d(path, phases=["critical"], temperatures=[1.0, 2.25]).X) == N_SAMPLES
    assert len(D.load_ising2d(path, phases=["ordered"], temperatures=[3.5]).X) == 0
    assert len(D.load_ising2d(path, temperatures=[3.0]).X) == 0


def test_select_step(dataset, tmp_path):
    path, _ = dataset
    params = {"temperatures": [1.0, 2.25, 3.5], "seed": 20}
    out = tmp_path / "fig20.npz"
    metrics = fig20_select(params, dataset=path, data=out)
    assert set(metrics) >= {"temperatures", "tc", "states", "critical_temperature_shown", "critical_spread_largest",
                            "critical_spread_ratio"}
    assert set(metrics["states"]) == {"T_1.00", "T_2.25", "T_3.50"}
    assert metrics["critical_temperature_shown"] == 2.25
    saved = load_npz(out)
    assert saved["states"].shape == (3, L, L)
    assert np.array_equal(saved["temperatures"], params["temperatures"])
    full = D.load_ising2d(path)
    for b, T in enumerate(params["temperatures"]):
        st = metrics["states"][f"T_{T:.2f}"]
        assert set(st) == {"row", "m", "nn_correlation", "block_mean_abs_m", "block_std_abs_m"}
        lattice = saved["states"][b]
        # the shown state is the chosen row, and that row lies in the block of its temperature
        assert np.array_equal(lattice.ravel(), full.X[st["row"]])
        assert full.temperature[st["row"]] == np.float32(T)
        assert st["m"] == pytest.approx(lattice.mean())
        e = np_energy(lattice[None])[0]
        assert st["nn_correlation"] == pytest.approx(-e / 2.0, abs=1e-12)
        block = np.abs(full.X[full.temperature == np.float32(T)].mean(1))
        assert st["block_mean_abs_m"] == pytest.approx(block.mean())
        assert st["block_std_abs_m"] == pytest.approx(block.std())
    assert metrics["states"]["T_1.00"]["nn_correlation"] > metrics["states"]["T_3.50"]["nn_correlation"]
    # seeded: the same picks again
    assert fig20_select(params, dataset=path, data=tmp_path / "again.npz") == metrics
    with pytest.raises(ValueError, match="no states"):
        fig20_select({"temperatures": [1.0, 3.0], "seed": 1}, dataset=path, data=tmp_path / "bad.npz")


def test_select_step_on_a_subset_of_temperatures(dataset, tmp_path):
    """Showing fewer temperatures than the data set has (the paper: 3 of 16)."""
    path, _ = dataset
    metrics = fig20_select({"temperatures": [2.25, 3.5], "seed": 4}, dataset=path, data=tmp_path / "sub.npz")
    saved = load_npz(tmp_path / "sub.npz")
    full = D.load_ising2d(path)
    assert metrics["critical_temperature_shown"] == 2.25
    for b, T in enumerate((2.25, 3.5)):
        block = full.X[full.temperature == np.float32(T)]
        assert any(np.array_equal(saved["states"][b].ravel(), row) for row in block)
        assert metrics["states"][f"T_{T:.2f}"]["m"] == pytest.approx(saved["states"][b].mean())


def test_select_step_row_is_a_data_set_row_and_edge_cases(dataset, tmp_path):
    path, _ = dataset
    full = D.load_ising2d(path)
    metrics = fig20_select({"temperatures": [3.5], "seed": 1}, dataset=path, data=tmp_path / "one.npz")
    saved = load_npz(tmp_path / "one.npz")
    row = metrics["states"]["T_3.50"]["row"]
    assert np.array_equal(full.X[row], saved["states"][0].ravel())
    assert metrics["critical_spread_ratio"] is None  # a single temperature: nothing to compare with
    sub = D.load_ising2d(path, temperatures=[3.5])
    assert np.array_equal(full.X[sub.rows], sub.X)


def test_nearest_neighbour_correlation():
    up = np.ones((6, 6))
    assert nearest_neighbour_correlation(up) == 1.0
    checker = np.where(np.indices((6, 6)).sum(0) % 2 == 0, 1, -1)
    assert nearest_neighbour_correlation(checker) == -1.0
    stripes = np.repeat(np.array([[1], [1], [1], [-1], [-1], [-1]]), 6, axis=1)  # 2 walls of 6 bonds
    assert nearest_neighbour_correlation(stripes) == pytest.approx(1.0 - 2 * 2 * 6 / 72)


def test_energy_check_zero_variance():
    e = np.full(200, -2.0)
    res = validation.energy_check(e, -2.0 + 1e-13, n_spins=1600, J=1.0)
    assert res["zero_variance"] is True and res["z"] is None and res["se"] == 0.0
    assert res["consistent"] is True
    assert res["resolution"] == pytest.approx(8.0 / (1600 * 200))
    # a difference above one excitation in the whole sample is not consistent
    bad = validation.energy_check(e, -2.0 + 1e-4, n_spins=1600, J=1.0)
    assert bad["z"] is None and bad["consistent"] is False


def test_energy_check_z_sign():
    rng = np.random.default_rng(0)
    e = -1.5 + 0.05 * rng.standard_normal(2000)
    mean = e.mean()
    above = validation.energy_check(e, mean - 0.01, n_spins=64, J=1.0)
    below = validation.energy_check(e, mean + 0.01, n_spins=64, J=1.0)
    assert above["zero_variance"] is False and above["z"] > 0 and below["z"] < 0
    assert above["z"] == pytest.approx(0.01 / above["se"]) and above["se"] > 0
    assert abs(validation.energy_check(e, -1.5, 64, 1.0)["z"]) < 5.0


def test_validate_on_sampled_data(per_temperature, paper):
    paths, metrics = per_temperature
    per_t = [load_npz(paths[T]) for T in TEMPS]
    records = [metrics[T] for T in TEMPS]
    params = {"J": 1.0, "validation": {**paper["validation"], "curve_points": 20}}
    out, arrays = validation.validate(per_t[::-1], records[::-1], params)
    assert [row["T"] for row in out["table"]] == TEMPS
    for row in out["table"]:
        assert row["e_exact"] == pytest.approx(float(exact.energy_per_spin(L, row["T"])), rel=1e-12)
        assert row["z_ok"] and (row["z"] is None or abs(row["z"]) < params["validation"]["z_max"])
    assert out["all_z_ok"] and out["lattice"] == L
    assert np.array_equal(arrays["T"], TEMPS) and arrays["curve_T"].shape == (20,)
    assert {"sign_ok", "onsager_ok", "spacing_ok", "max_abs_z", "specific_heat_peak_T_mc"} <= set(out)
