"""The N-sweep slope and its bootstrap interval against numpy 2.3.5 / scipy 1.17.1.

Expected numbers are hard-coded with the producing call beside them; none came from tais.
The bootstrap draws differ between scipy and tais (different generators), so the interval is
compared with scipy's paired percentile bootstrap within Monte Carlo error, and determinism is
tested by repetition.
"""

from __future__ import annotations

import pytest

from tais.analysis.trend import least_squares_slope, quantile, sweep_trend

NS = [1, 3, 5, 8, 12]


def score(n: int, i: int) -> float:
    """A fixed 0/1 pattern over 80 items whose rate rises at large N."""
    return 1.0 if (i * 7 + n * 3) % 11 < 4 + (n >= 8) + (n == 12 and i % 3 == 0) else 0.0


SWEEP = {n: [score(n, i) for i in range(80)] for n in NS}
RATES = [0.3625, 0.3625, 0.3625, 0.45, 0.475]  # numpy.mean(SWEEP[n]) for n in NS


def test_slope_matches_polyfit_and_linregress() -> None:
    # numpy: numpy.polyfit(NS, RATES, 1)[0] -> 0.011898395721925104
    # scipy 1.17.1: scipy.stats.linregress(NS, RATES).slope -> 0.011898395721925135
    assert least_squares_slope(NS, RATES) == pytest.approx(0.011898395721925104, rel=1e-12)
    trend = sweep_trend(SWEEP, n_resamples=10)
    assert trend.rates == pytest.approx(RATES, abs=1e-15)
    assert trend.slope == pytest.approx(0.011898395721925135, rel=1e-12)
    assert trend.largest_range == pytest.approx(0.475 - 0.3625, abs=1e-15)


def test_slope_on_uneven_points() -> None:
    # numpy: numpy.polyfit([2, 3, 7, 20], [0.9, 0.7, 0.8, 0.1], 1)[0]
    assert least_squares_slope([2, 3, 7, 20], [0.9, 0.7, 0.8, 0.1]) == pytest.approx(
        -0.041262135922330086, rel=1e-12
    )


def test_bootstrap_interval_agrees_with_scipy_paired_percentile() -> None:
    # scipy 1.17.1: scipy.stats.bootstrap(tuple(numpy.array(SWEEP[n]) for n in NS), slope_of_means,
    #   paired=True, vectorized=True, n_resamples=20000, method="percentile",
    #   confidence_level=0.95, random_state=numpy.random.default_rng(12345)).confidence_interval
    #   -> (0.002339572192513368, 0.021758021390374336)
    # where slope_of_means(*cols, axis) is the least-squares slope of the column means on NS.
    low, high = 0.002339572192513368, 0.021758021390374336
    trend = sweep_trend(SWEEP, n_resamples=20000, seed=7)
    # Two independent 20,000-draw bootstraps: each end agrees to a tenth of the width.
    tolerance = 0.1 * (high - low)
    assert trend.ci_low == pytest.approx(low, abs=tolerance)
    assert trend.ci_high == pytest.approx(high, abs=tolerance)
    assert trend.ci_low < trend.slope < trend.ci_high


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    first = sweep_trend(SWEEP, n_resamples=500, seed=42)
    again = sweep_trend(SWEEP, n_resamples=500, seed=42)
    other = sweep_trend(SWEEP, n_resamples=500, seed=43)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)
    assert first.slope == other.slope


def test_items_unchanged_over_n_give_a_zero_interval() -> None:
    flat = {n: [1.0, 0.0, 1.0, 1.0] for n in NS}
    trend = sweep_trend(flat, n_resamples=200, seed=1)
    assert (trend.slope, trend.ci_low, trend.ci_high, trend.largest_range) == (0.0, 0.0, 0.0, 0.0)


def test_order_of_n_keys_does_not_matter() -> None:
    shuffled = {n: SWEEP[n] for n in reversed(NS)}
    assert sweep_trend(shuffled, n_resamples=300, seed=3) == sweep_trend(
        SWEEP, n_resamples=300, seed=3
    )


QUANTILE_VALUES = [0.3, 0.1, 0.7, 0.2, 0.9, 0.5, 0.4]


@pytest.mark.parametrize(
    ("q", "expected"),
    # numpy: numpy.quantile(QUANTILE_VALUES, q)
    [(0.0, 0.1), (0.025, 0.115), (0.25, 0.25), (0.5, 0.4), (0.975, 0.8699999999999999), (1.0, 0.9)],
)
def test_quantile_matches_numpy(q: float, expected: float) -> None:
    assert quantile(sorted(QUANTILE_VALUES), q) == pytest.approx(expected, abs=1e-12)


def test_unpaired_or_degenerate_sweeps_are_refused() -> None:
    with pytest.raises(ValueError, match="paired"):
        sweep_trend({1: [1.0, 0.0], 3: [1.0]})
    with pytest.raises(ValueError, match="at least 2 values of N"):
        sweep_trend({5: [1.0, 0.0]})
    with pytest.raises(ValueError, match="at least 1 item"):
        sweep_trend({1: [], 3: []})
