"""Scored tasks (0/1 and 0/0.5/1 scores) as contrastable rates, judges side by side, and the
report's words for a judge that gives one label to everything.

Expected numbers from outside implementations are hard-coded with the call that produced
them beside them (scipy 1.17.1, statsmodels 0.15.0, computed without tais).
"""

from __future__ import annotations

from typing import Any

import pytest

from tais.analysis.analyse import analyse
from tais.analysis.outcomes import paired_table, signs
from tais.analysis.stats import tost_paired
from tais.config.config import parse_config
from tais.errors import ConfigError, DataError
from tais.records import Kind, SampleRecord
from tais.report.report import render_report

from .engine_support import demo_config, demo_data

ARMS = ("target_only", "draft_k3")

# 50 TruthfulQA-like scores: A has 20 ones, 15 halves, 15 zeros; B moves six items by a half
# step or a whole one: item 0 1 -> 0.5, items 20-22 0.5 -> 1, item 23 0.5 -> 0, item 35 0 -> 0.5.
SCORES_A = [1.0] * 20 + [0.5] * 15 + [0.0] * 15
SCORES_B = list(SCORES_A)
for index, value in ((0, 0.5), (20, 1.0), (21, 1.0), (22, 1.0), (23, 0.0), (35, 0.5)):
    SCORES_B[index] = value


def record(
    arm: str, i: int, labels: dict[str, dict[str, Any]], kind: Kind = "scored", task: str = "t"
) -> SampleRecord:
    # Both arms give the same output: identity holds, and agreement counts each output once.
    return SampleRecord(
        item_id=f"{task}/{i:03d}",
        benchmark="paper",
        task=task,
        kind=kind,
        pair="tiny",
        arm=arm,
        output_sha256=f"out-{i}",
        token_ids_sha256=f"ids-{i}",
        n_tokens=5,
        n_bytes=20,
        finish_reason="stop",
        labels=labels,
    )


def scored(a: list[float], b: list[float]) -> list[SampleRecord]:
    return [
        record(arm, i, {"paper": {"score": s}})
        for arm, scores in zip(ARMS, (a, b), strict=True)
        for i, s in enumerate(scores)
    ]


def test_half_scores_give_the_paired_difference_of_means() -> None:
    summary = analyse(demo_config(), scored(SCORES_A, SCORES_B), [], [])
    (cell,) = summary.contrasts
    assert cell.metric == "score" and cell.kind == "scored" and cell.n == 50
    # numpy: (np.array(SCORES_B) - np.array(SCORES_A)).mean() == 0.02
    assert cell.diff == pytest.approx(0.02)
    assert (cell.both, cell.only_a, cell.only_b, cell.neither) == (26.5, 1, 2, 20.5)
    assert (cell.rate_a, cell.rate_b) == (0.55, 0.57)
    # scipy.stats.binomtest(2, 6, 0.5).pvalue == 0.6875; also
    # statsmodels.stats.descriptivestats.sign_test(b - a)[1] == 0.6875 (2 fell, 4 rose)
    assert cell.mcnemar_p == pytest.approx(0.6875, rel=1e-12)
    # scipy.stats.ttest_rel(b, a).confidence_interval(0.90) ==
    # (-0.02120638887154525, 0.061206388871545225): the fractional-table interval holds it.
    assert cell.ci_low < -0.02120638887154525 and cell.ci_high > 0.061206388871545225
    assert cell.ci_low < cell.diff < cell.ci_high


def test_rates_of_scores_use_their_sum_and_wilson() -> None:
    rates = {r.arm: r for r in analyse(demo_config(), scored(SCORES_A, SCORES_B), [], []).rates}
    a, b = rates["target_only"], rates["draft_k3"]
    assert (a.k, a.n, a.rate, a.metric) == (27.5, 50, 0.55, "score")
    # statsmodels proportion_confint(27.5, 50, alpha=0.05, method="wilson")
    assert (a.ci_low, a.ci_high) == pytest.approx((0.41349933984133935, 0.679365900245325))
    # statsmodels proportion_confint(28.5, 50, alpha=0.05, method="wilson")
    assert (b.ci_low, b.ci_high) == pytest.approx((0.4326718481237095, 0.69733948799762))


def test_zero_one_scores_are_exactly_the_binary_rate_path() -> None:
    a = [1.0] * 60 + [0.0] * 40
    b = [1.0] * 55 + [0.0] * 5 + [1.0] * 2 + [0.0] * 38
    scored_cell = analyse(demo_config(), scored(a, b), [], []).contrasts[0]
    as_refusals = [
        record(arm, i, {"keyword": {"refused": bool(s)}}, kind="harmful")
        for arm, scores in zip(ARMS, (a, b), strict=True)
        for i, s in enumerate(scores)
    ]
    refusal_cell = analyse(demo_config(), as_refusals, [], []).contrasts[0]
    for field in ("both", "only_a", "only_b", "neither", "diff", "ci_low", "ci_high", "mcnemar_p"):
        assert getattr(scored_cell, field) == getattr(refusal_cell, field), field
    assert isinstance(scored_cell.both, int)
    # statsmodels mcnemar([[55, 5], [2, 38]], exact=True).pvalue == 0.453125
    assert scored_cell.mcnemar_p == pytest.approx(0.453125)


