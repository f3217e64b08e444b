"""Equivalence statistics for comparing arm A (target only) with arm B (speculative).

Every difference is B minus A. Paired functions take the four cells of the paired 2x2
table: ``both`` (success in A and B), ``only_a``, ``only_b`` and ``neither``. Counts may be
fractional where outcomes are scores in [0, 1] (see tais.analysis.outcomes); the formulas are
unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq
from scipy.stats import binom, norm

PAIRED_METHODS = ("tango", "newcombe")


def _z(alpha: float) -> float:
    """Two-sided standard normal critical value z_{1 - alpha/2}."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return float(norm.ppf(1.0 - alpha / 2.0))


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _paired_n(both: float, only_a: float, only_b: float, neither: float) -> float:
    if min(both, only_a, only_b, neither) < 0:
        raise ValueError("paired cell counts must be non-negative")
    n = both + only_a + only_b + neither
    if n == 0:
        raise ValueError("paired table is empty (n == 0)")
    return n


def wilson_ci(k: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n.

    Wilson EB (1927), JASA 22:209-212; Newcombe (1998) Stat Med 17:857, method 3:
    (k + z^2/2 -/+ z * sqrt(k(n - k)/n + z^2/4)) / (n + z^2), z = z_{1-alpha/2}.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n], got k={k}, n={n}")
    z = _z(alpha)
    centre = (k + z * z / 2.0) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4.0)
    # Pin the closed ends exactly: rounding would otherwise leave e.g. -1e-17 at k == 0.
    lo = 0.0 if k == 0 else _clip(centre - half, 0.0, 1.0)
    hi = 1.0 if k == n else _clip(centre + half, 0.0, 1.0)
    return lo, hi


