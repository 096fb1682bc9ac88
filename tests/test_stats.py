import numpy as np
import pytest

from mlreview.stats import accuracy_with_ci, mean_and_se, wilson_interval


def test_wilson_known_values():
    lo, hi = wilson_interval(90, 100)
    assert lo == pytest.approx(0.8256, abs=1e-4)
    assert hi == pytest.approx(0.9448, abs=1e-4)
    # degenerate proportions stay inside [0, 1] and are not zero-width
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and 0.1 < hi < 0.2
    lo, hi = wilson_interval(20, 20)
    assert hi == 1.0 and 0.8 < lo < 0.9
    assert wilson_interval(1000, 1000)[1] == 1.0 and wilson_interval(0, 1000)[0] == 0.0


def _wilson_closed_form(k: int, n: int, confidence: float) -> tuple[float, float]:
    """The score interval written out (the project's former hand-written version)."""
    from scipy import stats

    z = stats.norm.ppf(0.5 + confidence / 2)
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


@pytest.mark.parametrize("n", [1, 2, 7, 20, 100, 1000, 130_000, 5_000_000])
def test_wilson_agrees_with_the_closed_form(n):
    """scipy's binomtest(...).proportion_ci(method="wilson") gives the numbers of the formula
    (to rounding), the exact bounds 0 and 1 at k = 0 and k = n included."""
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        for confidence in (0.5, 0.9, 0.95, 0.99):
            got = wilson_interval(k, n, confidence)
            want = _wilson_closed_form(k, n, confidence)
            assert got == pytest.approx(want, abs=1e-12, rel=1e-12), (k, n, confidence)
            assert (got[0] == 0.0) == (k == 0) and (got[1] == 1.0) == (k == n)


def test_wilson_is_scipys_binomtest_to_the_bit():
    """The interval is written out (scipy.stats costs about 0.9 CPU-s to import); it must give
    exactly scipy's numbers, so that no metric changes."""
    from scipy import stats

    rng = np.random.default_rng(1)
    cases = [(k, n) for n in (1, 2, 3, 7, 50, 100, 999, 26000, 30000, 104000) for k in {0, 1, n // 3, n // 2, n - 1, n}]
    cases += [(int(rng.integers(0, n + 1)), int(n)) for n in rng.integers(1, 200_000, 100)]
    for k, n in cases:
        for confidence in (0.0, 0.5, 0.68, 0.9, 0.95, 0.99, 0.999, 1.0):
            with np.errstate(invalid="ignore"):  # confidence 1: z = inf, inf / inf in both (as scipy)
                want = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
                got = wilson_interval(k, n, confidence)
            # exact equality (NaN where both are NaN: confidence 1 at 0 < k < n)
            np.testing.assert_array_equal(got, (want.low, want.high), err_msg=str((k, n, confidence)))
            assert all(type(bound) is float for bound in got)


def test_wilson_coverage_is_close_to_nominal():
    rng = np.random.default_rng(0)
    n, p = 50, 0.3
    hits = sum(lo <= p <= hi for lo, hi in (wilson_interval(int(k), n) for k in rng.binomial(n, p, 4000)))
    assert 0.93 < hits / 4000 < 0.97


def test_wilson_errors():
    with pytest.raises(ValueError, match="n must be positive"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson_interval(5, 4)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(5, 10, 1.5)


def test_accuracy_with_ci():
    result = accuracy_with_ci([1, 0, 1, 1], [1, 1, 1, 1])
    assert result["accuracy"] == 0.75 and result["n"] == 4
    assert result["ci_low"] < 0.75 < result["ci_high"]
    with pytest.raises(ValueError, match="shape mismatch"):
        accuracy_with_ci([1, 0], [1])


def test_roc_known_answers():
    from mlreview.stats import rejection_at, roc

    y = np.array([0, 0, 1, 1])
    perfect = roc(y, np.array([0.1, 0.2, 0.8, 0.9]), 11)
    assert perfect["auc"] == 1.0 and np.all(perfect["rejection"][:-1] == 1.0)
    reversed_ = roc(y, np.array([0.9, 0.8, 0.2, 0.1]), 11)
    assert reversed_["auc"] == 0.0
    # one of the four pairs misordered: AUC 3/4
    assert roc(y, np.array([0.1, 0.85, 0.8, 0.9]), 11)["auc"] == 0.75
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200_000)
    chance = roc(y, rng.random(200_000), 101)
    assert abs(chance["auc"] - 0.5) < 0.01
    np.testing.assert_allclose(chance["rejection"], 1 - chance["efficiency"], atol=0.01)
    at = rejection_at(chance, [0.5, 0.8])
    assert set(at) == {"eff_0.5", "eff_0.8"} and abs(at["eff_0.5"] - 0.5) < 0.01
    with pytest.raises(ValueError, match="both classes"):
        roc(np.ones(5), np.arange(5.0))


def test_mean_and_se():
    mean, se = mean_and_se([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and se == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert np.isnan(mean_and_se([3.0])[1])