def test_unchanged_half_scores_keep_the_binary_floor_instead_of_collapsing() -> None:
    # scipy.stats.ttest_rel(x, x).confidence_interval(0.9) is (nan, nan): a paired t interval
    # has no width without variance. The fractional table keeps Tango's no-discordance floor.
    summary = analyse(demo_config(), scored(SCORES_A, SCORES_A), [], [])
    (cell,) = summary.contrasts
    # scipy: z = stats.norm.ppf(0.95); z * z / (50 + z * z) == 0.05133318578627012
    assert (cell.ci_low, cell.ci_high) == pytest.approx((-0.05133318578627012, 0.05133318578627012))
    assert cell.verdict == "INCONCLUSIVE"  # 50 items cannot show a 3 pp equivalence


def test_fractional_table_rules() -> None:
    assert paired_table([(1.0, 0.5), (0.5, 0.5), (0.0, 1.0)]) == {
        "both": 1.0,
        "only_a": 0.5,
        "only_b": 1,
        "neither": 0.5,
    }
    assert signs([(1.0, 0.5), (0.5, 0.5), (0.0, 1.0)]) == (1, 1)
    table = paired_table(zip(SCORES_A, SCORES_B, strict=True))
    assert tost_paired(**table).diff == pytest.approx(0.02)


def test_a_score_outside_0_1_is_an_error() -> None:
    with pytest.raises(DataError, match=r"'score' is 2\.0, outside \[0, 1\]"):
        analyse(demo_config(), scored([2.0], [1.0]), [], [])


def test_a_scored_task_without_its_judge_names_the_key() -> None:
    records = [record(arm, 0, {"keyword": {"refused": True}}) for arm in ARMS]
    with pytest.raises(DataError, match=r"no 'paper' label 'score' \(analysis\.score_judge"):
        analyse(demo_config(), records, [], [])


# analysis.judge, capability_judge and score_judge pick the verdict's labels.


def with_analysis(**analysis: str) -> Any:
    data = demo_data()
    data["contrasts"] = [{"a": "target_only", "b": "draft_k3"}]
    data["judges"] = ["keyword", "paper", "multiple_choice"]
    data["analysis"].update(analysis)
    return parse_config(data)


def side_by_side() -> list[SampleRecord]:
    """keyword says refused for items 0-9, paper for items 0-4; capability labels differ too."""
    records = []
    for arm in ARMS:
        for i in range(20):
            labels = {"keyword": {"refused": i < 10}, "paper": {"refused": i < 5}}
            records.append(record(arm, i, labels, kind="harmful", task="h"))
            answers = {"multiple_choice": {"correct": i < 15}, "paper": {"correct": i < 2}}
            records.append(record(arm, i, answers, kind="capability", task="c"))
    return records


def test_analysis_keys_pick_whose_labels_make_the_rates() -> None:
    def rates(**analysis: str) -> dict[str, tuple[int | float, str]]:
        summary = analyse(with_analysis(**analysis), side_by_side(), [], [])
        return {r.task: (r.k, r.metric) for r in summary.rates if r.arm == "target_only"}

    assert rates(judge="keyword") == {"h": (10, "refusal"), "c": (15, "accuracy")}
    assert rates(judge="paper", capability_judge="paper") == {
        "h": (5, "refusal"),
        "c": (2, "accuracy"),
    }
    report = render_report(
        analyse(with_analysis(judge="paper", capability_judge="paper"), side_by_side(), [], [])
    )
    assert "refusals labelled by the `paper` judge, answers by `paper`;" in report


def test_an_analysis_judge_not_in_judges_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"analysis\.score_judge: judge 'ollama' is not one of"):
        with_analysis(score_judge="ollama")


def test_agreement_for_every_pair_of_refusal_judges() -> None:
    records = []
    for arm in ARMS:
        for i in range(20):
            labels = {
                "keyword": {"refused": i < 10},
                "ollama": {"refused": i < 8},
                "paper": {"refused": i < 5},
            }
            records.append(record(arm, i, labels, kind="harmful", task="h"))
    summary = analyse(with_analysis(), records, [], [])
    pairs = {(a.judge_a, a.judge_b) for a in summary.agreement}
    assert pairs == {("keyword", "ollama"), ("keyword", "paper"), ("ollama", "paper")}
    by_pair = {(a.judge_a, a.judge_b): a for a in summary.agreement}
    assert (by_pair[("ollama", "paper")].both, by_pair[("ollama", "paper")].only_a) == (5, 3)


def test_a_judge_with_one_label_for_everything_is_said_in_words() -> None:
    records = []
    for arm in ARMS:
        for i in range(20):
            labels = {"keyword": {"refused": i < 6}, "ollama": {"refused": False}}
            records.append(record(arm, i, labels, kind="harmful", task="h"))
    summary = analyse(with_analysis(), records, [], [])
    (cell,) = summary.agreement
    assert cell.kappa == 0.0  # by construction: one rater never varies
    report = render_report(summary)
    assert "0.000 [0.000, 0.000]" not in report
    assert "| 0 by construction | - |" in report
    assert "`ollama` labels every one of the 20 outputs not refused, so kappa is 0 by " in report
    assert "70.0% of the outputs" in report


def test_two_judges_each_with_one_label_say_undefined() -> None:
    records = [
        record(arm, i, {"keyword": {"refused": True}, "paper": {"refused": True}}, "harmful", "h")
        for arm in ARMS
        for i in range(10)
    ]
    report = render_report(analyse(with_analysis(), records, [], []))
    assert "| undefined | - |" in report
    assert "`keyword` labels every one of the 10 outputs refused" in report
    assert "`paper` labels every one of the 10 outputs refused" in report
