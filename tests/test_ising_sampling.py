"""The sampling protocol of one temperature: shapes, record, consistency of the kept observables
with the stored states, sign balance, determinism; schedules; packing of states."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from mlreview.ising import packing
from mlreview.ising import sampling as S
from mlreview.ising.autocorr import blocking_standard_error
from mlreview.ising.exact import critical_temperature

ROOT = Path(__file__).resolve().parents[1]
Z_MAX = 5.0


def small_params(**overrides) -> dict:
    """The paper's ising.sampling section, scaled down (L = 8, a few hundred samples)."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    params = copy.deepcopy(cfg["ising"]["sampling"])
    params.update(
        lattice=8,
        samples_per_temperature=400,
        chains=2,
        equilibration_units=100,
        pilot_units=500,
        tau_study={"units": 500, "equilibration_units": 100, "stream": 1000},
    )
    params.update(overrides)
    return params


def np_energy_mag(states: np.ndarray, L: int, J: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Energy and magnetisation per spin of (n, L*L) row-major states (numpy reference)."""
    s = states.reshape(-1, L, L).astype(np.int64)
    bonds = (s * np.roll(s, 1, 1)).sum((1, 2)) + (s * np.roll(s, 1, 2)).sum((1, 2))
    return -J * bonds / (L * L), s.sum((1, 2)) / (L * L)


@pytest.fixture(scope="module")
def low_t():
    params = small_params()
    return params, S.sample_temperature(params, 1.5, 5)


def test_states_shape_and_values(low_t):
    params, res = low_t
    L, n = params["lattice"], params["samples_per_temperature"]
    states = res["states"]
    assert states.shape == (n, L * L) and states.dtype == np.int8
    assert set(np.unique(states)) <= {-1, 1}
    assert res["energy"].shape == res["m"].shape == (n,)
    rec = res["record"]
    units = rec["units_per_chain"] - rec["equilibration_units"] - rec["pilot_units"]
    per_chain = n // params["chains"]
    assert res["series_e"].shape == res["series_m"].shape == (params["chains"], per_chain * rec["spacing_units"])
    assert units >= res["series_e"].shape[1]


def test_record_fields(low_t):
    params, res = low_t
    rec = res["record"]
    for key in ("tau_pilot", "tau_production"):
        assert set(rec[key]) == {"energy", "abs_m"}
        assert all(np.isfinite(v) and v > 0 for v in rec[key].values())
    worst = max(rec["tau_production"].values())
    assert isinstance(rec["spacing_units"], int) and rec["spacing_units"] >= 1
    assert rec["spacing_units"] >= np.ceil(params["spacing_factor"] * max(rec["tau_pilot"].values()))
    assert rec["spacing_ok"] is (params["spacing_factor"] * worst <= rec["spacing_units"])
    assert 0.0 < rec["acceptance_rate"] < 1.0
    assert 1.0 <= rec["mean_cluster_size"] <= params["lattice"] ** 2
    assert rec["equilibration_units"] >= params["equilibration_units"]
    assert rec["equilibration_units"] >= np.ceil(params["equilibration_tau"] * max(rec["tau_pilot"].values()))
    assert rec["schedule"] == params["update"]["default"]
    assert (rec["temperature"], rec["t_index"], rec["lattice"], rec["chains"], rec["seed"]) == (
        1.5, 5, params["lattice"], params["chains"], params["seed"])


def test_kept_observables_match_stored_states(low_t):
    params, res = low_t
    e, m = np_energy_mag(res["states"], params["lattice"], params["J"])
    assert np.array_equal(e, res["energy"])
    assert np.array_equal(m, res["m"])
    # the kept values are the production series at every spacing-th unit
    sp = res["record"]["spacing_units"]
    assert np.array_equal(res["series_e"][:, sp - 1 :: sp].ravel(), res["energy"])


def test_sign_balance_below_tc(low_t):
    params, res = low_t
    assert 1.5 < critical_temperature()
    m = res["m"]
    n = len(m)
    assert np.abs(m).mean() > 0.9  # ordered
    assert abs((m > 0).mean() - 0.5) < Z_MAX * np.sqrt(0.25 / n)


def test_deterministic_for_seed(low_t):
    params, res = low_t
    again = S.sample_temperature(params, 1.5, 5)
    assert np.array_equal(again["states"], res["states"])
    assert np.array_equal(again["series_e"], res["series_e"])
    assert again["record"] == res["record"]
    other_index = S.sample_temperature(params, 1.5, 6)
    assert not np.array_equal(other_index["states"], res["states"])
    other_seed = S.sample_temperature(small_params(seed=params["seed"] + 1), 1.5, 5)
    assert not np.array_equal(other_seed["states"], res["states"])


def test_high_temperature_mean_energy():
    """Above Tc (pure Metropolis schedule) the kept energies are statistically right: compare the
    two independent chains' means with each other and with the 8 x 8 exact value."""
    from mlreview.ising import exact

    params = small_params(update={"default": {"metropolis_sweeps": 1, "wolff_clusters": 0, "global_flip": False}})
    res = S.sample_temperature(params, 3.5, 0)
    rec = res["record"]
    assert rec["mean_cluster_size"] is None and rec["acceptance_rate"] > 0.3
    exact_e = float(exact.energy_per_spin(8, 3.5))
    # the production series of the independent chains: blocking standard error per chain
    series = res["series_e"]
    se_chain = [blocking_standard_error(x).standard_error for x in series]
    se = np.sqrt(np.sum(np.square(se_chain))) / len(series)
    assert abs(series.mean() - exact_e) < Z_MAX * se
    # the kept samples are >= 2 tau apart, close to independent: plain standard error
    e = res["energy"]
    assert abs(e.mean() - exact_e) < Z_MAX * e.std(ddof=1) / np.sqrt(e.size)
    assert abs(np.abs(res["m"]).mean()) < 0.5


def test_schedule_override_in_sampling():
    update = {"default": {"metropolis_sweeps": 1, "wolff_clusters": 1, "global_flip": True},
              "by_temperature": {"2.25": {"metropolis_sweeps": 0, "wolff_clusters": 2}}}
    params = small_params(update=update, samples_per_temperature=40, pilot_units=200)
    res = S.sample_temperature(params, 2.25, 0)
    rec = res["record"]
    assert rec["schedule"] == {"metropolis_sweeps": 0, "wolff_clusters": 2, "global_flip": True}
    assert rec["acceptance_rate"] is None and rec["mean_cluster_size"] >= 1


def test_bad_params_raise():
    with pytest.raises(ValueError, match="multiple"):
        S.sample_temperature(small_params(samples_per_temperature=401), 2.0, 0)
    update = {"default": {"metropolis_sweeps": 0, "wolff_clusters": 0}}
    with pytest.raises(ValueError, match="at least one update"):
        S.sample_temperature(small_params(update=update), 2.0, 0)


def test_schedule_for():
    update = {"default": {"metropolis_sweeps": 1, "wolff_clusters": 1, "global_flip": True},
              "by_temperature": {"2.25": {"metropolis_sweeps": 0, "wolff_clusters": 4}, 3.5: {"wolff_clusters": 0}}}
    assert S.schedule_for(update, 2.25) == {"metropolis_sweeps": 0, "wolff_clusters": 4, "global_flip": True}
    assert S.schedule_for(update, 3.5) == {"metropolis_sweeps": 1, "wolff_clusters": 0, "global_flip": True}
    assert S.schedule_for(update, 2.5) == update["default"]
    # the default is returned as a copy and never modified
    got = S.schedule_for(update, 2.0)
    got["metropolis_sweeps"] = 99
    assert update["default"]["metropolis_sweeps"] == 1
    assert S.schedule_for({"default": {"metropolis_sweeps": 2, "wolff_clusters": 0}, "by_temperature": {}}, 1.0) == {
        "metropolis_sweeps": 2, "wolff_clusters": 0}
    assert S.schedule_for({"default": {"metropolis_sweeps": 2, "wolff_clusters": 0}}, 1.0)["metropolis_sweeps"] == 2


def test_temperature_key():
    assert S.temperature_key(2.25) == "2.25"
    assert S.temperature_key(0.5) == "0.50"
    assert S.temperature_key(4) == "4.00"


def test_tau_study():
    params = small_params()
    out = S.tau_study(params, 2.25, 0)
    assert set(out) == {"metropolis", "wolff"}
    for name in out:
        assert set(out[name]) == {"energy", "abs_m", "sweeps_per_unit"}
        assert out[name]["energy"] > 0 and out[name]["abs_m"] > 0
    assert out["metropolis"]["sweeps_per_unit"] == 1.0
    assert 0.3 < out["wolff"]["sweeps_per_unit"] < 3.0
    assert S.tau_study(params, 2.25, 0) == out


@pytest.mark.parametrize("n_spins", [64, 61, 1600, 3])
def test_pack_unpack_round_trip(n_spins):
    rng = np.random.default_rng(n_spins)
    states = rng.choice(np.array([-1, 1], np.int8), size=(7, n_spins))
    packed = packing.pack_states(states)
    assert packed.dtype == np.uint8 and packed.shape == (7, -(-n_spins // 8))
    pm1 = packing.unpack_states(packed, n_spins)
    assert pm1.dtype == np.int8 and np.array_equal(pm1, states)
    assert np.array_equal(packing.unpack_states(packed, n_spins, "pm1"), states)
    zero_one = packing.unpack_states(packed, n_spins, "01")
    assert zero_one.dtype == np.int8 and np.array_equal(zero_one, (states + 1) // 2)
    # bit layout: numpy.packbits, big-endian within a byte, 1 = up
    assert np.array_equal(packed, np.packbits(states > 0, axis=1))
    # straight into another dtype: the same values as converting the int8 spins, contiguous
    for dtype in (np.float32, np.float64, np.int64):
        for encoding, want in (("pm1", states), ("01", (states + 1) // 2)):
            got = packing.unpack_states(packed, n_spins, encoding, dtype)
            assert got.dtype == dtype and got.flags.c_contiguous
            assert np.array_equal(got, want.astype(dtype))
    assert packing.unpack_states(packed[:0], n_spins, "pm1", np.float32).shape == (0, n_spins)


def test_unpack_rejects_too_few_bytes():
    with pytest.raises(ValueError, match="bytes"):
        packing.unpack_states(np.zeros((2, 1), np.uint8), 16)


def test_unpack_bad_encoding():
    packed = packing.pack_states(np.ones((2, 16), np.int8))
    for bad in ("01 ", "pm", "bool", ""):
        with pytest.raises(ValueError):
            packing.unpack_states(packed, 16, bad)