def identity_share(identical: int, n: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Share of items whose outputs are byte-identical between two arms, with its Wilson CI.

    Returns (identical / n, low, high); the interval is wilson_ci(identical, n, alpha), so a
    share of 1 still carries the uncertainty of a finite n (e.g. 4006/4006: low 0.99904).
    """
    low, high = wilson_ci(identical, n, alpha)
    return identical / n, low, high


def cohens_h(p_a: float, p_b: float) -> float:
    """Cohen's h effect size for two proportions, B minus A.

    Cohen J (1988) Statistical Power Analysis for the Behavioral Sciences, 2nd ed., ch. 6:
    h = 2*asin(sqrt(p_b)) - 2*asin(sqrt(p_a)).
    """
    for p in (p_a, p_b):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"proportions must be in [0, 1], got {p}")
    return 2.0 * math.asin(math.sqrt(p_b)) - 2.0 * math.asin(math.sqrt(p_a))


def _tango_ci(b: float, c: float, n: float, z: float) -> tuple[float, float]:
    """Tango (1998) score interval for (b - c)/n; b = only_b, c = only_a."""
    est = (b - c) / n
    if b + c == 0:
        # No discordant pairs: the score equation solves to +/- z^2/(n + z^2).
        h = z * z / (n + z * z)
        return -h, h

    def restricted_sd(d: float) -> float:
        # Restricted MLE of the only_a cell probability under delta = d (closed-form root
        # of Tango's quadratic), then sqrt of n * Var(b - c) under that null.
        qa = 2.0 * n
        qb = -b - c + (2.0 * n - b + c) * d
        qc = -c * d * (1.0 - d)
        p21 = (math.sqrt(max(qb * qb - 4.0 * qa * qc, 0.0)) - qb) / (2.0 * qa)
        return math.sqrt(max(n * (2.0 * p21 + d * (1.0 - d)), 0.0))

    # Root of T(d) = -/+z written as num -/+ z*sd so it stays finite where sd -> 0 at +/-1.
    def lower_eq(d: float) -> float:
        return (b - c - n * d) - z * restricted_sd(d)

    def upper_eq(d: float) -> float:
        return (b - c - n * d) + z * restricted_sd(d)

    # At est == +/-1 the score sd vanishes at est itself, so that end has a closed form
    # (T reduces to sqrt(n(1 - d)/(1 + d)) or its mirror image).
    if c == n:
        lo = -1.0
    elif b == n:
        lo = (n - z * z) / (n + z * z)
    else:
        lo = brentq(lower_eq, -1.0, est, xtol=1e-12)
    if b == n:
        hi = 1.0
    elif c == n:
        hi = (z * z - n) / (n + z * z)
    else:
        hi = brentq(upper_eq, est, 1.0, xtol=1e-12)
    return _clip(lo, -1.0, 1.0), _clip(hi, -1.0, 1.0)


def _newcombe_ci(
    both: float, only_a: float, only_b: float, neither: float, n: float, alpha: float
) -> tuple[float, float]:
    """Newcombe (1998) method 10 for p_B - p_A."""
    p_b = (both + only_b) / n
    p_a = (both + only_a) / n
    l_b, u_b = wilson_ci(both + only_b, n, alpha)
    l_a, u_a = wilson_ci(both + only_a, n, alpha)
    margins = (both + only_b) * (only_a + neither) * (both + only_a) * (only_b + neither)
    if margins == 0:
        phi = 0.0  # Newcombe's rule when any margin is empty
    else:
        cross = both * neither - only_a * only_b
        # Continuity-corrected phi: shrink positive association by n/2, never below 0.
        corrected = max(cross - n / 2.0, 0.0) if cross > 0 else float(cross)
        phi = corrected / math.sqrt(margins)
    d = p_b - p_a
    lo = d - math.sqrt((p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a) + (u_a - p_a) ** 2)
    hi = d + math.sqrt((p_a - l_a) ** 2 - 2 * phi * (p_a - l_a) * (u_b - p_b) + (u_b - p_b) ** 2)
    return _clip(lo, -1.0, 1.0), _clip(hi, -1.0, 1.0)


def paired_diff_ci(
    both: float,
    only_a: float,
    only_b: float,
    neither: float,
    alpha: float = 0.05,
    method: str = "tango",
) -> tuple[float, float]:
    """(1 - alpha) CI for the paired difference p_B - p_A = (only_b - only_a) / n.

    method="tango": asymptotic score interval, Tango T (1998) Stat Med 17:891-908. For
    H0: delta = d, T(d) = (only_b - only_a - n*d) / sqrt(n * (2*q + d*(1 - d))), where q is
    the restricted MLE of P(only_a) = (sqrt(B^2 - 4AC) - B) / 2A with A = 2n,
    B = -only_b - only_a + (2n - only_b + only_a)*d, C = -only_a*d*(1 - d); the limits solve
    T(d) = +/-z (same equations as Fagerland, Lydersen & Laake 2017, Statistical Analysis
    of Contingency Tables, ch. 8). Solved with brentq; the boundary cases (no discordant
    pairs, estimate +/-1) use the closed-form roots of the same equation.

    method="newcombe": hybrid score interval, Newcombe RG (1998) Stat Med 17:2635-2650,
    method 10: Wilson limits (l, u) of both marginals combined as
    L = D - sqrt((p_B - l_B)^2 - 2*phi*(p_B - l_B)*(u_A - p_A) + (u_A - p_A)^2),
    U = D + sqrt((p_A - l_A)^2 - 2*phi*(p_A - l_A)*(u_B - p_B) + (u_B - p_B)^2),
    with Newcombe's corrected phi, and phi = 0 when any margin of the table is zero.

    Limits are clipped to [-1, 1].
    """
    n = _paired_n(both, only_a, only_b, neither)
    if method == "tango":
        return _tango_ci(only_b, only_a, n, _z(alpha))
    if method == "newcombe":
        return _newcombe_ci(both, only_a, only_b, neither, n, alpha)
    raise ValueError(f"unknown method {method!r}; expected one of {PAIRED_METHODS}")


@dataclass(frozen=True)
class TostResult:
    """Outcome of a TOST equivalence check of B - A against +/- margin.

    equivalent: the (1 - 2*alpha) CI lies strictly inside (-margin, +margin).
    beyond_margin: the CI lies entirely beyond a margin (ci_low > margin or
    ci_high < -margin), i.e. a difference larger than the margin is established.
    zero_variance: the Wald standard error was 0, so neither verdict is given.
    """

    diff: float
    ci_low: float
    ci_high: float
    margin: float
    alpha: float
    method: str
    equivalent: bool
    beyond_margin: bool
    zero_variance: bool


def _tost_from_ci(
    diff: float, lo: float, hi: float, margin: float, alpha: float, method: str
) -> TostResult:
    return TostResult(
        diff=diff,
        ci_low=lo,
        ci_high=hi,
        margin=margin,
        alpha=alpha,
        method=method,
        equivalent=-margin < lo and hi < margin,
        beyond_margin=lo > margin or hi < -margin,
        zero_variance=False,
    )


def _check_tost_args(margin: float, alpha: float) -> None:
    if margin <= 0.0:
        raise ValueError(f"margin must be positive, got {margin}")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5) for a TOST, got {alpha}")


def tost_paired(
    both: float,
    only_a: float,
    only_b: float,
    neither: float,
    margin: float = 0.03,
    alpha: float = 0.05,
    method: str = "tango",
) -> TostResult:
    """Paired TOST of |p_B - p_A| < margin at level alpha.

    Schuirmann DJ (1987) J Pharmacokinet Biopharm 15:657-680: the two one-sided level-alpha
    tests both reject iff the (1 - 2*alpha) CI lies inside (-margin, margin). The CI is
    paired_diff_ci(..., alpha=2*alpha, method=method).
    """
    _check_tost_args(margin, alpha)
    n = _paired_n(both, only_a, only_b, neither)
    lo, hi = paired_diff_ci(both, only_a, only_b, neither, alpha=2.0 * alpha, method=method)
    return _tost_from_ci((only_b - only_a) / n, lo, hi, margin, alpha, method)


def tost_wald_unpaired(
    k_a: float, n_a: int, k_b: float, n_b: int, margin: float = 0.03, alpha: float = 0.05
) -> TostResult:
    """Unpaired TOST of |p_B - p_A| < margin via the Wald (1 - 2*alpha) CI.

    Schuirmann (1987) compatibility method with the unpooled Wald interval
    diff +/- z_{1-alpha} * sqrt(p_A(1 - p_A)/n_A + p_B(1 - p_B)/n_B) (Newcombe 1998,
    Stat Med 17:873, method 1). When the standard error is 0 (every rate 0 or 1) the
    Wald interval is degenerate: the result is flagged zero_variance with CI (diff, diff)
    and neither equivalent nor beyond_margin, never silently passed or failed.
    """
    _check_tost_args(margin, alpha)
    for k, n in ((k_a, n_a), (k_b, n_b)):
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p_a, p_b = k_a / n_a, k_b / n_b
    diff = p_b - p_a
    se = math.sqrt(p_a * (1.0 - p_a) / n_a + p_b * (1.0 - p_b) / n_b)
    if se == 0.0:
        return TostResult(diff, diff, diff, margin, alpha, "wald", False, False, True)
    half = _z(2.0 * alpha) * se
    return _tost_from_ci(diff, diff - half, diff + half, margin, alpha, "wald")


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact (conditional binomial) McNemar p-value.

    McNemar Q (1947) Psychometrika 12:153-157, exact form: with b, c the discordant counts,
    p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2)), and p = 1 when b + c = 0. Matches
    statsmodels.stats.contingency_tables.mcnemar(table, exact=True).pvalue.
    """
    if only_a < 0 or only_b < 0:
        raise ValueError("discordant counts must be non-negative")
    m = only_a + only_b
    if m == 0:
        return 1.0
    return min(1.0, 2.0 * float(binom.cdf(min(only_a, only_b), m, 0.5)))


def holm(p_values: list[float]) -> list[float]:
    """Holm (1979) step-down adjusted p-values, returned in input order.

    Holm S (1979) Scand J Stat 6:65-70: with p_(1) <= ... <= p_(m),
    p~_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j)).
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def mde_two_proportions(p: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable absolute difference from base rate p, n per arm, two-sided.

    Cohen (1988) ch. 6 arcsine approximation: h = (z_{1-alpha/2} + z_power) * sqrt(2/n),
    p' = sin^2(asin(sqrt(p)) +/- h/2) with the angle clipped to [0, pi/2]; returns the
    larger |p' - p| of the two directions. This is the unpaired (two independent arms)
    MDE, conservative for paired designs with positively correlated arms; it is the
    per-cell MDE reported in the paper. When both directions hit the [0, 1] boundary
    nothing is detectable and the result is max(p, 1 - p).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    h = (_z(alpha) + float(norm.ppf(power))) * math.sqrt(2.0 / n)
    phi = math.asin(math.sqrt(p))
    up = math.sin(min(phi + h / 2.0, math.pi / 2.0)) ** 2
    down = math.sin(max(phi - h / 2.0, 0.0)) ** 2
    return max(up - p, p - down)


def cohens_kappa(table: list[list[int]], alpha: float = 0.05) -> tuple[float, float, float]:
    """Cohen's kappa of two raters with its asymptotic (1 - alpha) CI: (kappa, low, high).

    `table[i][j]` counts the units rater A put in category i and rater B in category j.
    Cohen J (1960) Educ Psychol Meas 20:37-46: kappa = (p_o - p_e) / (1 - p_e), with p_o the
    diagonal share and p_e = sum_i p_i. * p_.i. The standard error is the large-sample
    (non-null) one of Fleiss JL, Cohen J, Everitt BS (1969) Psychol Bull 72:323-327:
    Var = [sum_i p_ii (1 - (p_i. + p_.i)(1 - kappa))^2
           + (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
           - (kappa - p_e (1 - kappa))^2] / ((1 - p_e)^2 n),
    and the limits are kappa -/+ z_{1-alpha/2} * sqrt(Var), clipped to [-1, 1]. Matches
    statsmodels.stats.inter_rater.cohens_kappa(table) (kappa, kappa_low, kappa_upp at
    alpha = 0.05) up to the clipping. When p_e == 1 (both raters used one and the same
    category for every unit) kappa is undefined and all three values are NaN.
    """
    k = len(table)
    if k < 2 or any(len(row) != k for row in table):
        raise ValueError("table must be square with at least 2 categories")
    if any(c < 0 for row in table for c in row):
        raise ValueError("table counts must be non-negative")
    n = sum(sum(row) for row in table)
    if n == 0:
        raise ValueError("table is empty (n == 0)")
    z = _z(alpha)
    p = [[c / n for c in row] for row in table]
    row = [sum(p[i]) for i in range(k)]
    col = [sum(p[i][j] for i in range(k)) for j in range(k)]
    p_o = sum(p[i][i] for i in range(k))
    p_e = sum(row[i] * col[i] for i in range(k))
    if p_e >= 1.0:
        nan = float("nan")
        return nan, nan, nan
    kappa = (p_o - p_e) / (1.0 - p_e)
    term_a = sum(p[i][i] * (1.0 - (row[i] + col[i]) * (1.0 - kappa)) ** 2 for i in range(k))
    term_b = (1.0 - kappa) ** 2 * sum(
        p[i][j] * (col[i] + row[j]) ** 2 for i in range(k) for j in range(k) if i != j
    )
    term_c = (kappa - p_e * (1.0 - kappa)) ** 2
    var = max(term_a + term_b - term_c, 0.0) / ((1.0 - p_e) ** 2 * n)
    half = z * math.sqrt(var)
    return kappa, _clip(kappa - half, -1.0, 1.0), _clip(kappa + half, -1.0, 1.0)
