"""Mantel-Haenszel pooling of 2x2 tables across strata (here: model pairs).

Each table is [[a, b], [c, d]]: rows are the two arms, columns success and failure, so the
odds ratio of one table is (a d) / (b c), arm of row 0 against arm of row 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import chi2, norm

Table = Sequence[Sequence[int]]


@dataclass(frozen=True)
class MantelHaenszel:
    """Pooled odds ratio with its (1 - alpha) CI, and the Cochran-Mantel-Haenszel test."""

    odds_ratio: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    strata: int


def _cells(table: Table) -> tuple[int, int, int, int]:
    if len(table) != 2 or any(len(row) != 2 for row in table):
        raise ValueError(f"each stratum must be a 2x2 table, got {table}")
    (a, b), (c, d) = table
    if min(a, b, c, d) < 0:
        raise ValueError(f"table counts must be non-negative, got {table}")
    if a + b + c + d < 2:
        raise ValueError(f"each stratum needs at least 2 observations, got {table}")
    return a, b, c, d


def mantel_haenszel(tables: Sequence[Table], alpha: float = 0.05) -> MantelHaenszel:
    """Mantel-Haenszel pooled odds ratio across strata, its CI and the CMH test.

    Mantel N, Haenszel W (1959) J Natl Cancer Inst 22:719-748: with n_k the stratum size,
    OR_MH = sum_k (a_k d_k / n_k) / sum_k (b_k c_k / n_k).
    CI: exp(log OR_MH -/+ z_{1-alpha/2} sqrt(V)), V the variance of log OR_MH of Robins J,
    Breslow N, Greenland S (1986) Biometrics 42:311-323, with P = (a + d)/n, Q = (b + c)/n,
    R = a d / n, S = b c / n: V = sum P R / (2 R+^2) + sum (P S + Q R) / (2 R+ S+)
    + sum Q S / (2 S+^2).
    Test of OR = 1 (no continuity correction): (sum a - sum E[a])^2 / sum Var(a), with
    E[a] = (a + b)(a + c)/n and Var(a) = (a + b)(c + d)(a + c)(b + d) / (n^2 (n - 1)),
    referred to chi-squared with 1 df.
    Matches statsmodels.stats.contingency_tables.StratifiedTable(tables): oddsratio_pooled,
    oddsratio_pooled_confint(alpha) and test_null_odds(correction=False).
    When R+ or S+ is 0 the pooled odds ratio is 0 or infinite and its CI is NaN; when every
    Var(a) is 0 the test is NaN.
    """
    if not tables:
        raise ValueError("no strata to pool")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    r_sum = s_sum = pr = ps_qr = qs = 0.0
    observed = expected = variance = 0.0
    for table in tables:
        a, b, c, d = _cells(table)
        n = a + b + c + d
        p, q, r, s = (a + d) / n, (b + c) / n, a * d / n, b * c / n
        r_sum, s_sum = r_sum + r, s_sum + s
        pr, ps_qr, qs = pr + p * r, ps_qr + p * s + q * r, qs + q * s
        observed += a
        expected += (a + b) * (a + c) / n
        variance += (a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1))
    nan = float("nan")
    if r_sum == 0.0 and s_sum == 0.0:
        odds_ratio = nan
    elif s_sum == 0.0:
        odds_ratio = math.inf
    else:
        odds_ratio = r_sum / s_sum
    if r_sum > 0.0 and s_sum > 0.0:
        var_log = pr / (2 * r_sum**2) + ps_qr / (2 * r_sum * s_sum) + qs / (2 * s_sum**2)
        half = float(norm.ppf(1.0 - alpha / 2.0)) * math.sqrt(var_log)
        ci_low, ci_high = (
            math.exp(math.log(odds_ratio) - half),
            math.exp(math.log(odds_ratio) + half),
        )
    else:
        ci_low = ci_high = nan
    if variance > 0.0:
        statistic = (observed - expected) ** 2 / variance
        p_value = float(chi2.sf(statistic, 1))
    else:
        statistic = p_value = nan
    return MantelHaenszel(odds_ratio, ci_low, ci_high, statistic, p_value, len(tables))
