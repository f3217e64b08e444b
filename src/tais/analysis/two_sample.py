"""Two independent samples of a continuous measure: Cohen's d and Welch's t test.

Used to compare acceptance between the safety and the capability tasks. Every difference is
x minus y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import t as student_t


def _moments(values: Sequence[float], name: str) -> tuple[int, float, float]:
    """Size, mean and unbiased (n - 1) variance of one sample."""
    n = len(values)
    if n < 2:
        raise ValueError(f"{name} needs at least 2 values, got {n}")
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return n, mean, var


def cohens_d(x: Sequence[float], y: Sequence[float]) -> float:
    """Cohen's d of x minus y with the pooled standard deviation.

    Cohen J (1988) Statistical Power Analysis for the Behavioral Sciences, 2nd ed., ch. 2:
    d = (mean_x - mean_y) / s_p, s_p = sqrt(((n_x - 1) s_x^2 + (n_y - 1) s_y^2) / (n_x + n_y - 2)),
    with s^2 the unbiased sample variances. Equals Student's pooled t statistic times
    sqrt(1/n_x + 1/n_y). When both samples are constant (s_p = 0) there is no scale: d is
    NaN for equal means and +/-inf otherwise.
    """
    n_x, mean_x, var_x = _moments(x, "x")
    n_y, mean_y, var_y = _moments(y, "y")
    pooled = ((n_x - 1) * var_x + (n_y - 1) * var_y) / (n_x + n_y - 2)
    return _ratio(mean_x - mean_y, math.sqrt(pooled))


def _ratio(diff: float, scale: float) -> float:
    if scale == 0.0:
        return float("nan") if diff == 0.0 else math.copysign(math.inf, diff)
    return diff / scale


@dataclass(frozen=True)
class WelchResult:
    """Welch's unequal-variance t test of x minus y: statistic, degrees of freedom, p-value."""

    diff: float
    statistic: float
    df: float
    p_value: float


def welch_t_test(x: Sequence[float], y: Sequence[float]) -> WelchResult:
    """Two-sided Welch t test of equal means without assuming equal variances.

    Welch BL (1947) Biometrika 34:28-35; Satterthwaite FE (1946) Biometrics Bulletin 2:110-114:
    t = (mean_x - mean_y) / sqrt(s_x^2/n_x + s_y^2/n_y),
    df = (s_x^2/n_x + s_y^2/n_y)^2 / ((s_x^2/n_x)^2/(n_x - 1) + (s_y^2/n_y)^2/(n_y - 1)),
    p = 2 * P(T_df > |t|). Matches scipy.stats.ttest_ind(x, y, equal_var=False). When both
    samples are constant the standard error is 0 and df is NaN; then equal means give a NaN
    statistic and p, different means +/-inf and p = 0 (as scipy).
    """
    n_x, mean_x, var_x = _moments(x, "x")
    n_y, mean_y, var_y = _moments(y, "y")
    diff = mean_x - mean_y
    a, b = var_x / n_x, var_y / n_y
    if a + b == 0.0:
        statistic = _ratio(diff, 0.0)
        p_value = float("nan") if math.isnan(statistic) else 0.0
        return WelchResult(diff, statistic, float("nan"), p_value)
    statistic = diff / math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n_x - 1) + b * b / (n_y - 1))
    p_value = 2.0 * float(student_t.sf(abs(statistic), df))
    return WelchResult(diff, statistic, df, min(1.0, p_value))
