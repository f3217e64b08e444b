"""Cohen's d and Welch's t test against scipy 1.17.1.

Every expected number is hard-coded with the scipy call that produced it beside it; none was
computed with tais. Cohen's d has no scipy function of its own: it is Student's pooled t
statistic times sqrt(1/n_x + 1/n_y), so that product is the reference.
"""

from __future__ import annotations

import math

import pytest

from tais.analysis.two_sample import cohens_d, welch_t_test

TIGHT = 1e-9

# Per-task acceptance of four safety tasks against two capability tasks, a larger pair of
# samples, and one where x has the lower mean and y an outlier.
X1, Y1 = [0.52, 0.47, 0.41, 0.55], [0.27, 0.25]
X2 = [0.61, 0.48, 0.52, 0.39, 0.44, 0.57, 0.50, 0.46, 0.53, 0.42]
Y2 = [0.31, 0.22, 0.28, 0.19, 0.35, 0.26, 0.24, 0.30]
X3, Y3 = [1.0, 2.0, 3.0], [1.0, 1.5, 9.0, 2.5]

WELCH_CASES = [
    # scipy 1.17.1: r = scipy.stats.ttest_ind(x, y, equal_var=False); (r.statistic, r.df, r.pvalue)
    (X1, Y1, (7.055889110685096, 3.5518631753624375, 0.0032847283192161507)),
    (X2, Y2, (7.886788367406548, 15.982156334758088, 6.718618145963268e-07)),
    (X3, Y3, (-0.7703288865196433, 3.556621331424481, 0.4890603597735102)),
]

COHENS_D_CASES = [
    # scipy 1.17.1: scipy.stats.ttest_ind(x, y, equal_var=True).statistic
    #               * numpy.sqrt(1 / len(x) + 1 / len(y))
    (X1, Y1, 4.24751625488496),
    (X2, Y2, 3.626143671638945),
    (X3, Y3, -0.5085476277156078),
]


@pytest.mark.parametrize(("x", "y", "expected"), WELCH_CASES)
def test_welch_matches_scipy(
    x: list[float], y: list[float], expected: tuple[float, float, float]
) -> None:
    result = welch_t_test(x, y)
    statistic, df, p_value = expected
    assert result.statistic == pytest.approx(statistic, rel=TIGHT)
    assert result.df == pytest.approx(df, rel=TIGHT)
    assert result.p_value == pytest.approx(p_value, rel=1e-7)
    assert result.diff == pytest.approx(sum(x) / len(x) - sum(y) / len(y), abs=TIGHT)


@pytest.mark.parametrize(("x", "y", "expected"), COHENS_D_CASES)
def test_cohens_d_matches_pooled_t(x: list[float], y: list[float], expected: float) -> None:
    assert cohens_d(x, y) == pytest.approx(expected, rel=TIGHT)


def test_swapping_samples_flips_the_sign() -> None:
    assert cohens_d(Y2, X2) == pytest.approx(-cohens_d(X2, Y2), rel=TIGHT)
    swapped, straight = welch_t_test(Y2, X2), welch_t_test(X2, Y2)
    assert swapped.statistic == pytest.approx(-straight.statistic, rel=TIGHT)
    assert swapped.p_value == pytest.approx(straight.p_value, rel=TIGHT)


def test_constant_samples() -> None:
    # scipy 1.17.1: scipy.stats.ttest_ind([1, 1], [2, 2], equal_var=False) gives statistic
    # -inf and pvalue 0.0; equal constant samples give nan for both.
    apart = welch_t_test([1.0, 1.0], [2.0, 2.0])
    assert apart.statistic == -math.inf and apart.p_value == 0.0
    same = welch_t_test([1.0, 1.0], [1.0, 1.0])
    assert math.isnan(same.statistic) and math.isnan(same.p_value)
    assert cohens_d([1.0, 1.0], [2.0, 2.0]) == -math.inf
    assert math.isnan(cohens_d([1.0, 1.0], [1.0, 1.0]))


def test_too_small_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        welch_t_test([0.5], [0.1, 0.2])
    with pytest.raises(ValueError, match="at least 2"):
        cohens_d([0.5, 0.4], [])
