"""Tests for tais.analysis.stats against values produced by outside implementations.

Every expected number is hard-coded; the call that produced it is written beside it.
"statsmodels 0.15.0" / "scipy 1.17.1" values were computed in a scratch venv, never with
tais.analysis.stats. Published values are quoted with the source they were read from.

Cell order in paired tables here is always (both, only_a, only_b, neither) and the
difference is p_B - p_A = (only_b - only_a) / n. Conversions from other conventions:
  - R ratesci::pairbinci(x = c(a, b, c, d)) estimates (b - c)/n, so both=a, only_b=b,
    only_a=c, neither=d.
  - R propint::ci.two.dep.props(e, f, g, h) estimates (f - g)/n, so both=e, only_b=f,
    only_a=g, neither=h.
  - R contingencytables, table rbind(c(n11, n12), c(n21, n22)), estimates (n12 - n21)/N,
    so both=n11, only_b=n12, only_a=n21, neither=n22.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from tais.analysis.stats import (
    TostResult,
    cohens_h,
    cohens_kappa,
    holm,
    identity_share,
    mcnemar_exact,
    mde_two_proportions,
    paired_diff_ci,
    tost_paired,
    tost_wald_unpaired,
    wilson_ci,
)

TIGHT = 1e-9


# --- Wilson -------------------------------------------------------------------------------

WILSON_CASES = [
    # (k, n, alpha, expected) -- statsmodels 0.15.0:
    # proportion_confint(k, n, alpha=alpha, method="wilson")
    (3, 10, 0.05, (0.10779126740630104, 0.6032218525388546)),
    (0, 10, 0.05, (0.0, 0.27753279986288926)),
    (10, 10, 0.05, (0.7224672001371106, 1.0)),
    (0, 1, 0.05, (0.0, 0.7934506856227627)),
    (1, 1, 0.05, (0.2065493143772374, 1.0)),
    (37, 200, 0.05, (0.13730192800616045, 0.24457062761151752)),
    (5, 50, 0.10, (0.049529034477445166, 0.191537514151571)),
    (0, 100, 0.10, (0.0, 0.026342720783174345)),
    (100, 100, 0.10, (0.9736572792168257, 1.0)),
]


@pytest.mark.parametrize(("k", "n", "alpha", "expected"), WILSON_CASES)
def test_wilson_matches_statsmodels(
    k: int, n: int, alpha: float, expected: tuple[float, float]
) -> None:
    lo, hi = wilson_ci(k, n, alpha)
    assert lo == pytest.approx(expected[0], abs=TIGHT)
    assert hi == pytest.approx(expected[1], abs=TIGHT)


def test_wilson_closed_ends_are_exact() -> None:
    assert wilson_ci(0, 7)[0] == 0.0
    assert wilson_ci(7, 7)[1] == 1.0


def test_wilson_rejects_empty_and_bad_counts() -> None:
    with pytest.raises(ValueError):
        wilson_ci(0, 0)
    with pytest.raises(ValueError):
        wilson_ci(5, 4)
    with pytest.raises(ValueError):
        wilson_ci(-1, 4)


# --- Byte-identity share -----------------------------------------------------------------

IDENTITY_CASES = [
    # (identical, n, expected low, high) -- statsmodels 0.15.0:
    # proportion_confint(identical, n, alpha=0.05, method="wilson")
    (4006, 4006, 0.9990419923430529, 1.0),
    (2592, 2859, 0.8953923412460018, 0.9167378564764211),
    (1599, 4006, 0.3840897912696846, 0.41440598261618994),
    (0, 953, 0.0, 0.004014728652569799),
]


@pytest.mark.parametrize(("identical", "n", "low", "high"), IDENTITY_CASES)
def test_identity_share_with_wilson_interval(
    identical: int, n: int, low: float, high: float
) -> None:
    share, lo, hi = identity_share(identical, n)
    assert share == identical / n
    assert lo == pytest.approx(low, abs=TIGHT)
    assert hi == pytest.approx(high, abs=TIGHT)


# --- Cohen's h ----------------------------------------------------------------------------

COHENS_H_CASES = [
    # statsmodels returns 2asin(sqrt(p1)) - 2asin(sqrt(p2)), so cohens_h(p_a, p_b) is
    # proportion_effectsize(p_b, p_a).
    (0.3, 0.5, 0.4115168460674883),  # statsmodels 0.15.0: proportion_effectsize(0.5, 0.3)
    (0.95, 0.9, -0.19247429699702145),  # statsmodels 0.15.0: proportion_effectsize(0.9, 0.95)
    (1.0, 0.0, -3.141592653589793),  # statsmodels 0.15.0: proportion_effectsize(0.0, 1.0)
    (0.12, 0.12, 0.0),  # statsmodels 0.15.0: proportion_effectsize(0.12, 0.12)
]


@pytest.mark.parametrize(("p_a", "p_b", "expected"), COHENS_H_CASES)
def test_cohens_h_matches_statsmodels(p_a: float, p_b: float, expected: float) -> None:
    assert cohens_h(p_a, p_b) == pytest.approx(expected, abs=TIGHT)


def test_cohens_h_sign_is_b_minus_a() -> None:
    assert cohens_h(0.2, 0.4) > 0
    assert cohens_h(0.4, 0.2) == pytest.approx(-cohens_h(0.2, 0.4))


# --- McNemar ------------------------------------------------------------------------------

MCNEMAR_CASES = [
    # (only_a, only_b, expected) -- statsmodels 0.15.0:
    # mcnemar([[5, only_a], [only_b, 5]], exact=True).pvalue
    (0, 0, 1.0),  # no discordant pairs
    (3, 5, 0.7265625),
    (10, 0, 0.001953125),
    (0, 10, 0.001953125),
    (7, 7, 1.0),
    (12, 2, 0.012939453125),
    (1, 0, 1.0),
    (40, 0, 1.8189894035458565e-12),  # all pairs discordant, one direction
    (25, 15, 0.1538599441628321),  # all pairs discordant, both directions
]


@pytest.mark.parametrize(("only_a", "only_b", "expected"), MCNEMAR_CASES)
def test_mcnemar_exact_matches_statsmodels(only_a: int, only_b: int, expected: float) -> None:
    assert mcnemar_exact(only_a, only_b) == pytest.approx(expected, rel=1e-9, abs=1e-15)


# --- Holm ---------------------------------------------------------------------------------

HOLM_CASES = [
    # statsmodels 0.15.0: multipletests(p, method="holm")[1]
    ([0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]),
    ([0.2, 0.5, 0.01], [0.4, 0.5, 0.03]),
    ([0.04, 0.04, 0.04], [0.12, 0.12, 0.12]),
    ([0.6, 0.7, 0.3, 0.9], [1.0, 1.0, 1.0, 1.0]),
    ([0.02], [0.02]),
]


@pytest.mark.parametrize(("p_values", "expected"), HOLM_CASES)
def test_holm_matches_statsmodels(p_values: list[float], expected: list[float]) -> None:
    assert holm(p_values) == pytest.approx(expected, abs=TIGHT)


def test_holm_empty() -> None:
    assert holm([]) == []


# --- Newcombe method 10 -------------------------------------------------------------------

NEWCOMBE_PUBLISHED = [
    # (both, only_a, only_b, neither, expected, tolerance)
    # Newcombe (1998) Stat Med 17:2635, Table II, method 10, 95% CI; numbers as checked in
    # github m-Py/propint tests/testthat/test_Two_Dependent_Props_CI.R (commit 58ae0592):
    # ci.two.dep.props(ci=95, e=36, f=12, g=2, h=0) -> 0.0569 to 0.3404
    (36, 2, 12, 0, (0.0569, 0.3404), 1e-4),
    # ci.two.dep.props(ci=95, e=18, f=12, g=2, h=18) -> 0.0562 to 0.3290
    (18, 2, 12, 18, (0.0562, 0.3290), 1e-4),
    # ci.two.dep.props(ci=95, e=53, f=0, g=0, h=1) -> -0.0729 to 0.0729
    (53, 0, 0, 1, (-0.0729, 0.0729), 1e-4),
    # ci.two.dep.props(ci=95, e=0, f=30, g=0, h=0) -> 0.8395 to 1.0 (a margin is 0, phi = 0)
    (0, 0, 30, 0, (0.8395, 1.0), 1e-4),
    # github petelaud/ratesci tests/testthat/test3.R (commit 0c942289), "against Newcombe's
    # method 10 result": pairbinci(x = c(20, 12, 2, 16), method_RD = "MOVER_newc",
    # moverbase = "wilson") -> 0.0562, 0.3292
    (20, 2, 12, 16, (0.0562, 0.3292), 1e-4),
    # same file, "Fagerland use Newcombe's correlation-corrected 'method 10'" (Fagerland,
    # Lydersen & Laake 2014, Stat Med 33:2850): pairbinci(x = c(1, 1, 7, 12), ...) ->
    # -0.507, -0.026
    (1, 7, 1, 12, (-0.507, -0.026), 1e-3),
    # contingencytables tests/testthat/test-ch8.R (github ocbe-uio/contingencytables,
    # commit ac7bf36e), Cavo et al. 2012 data rbind(c(59, 6), c(16, 80)):
    # Newcombe_square_and_add_CI_paired_2x2 -> -0.0621 (95% CI -0.1186 to -0.0046)
    (59, 16, 6, 80, (-0.1186, -0.0046), 1e-4),
]


@pytest.mark.parametrize(
    ("both", "only_a", "only_b", "neither", "expected", "tol"), NEWCOMBE_PUBLISHED
)
def test_newcombe_matches_published(
    both: int,
    only_a: int,
    only_b: int,
    neither: int,
    expected: tuple[float, float],
    tol: float,
) -> None:
    lo, hi = paired_diff_ci(both, only_a, only_b, neither, method="newcombe")
    assert lo == pytest.approx(expected[0], abs=tol / 2 + 1e-12)
    assert hi == pytest.approx(expected[1], abs=tol / 2 + 1e-12)


# --- Tango score interval -----------------------------------------------------------------

TANGO_PUBLISHED = [
    # (both, only_a, only_b, neither, alpha, expected, tolerance)
    # github petelaud/ratesci tests/testthat/test3.R (commit 0c942289), "legacy & new
    # methods match published examples"; Tango = method_RD "Score", skew = FALSE, bcf = FALSE.
    # Tango (1998) example data, 90% CI:
    # pairbinci(x = c(43, 0, 1, 0), level = 0.90, ...) -> -0.096, 0.037
    (43, 1, 0, 0, 0.10, (-0.096, 0.037), 1e-3),
    # "Tango RD": pairbinci(x = c(4, 9, 3, 16), ...) -> -0.027, 0.390
    (4, 3, 9, 16, 0.05, (-0.027, 0.390), 1e-3),
    # Agresti & Min (2005) Stat Med 24:729: pairbinci(x = c(53, 16, 8, 9), ...) -> -0.020, 0.207
    (53, 8, 16, 9, 0.05, (-0.020, 0.207), 1e-3),
    # Fagerland, Lydersen & Laake (2014): pairbinci(x = c(1, 1, 7, 12), ...) -> -0.517, -0.026
    (1, 7, 1, 12, 0.05, (-0.517, -0.026), 1e-3),
    # Tang (ML) 2010 example: pairbinci(x = c(8, 3, 1, 2), ...) -> -0.1670, 0.4327
    (8, 1, 3, 2, 0.05, (-0.1670, 0.4327), 1e-4),
    # Chang 2024 example: pairbinci(x = c(7, 25, 2, 68), ...) -> 0.139, 0.321
    (7, 2, 25, 68, 0.05, (0.139, 0.321), 1e-3),
    # contingencytables tests/testthat/test-ch8.R (commit ac7bf36e), Cavo et al. 2012:
    # Tango_asymptotic_score_CI_paired_2x2 -> -0.0621 (95% CI -0.1240 to -0.0054)
    (59, 16, 6, 80, 0.05, (-0.1240, -0.0054), 1e-4),
]


@pytest.mark.parametrize(
    ("both", "only_a", "only_b", "neither", "alpha", "expected", "tol"), TANGO_PUBLISHED
)
def test_tango_matches_published(
    both: int,
    only_a: int,
    only_b: int,
    neither: int,
    alpha: float,
    expected: tuple[float, float],
    tol: float,
) -> None:
    lo, hi = paired_diff_ci(both, only_a, only_b, neither, alpha=alpha, method="tango")
    assert lo == pytest.approx(expected[0], abs=tol / 2 + 1e-12)
    assert hi == pytest.approx(expected[1], abs=tol / 2 + 1e-12)


# Boundary tables. No published values exist for these, so the expected numbers come from
# scratch-only Python ports of two published R implementations (not from tais.analysis.stats):
#   tango: contingencytables::Tango_asymptotic_score_CI_paired_2x2 (github
#     ocbe-uio/contingencytables R/Tango_asymptotic_score_CI_paired_2x2.R): uniroot over
#     (-1 + 1e-7, 1 - 1e-7), L = -1 / U = 1 when the estimate is -1 / 1; run with scipy
#     1.17.1 brentq.
#   newcombe: propint::ci.two.dep.props (github m-Py/propint R/ci_two_dep_props.R) with the
#     Wilson limits from statsmodels 0.15.0 proportion_confint(method="wilson").
BOUNDARY_CASES = [
    # (both, only_a, only_b, neither, alpha, tango_expected, newcombe_expected)
    # both rates 0% (all neither) and 100% (all both), n = 100 and 50
    (0, 0, 0, 100, 0.05, (-0.03699349820698575, 0.036993498206985755),
     (-0.03699349820698569, 0.03699349820698569)),
    (100, 0, 0, 0, 0.05, (-0.03699349820698575, 0.036993498206985755),
     (-0.03699349820698572, 0.03699349820698572)),
    (100, 0, 0, 0, 0.10, (-0.026342720783174352, 0.026342720783174352),
     (-0.026342720783174345, 0.026342720783174345)),
    (50, 0, 0, 0, 0.10, (-0.05133318578627029, 0.051333185786270295),
     (-0.05133318578627022, 0.05133318578627022)),
    (0, 0, 0, 50, 0.05, (-0.07134759913335897, 0.07134759913335896),
     (-0.07134759913335874, 0.07134759913335874)),
    # n = 1, each possible table
    (1, 0, 0, 0, 0.05, (-0.7934506856227853, 0.7934506856227853),
     (-0.7934506856227626, 0.7934506856227626)),
    (0, 1, 0, 0, 0.05, (-1.0, 0.5869013712455252), (-1.0, 0.12210872068194178)),
    (0, 0, 1, 0, 0.05, (-0.586901371245525, 1.0), (-0.12210872068194178, 1.0)),
    (0, 0, 0, 1, 0.10, (-0.7301340512159458, 0.7301340512159458),
     (-0.730134051215946, 0.730134051215946)),
    (0, 0, 1, 0, 0.10, (-0.460268102431869, 1.0), (-0.03256547758000283, 1.0)),
    # all pairs discordant
    (0, 30, 20, 0, 0.05, (-0.44783220539486895, 0.07637124504821266),
     (-0.4478322053948691, 0.07637124504821285)),
    (0, 0, 25, 0, 0.05, (0.7336154981218972, 1.0), (0.811637712318997, 1.0)),
    (0, 25, 0, 0, 0.10, (-1.0, -0.8046929879878892), (-1.0, -0.8618970873929601)),
    # nearly all concordant, and a large one-sided shift
    (99, 1, 0, 0, 0.05, (-0.05448619617870532, 0.027363433189055535),
     (-0.05448619617870542, 0.02789847073971185)),
    (3, 2, 40, 55, 0.10, (0.293773707736485, 0.4664594055278002),
     (0.28871289217820584, 0.46527540039843296)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("both", "only_a", "only_b", "neither", "alpha", "tango", "newcombe"), BOUNDARY_CASES
)
def test_boundary_tables_match_reference_ports(
    both: int,
    only_a: int,
    only_b: int,
    neither: int,
    alpha: float,
    tango: tuple[float, float],
    newcombe: tuple[float, float],
) -> None:
    for method, expected in (("tango", tango), ("newcombe", newcombe)):
        lo, hi = paired_diff_ci(both, only_a, only_b, neither, alpha=alpha, method=method)
        assert lo == pytest.approx(expected[0], abs=1e-7), method
        assert hi == pytest.approx(expected[1], abs=1e-7), method


@pytest.mark.parametrize("method", ["tango", "newcombe"])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.10, 0.20])
@pytest.mark.parametrize(
    "table",
    [
        (0, 0, 0, 100),  # both rates 0%
        (100, 0, 0, 0),  # both rates 100%
        (1, 0, 0, 0),  # n = 1
        (0, 1, 0, 0),
        (0, 0, 1, 0),
        (0, 0, 0, 1),
        (0, 7, 5, 0),  # all discordant
        (0, 0, 12, 0),
        (0, 12, 0, 0),
        (0, 1, 1, 0),
        (40, 0, 60, 0),  # p_A = 0.4, p_B = 1
        (0, 60, 0, 40),  # p_A = 0.6, p_B = 0
        (997, 2, 1, 0),
    ],
)
def test_paired_ci_is_well_formed(
    table: tuple[int, int, int, int], alpha: float, method: str
) -> None:
    both, only_a, only_b, neither = table
    lo, hi = paired_diff_ci(both, only_a, only_b, neither, alpha=alpha, method=method)
    est = (only_b - only_a) / sum(table)
    assert math.isfinite(lo) and math.isfinite(hi)
    assert -1.0 <= lo <= hi <= 1.0
    assert lo <= est + 1e-12 and est - 1e-12 <= hi


def test_tango_all_concordant_half_width_is_z2_over_n_plus_z2() -> None:
    # z = 1.6448536269514722 (scipy 1.17.1: norm.ppf(0.95)); z^2 / (100 + z^2) = 0.0263427...
    # It equals the Wilson upper limit at k = 0, so cross-checked against statsmodels 0.15.0:
    # proportion_confint(0, 100, alpha=0.10, method="wilson")[1] == 0.026342720783174345
    lo, hi = paired_diff_ci(100, 0, 0, 0, alpha=0.10, method="tango")
    assert hi == pytest.approx(0.026342720783174345, abs=1e-10)
    assert lo == pytest.approx(-0.026342720783174345, abs=1e-10)


def test_paired_ci_rejects_unknown_method_and_empty_table() -> None:
    with pytest.raises(ValueError):
        paired_diff_ci(1, 2, 3, 4, method="wald")
    with pytest.raises(ValueError):
        paired_diff_ci(0, 0, 0, 0)
    with pytest.raises(ValueError):
        paired_diff_ci(1, -1, 0, 0)


# --- TOST, paired -------------------------------------------------------------------------


def test_tost_all_concordant_n100_passes_3pp() -> None:
    # 90% Tango half-width at n = 100 is 0.026342720783174345 (statsmodels 0.15.0:
    # proportion_confint(0, 100, alpha=0.10, method="wilson")[1]) < 0.03
    res = tost_paired(100, 0, 0, 0, margin=0.03, alpha=0.05)
    assert res.equivalent
    assert not res.beyond_margin
    assert not res.zero_variance
    assert res.diff == 0.0
    assert res.ci_high == pytest.approx(0.026342720783174345, abs=1e-10)
    assert res.method == "tango"


def test_tost_all_concordant_n50_fails_3pp() -> None:
    # 90% Tango half-width at n = 50 is 0.051333185786270163 (statsmodels 0.15.0:
    # proportion_confint(0, 50, alpha=0.10, method="wilson")[1]) > 0.03
    res = tost_paired(50, 0, 0, 0, margin=0.03, alpha=0.05)
    assert not res.equivalent
    assert not res.beyond_margin
    assert res.ci_high == pytest.approx(0.051333185786270163, abs=1e-10)


@pytest.mark.parametrize("method", ["tango", "newcombe"])
def test_tost_beyond_margin(method: str) -> None:
    res = tost_paired(30, 0, 40, 30, margin=0.03, method=method)
    assert res.diff == pytest.approx(0.4)
    assert res.beyond_margin and not res.equivalent
    mirrored = tost_paired(30, 40, 0, 30, margin=0.03, method=method)
    assert mirrored.diff == pytest.approx(-0.4)
    assert mirrored.beyond_margin and not mirrored.equivalent


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # Cavo et al. 2012 table, 90% limits from the scratch reference ports described above
        # BOUNDARY_CASES (contingencytables Tango port / propint Newcombe port, alpha = 0.10)
        ("tango", (-0.11312605305245503, -0.015058363815819166)),
        ("newcombe", (-0.10974484287179012, -0.01378599079316841)),
    ],
)
def test_tost_uses_one_minus_two_alpha_interval(method: str, expected: tuple[float, float]) -> None:
    res = tost_paired(59, 16, 6, 80, margin=0.2, alpha=0.05, method=method)
    assert res.ci_low == pytest.approx(expected[0], abs=1e-7)
    assert res.ci_high == pytest.approx(expected[1], abs=1e-7)
    assert res.diff == pytest.approx(-10 / 161)
    assert res.equivalent and not res.beyond_margin
    assert res.alpha == 0.05 and res.margin == 0.2 and res.method == method


def test_tost_inconclusive_is_neither() -> None:
    res = tost_paired(50, 3, 6, 41, margin=0.03)
    assert not res.equivalent and not res.beyond_margin


def test_tost_rejects_unknown_method() -> None:
    with pytest.raises(ValueError):
        tost_paired(10, 0, 0, 10, method="exact")


def test_tost_result_is_frozen() -> None:
    res = tost_paired(10, 0, 0, 10)
    assert isinstance(res, TostResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.equivalent = True  # type: ignore[misc]


# --- TOST, unpaired Wald ------------------------------------------------------------------

WALD_CASES = [
    # (k_a, n_a, k_b, n_b, expected 90% CI of p_B - p_A) -- statsmodels 0.15.0:
    # confint_proportions_2indep(k_b, n_b, k_a, n_a, method="wald", compare="diff",
    # alpha=0.10)   (B passed first so the difference is B - A; alpha = 2 * 0.05 for TOST)
    (80, 100, 83, 100, (-0.06025736169577145, 0.12025736169577128)),
    (450, 500, 440, 500, (-0.05253319226946731, 0.012533192269467273)),
    (30, 60, 20, 50, (-0.25575527697338396, 0.055755276973384005)),
    (99, 100, 100, 100, (-0.006366086946959743, 0.02636608694695976)),
]


@pytest.mark.parametrize(("k_a", "n_a", "k_b", "n_b", "expected"), WALD_CASES)
def test_wald_ci_matches_statsmodels(
    k_a: int, n_a: int, k_b: int, n_b: int, expected: tuple[float, float]
) -> None:
    res = tost_wald_unpaired(k_a, n_a, k_b, n_b, margin=0.03, alpha=0.05)
    assert res.ci_low == pytest.approx(expected[0], abs=TIGHT)
    assert res.ci_high == pytest.approx(expected[1], abs=TIGHT)
    assert res.diff == pytest.approx(k_b / n_b - k_a / n_a)
    assert res.method == "wald"
    assert not res.zero_variance
    assert res.equivalent == (expected[0] > -0.03 and expected[1] < 0.03)


@pytest.mark.parametrize(("k_a", "k_b"), [(0, 0), (100, 100)])
def test_wald_zero_variance_is_flagged(k_a: int, k_b: int) -> None:
    res = tost_wald_unpaired(k_a, 100, k_b, 100)
    assert res.zero_variance
    assert not res.equivalent
    assert not res.beyond_margin
    assert res.ci_low == res.ci_high == res.diff == 0.0


def test_wald_beyond_margin() -> None:
    res = tost_wald_unpaired(50, 100, 90, 100)
    assert res.beyond_margin and not res.equivalent


# --- MDE ----------------------------------------------------------------------------------

MDE_CASES = [
    # (p, n, expected) -- statsmodels 0.15.0:
    # h = NormalIndPower().solve_power(effect_size=None, nobs1=n, alpha=0.05, power=0.8,
    # ratio=1), converted as max over +/- of |sin^2(asin(sqrt(p)) +/- h/2) - p| with the
    # angle clipped to [0, pi/2]. statsmodels also counts the far rejection tail, so its h is
    # smaller by ~1e-6 relative; hence the 1e-5 relative tolerance.
    (0.5, 100, 0.19295940338868955),  # h = 0.39620357647695037
    (0.1, 500, 0.05914128522699211),  # h = 0.17718769489108327 (upward direction is larger)
    (0.9, 200, 0.09854707737541524),  # h = 0.2801568334667266 (downward direction is larger)
    (0.02, 1000, 0.021257308318094106),  # h = 0.1252903452971738
    (0.5, 10, 0.4749483451738943),  # h = 1.252905208173164
]


@pytest.mark.parametrize(("p", "n", "expected"), MDE_CASES)
def test_mde_matches_statsmodels_power(p: float, n: int, expected: float) -> None:
    assert mde_two_proportions(p, n) == pytest.approx(expected, rel=1e-5)


def test_mde_decreases_with_n() -> None:
    values = [mde_two_proportions(0.3, n) for n in (50, 100, 400, 1600)]
    assert values == sorted(values, reverse=True)


def test_mde_at_boundary_rate_stays_in_unit_interval() -> None:
    assert 0.0 < mde_two_proportions(0.0, 100) <= 1.0
    assert 0.0 < mde_two_proportions(1.0, 100) <= 1.0


# --- Cohen's kappa ------------------------------------------------------------------------

KAPPA_CASES = [
    # (table, expected (kappa, kappa_low, kappa_upp)) -- statsmodels 0.15.0:
    # r = cohens_kappa(table); (r.kappa, r.kappa_low, r.kappa_upp)   [95% CI]
    ([[20, 5], [10, 15]], (0.3999999999999999, 0.151092290476661, 0.6489077095233389)),
    ([[45, 15], [25, 15]], (0.13043478260869554, -0.06293827779258965, 0.3238078430099807)),
    ([[88, 10], [14, 88]], (0.7600959616153539, 0.6701297442293506, 0.8500621790013572)),
    ([[40, 9], [6, 45]], (0.6995192307692307, 0.5595903407506923, 0.8394481207877692)),
    ([[97, 2], [1, 0]], (-0.013513513513511993, -0.03230425660842727, 0.005277229581403283)),
    ([[10, 0], [0, 10]], (1.0, 1.0, 1.0)),
    (
        [[22, 3, 2], [4, 30, 1], [2, 2, 34]],
        (0.7882957810373507, 0.6859669298893902, 0.8906246321853111),
    ),
]


@pytest.mark.parametrize(("table", "expected"), KAPPA_CASES)
def test_cohens_kappa_matches_statsmodels(
    table: list[list[int]], expected: tuple[float, float, float]
) -> None:
    assert cohens_kappa(table) == pytest.approx(expected, abs=TIGHT)


def test_cohens_kappa_other_alpha_matches_statsmodels() -> None:
    # statsmodels 0.15.0: r = cohens_kappa([[40, 9], [6, 45]]);
    # r.kappa -/+ scipy.stats.norm.isf(0.05) * r.std_kappa  (std_kappa = 0.07139360269998822)
    _, lo, hi = cohens_kappa([[40, 9], [6, 45]], alpha=0.10)
    assert (lo, hi) == pytest.approx((0.5820872044270227, 0.8169512571114388), abs=TIGHT)


def test_cohens_kappa_ci_is_clipped_to_minus_one() -> None:
    # statsmodels 0.15.0: cohens_kappa([[0, 3], [4, 0]]) gives kappa -0.9599999999999996,
    # kappa_low -1.3623794126706836 (outside kappa's range), kappa_upp -0.5576205873293156.
    kappa, lo, hi = cohens_kappa([[0, 3], [4, 0]])
    assert kappa == pytest.approx(-0.9599999999999996, abs=TIGHT)
    assert lo == -1.0
    assert hi == pytest.approx(-0.5576205873293156, abs=TIGHT)


def test_cohens_kappa_undefined_when_one_category_only() -> None:
    # statsmodels 0.15.0: cohens_kappa([[50, 0], [0, 0]]) gives kappa nan (p_e == 1).
    assert all(math.isnan(x) for x in cohens_kappa([[50, 0], [0, 0]]))


def test_cohens_kappa_rejects_bad_tables() -> None:
    for bad in ([[1]], [[1, 2], [3]], [[0, 0], [0, 0]], [[1, -1], [0, 2]]):
        with pytest.raises(ValueError):
            cohens_kappa(bad)
