"""Mantel-Haenszel pooling against statsmodels 0.15.0.

Expected numbers are hard-coded with the producing call beside them; none came from tais.
With st = StratifiedTable([numpy.array(t) for t in tables]):
  odds ratio  st.oddsratio_pooled
  CI          st.oddsratio_pooled_confint(alpha=0.05)
  test        r = st.test_null_odds(correction=False); (r.statistic, r.pvalue)
"""

from __future__ import annotations

import math

import pytest

from tais.stratified import mantel_haenszel

TIGHT = 1e-9

CASES = [
    # Three pairs' AdvBench refusals, target-only row against speculative row.
    (
        [[[79, 21], [80, 20]], [[97, 3], [96, 4]], [[98, 2], [98, 2]]],
        (1.0, 0.551095814307151, 1.8145664946797329, 0.0, 1.0),
    ),
    (
        [[[12, 5], [7, 10]], [[20, 8], [15, 14]], [[6, 9], [3, 12]]],
        (
            2.6871291180683445,
            1.2495403091149426,
            5.778655433921296,
            6.413355463701074,
            0.011326517640307898,
        ),
    ),
    (
        [[[10, 0], [8, 2]], [[5, 5], [4, 6]]],
        (2.5, 0.5062071300979771, 12.346724548882396, 1.2666666666666668, 0.26039294361048304),
    ),
]


@pytest.mark.parametrize(("tables", "expected"), CASES)
def test_matches_statsmodels_stratified_table(
    tables: list[list[list[int]]], expected: tuple[float, float, float, float, float]
) -> None:
    result = mantel_haenszel(tables)
    odds_ratio, low, high, statistic, p_value = expected
    assert result.odds_ratio == pytest.approx(odds_ratio, rel=TIGHT)
    assert result.ci_low == pytest.approx(low, rel=TIGHT)
    assert result.ci_high == pytest.approx(high, rel=TIGHT)
    assert result.statistic == pytest.approx(statistic, rel=TIGHT, abs=TIGHT)
    assert result.p_value == pytest.approx(p_value, rel=1e-9)
    assert result.strata == len(tables)


def test_no_discordant_odds_give_an_infinite_ratio() -> None:
    # statsmodels 0.15.0 on [[[10, 0], [8, 2]], [[5, 0], [4, 6]]]: oddsratio_pooled inf,
    # confint (nan, nan), test_null_odds() statistic 6.762711864406779, pvalue 0.009308219694000197
    result = mantel_haenszel([[[10, 0], [8, 2]], [[5, 0], [4, 6]]])
    assert result.odds_ratio == math.inf
    assert math.isnan(result.ci_low) and math.isnan(result.ci_high)
    assert result.statistic == pytest.approx(6.762711864406779, rel=TIGHT)
    assert result.p_value == pytest.approx(0.009308219694000197, rel=1e-9)


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="no strata"):
        mantel_haenszel([])
    with pytest.raises(ValueError, match="2x2"):
        mantel_haenszel([[[1, 2, 3], [4, 5, 6]]])
    with pytest.raises(ValueError, match="non-negative"):
        mantel_haenszel([[[1, -2], [3, 4]]])
