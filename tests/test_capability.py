"""BBQ bias and TruthfulQA MC scores per arm and per contrast, from released labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tais.analysis.analyse import analyse
from tais.analysis.capability import capability_scores, score_diffs
from tais.config.config import JudgeSpec
from tais.config.places import RunPlaces
from tais.errors import DataError
from tais.io import read_jsonl, sha256_text
from tais.judge.judge import judge_outputs
from tais.records import Generation, Item, Judgement, Message, SampleRecord
from tais.report.report import render_report

from .engine_support import demo_config as config


def record(
    arm: str, item: str, task: str, labels: dict[str, Any], logprobs: list[float] | None = None
) -> SampleRecord:
    return SampleRecord(
        item_id=item,
        benchmark="t",
        task=task,
        kind="capability",
        pair="tiny",
        arm=arm,
        output_sha256=f"out-{item}",
        token_ids_sha256=f"ids-{item}",
        n_tokens=3,
        n_bytes=3,
        finish_reason="stop",
        choice_logprobs=logprobs,
        labels={"multiple_choice": labels},
    )


def bbq(arm: str, i: int, context: str, outcome: str, correct: bool) -> SampleRecord:
    labels = {"answer": "A", "correct": correct, "bbq": outcome, "bbq_context": context}
    return record(arm, f"bbq/{context}/{i}", f"bbq_{context}", labels)


def bbq_records(arm: str, biased_ambig: int) -> list[SampleRecord]:
    # Ambiguous: 4 unknown (the right answer), then `biased_ambig` biased, the rest of 6
    # counter-biased. Disambiguated: 6 biased, 4 counter-biased, 7 of 10 correct.
    ambig = [bbq(arm, i, "ambig", "unknown", True) for i in range(4)]
    ambig += [
        bbq(arm, 4 + i, "ambig", "biased" if i < biased_ambig else "counter_biased", False)
        for i in range(6)
    ]
    disambig = [
        bbq(arm, i, "disambig", "biased" if i < 6 else "counter_biased", i < 7) for i in range(10)
    ]
    return ambig + disambig


def test_bbq_bias_scores_as_the_paper_defines_them() -> None:
    records = bbq_records("target_only", biased_ambig=4) + bbq_records("draft_k3", biased_ambig=6)
    scores = {(s.arm, s.task): s for s in capability_scores(records)}
    # s_DIS = 2 * 6/10 - 1 = 0.2 in the disambiguated context, the same for both arms.
    assert scores[("target_only", "bbq_disambig")].value == pytest.approx(0.2)
    assert scores[("target_only", "bbq_disambig")].metric == "bias_score_disambig"
    # Ambiguous, target: accuracy 4/10; s_DIS = 2 * 4/6 - 1 = 1/3; s_AMB = 0.6 * 1/3 = 0.2.
    assert scores[("target_only", "bbq_ambig")].value == pytest.approx(0.2)
    # Ambiguous, draft: all 6 named answers biased: s_DIS = 1; s_AMB = 0.6 * 1 = 0.6.
    assert scores[("draft_k3", "bbq_ambig")].value == pytest.approx(0.6)
    assert {s.method for s in scores.values()} == {"bbq"}

    diffs = {d.task: d for d in score_diffs(config(), records)}
    assert diffs["bbq_ambig"].diff == pytest.approx(0.4)
    assert diffs["bbq_ambig"].items_identical is None
    assert diffs["bbq_disambig"].diff == pytest.approx(0.0)


def mc2(arm: str, i: int, score: float, logprobs: list[float] | None) -> SampleRecord:
    method = "letter" if logprobs is None else "logprob"
    labels = {"answer": "B", "correct": True, "mc": "mc2", "score": score, "method": method}
    return record(arm, f"tqa/mc2/{i}", "truthfulqa_mc2", labels, logprobs)


def test_truthfulqa_scores_and_the_items_whose_logprobs_moved() -> None:
    records = [
        mc2("target_only", 0, 0.5, [-1.0, -1.0]),
        mc2("target_only", 1, 1.0, [-0.5, -9.0]),
        mc2("draft_k3", 0, 0.5, [-1.0, -1.0]),
        mc2("draft_k3", 1, 0.0, [-9.0, -0.5]),
    ]
    scores = {s.arm: s for s in capability_scores(records)}
    assert scores["target_only"].value == pytest.approx(0.75)
    assert scores["draft_k3"].value == pytest.approx(0.25)
    assert scores["target_only"].method == "logprob"
    assert scores["target_only"].metric == "mc2"
    (diff,) = score_diffs(config(), records)
    assert diff.diff == pytest.approx(-0.5)
    assert (diff.items_identical, diff.n) == (1, 2)


def test_mixed_scoring_methods_in_one_task_are_refused() -> None:
    records = [mc2("target_only", 0, 1.0, None), mc2("target_only", 1, 0.5, [-1.0, -1.0])]
    with pytest.raises(DataError, match="scoring methods"):
        capability_scores(records)


def test_scores_reach_the_summary_and_the_report() -> None:
    records = bbq_records("target_only", 4) + bbq_records("draft_k3", 4)
    summary = analyse(config(), records, [], [])
    assert {s.task for s in summary.scores} == {"bbq_ambig", "bbq_disambig"}
    report = render_report(summary)
    assert "## Capability scores" in report
    assert "| tiny | target_only | bbq_ambig | bias_score_ambig | bbq | 10 | 0.2000 |" in report


def test_judge_cache_tells_apart_outputs_scored_with_other_logprobs(tmp_path: Path) -> None:
    item = Item(
        item_id="tqa/mc2/1",
        benchmark="truthfulqa",
        task="truthfulqa_mc2",
        kind="capability",
        messages=[Message(role="user", content="Q?")],
        reference="A",
        meta={"choices": ["yes", "no"], "mc": "mc2", "mc_labels": [1, 0], "true_letters": ["A"]},
    )

    def gen(arm: str, logprobs: list[float]) -> Generation:
        return Generation(
            item_id=item.item_id,
            pair="p",
            arm=arm,
            chunk=0,
            text="A",
            token_ids=[1],
            output_sha256=sha256_text("A"),
            n_tokens=1,
            finish_reason="stop",
            choice_logprobs=logprobs,
        )

    places = RunPlaces(tmp_path)
    generations = [gen("one", [-1.0, -1.0]), gen("two", [-1.0, -1.0]), gen("three", [0.0, -50.0])]
    judged = judge_outputs([JudgeSpec(name="multiple_choice")], [item], generations, places)
    scores = {g.arm: judged.labels[(g.arm, item.item_id)]["multiple_choice"] for g in generations}
    assert scores["one"]["score"] == pytest.approx(0.5)
    assert scores["three"]["score"] == pytest.approx(1.0)
    # Same text and log-probabilities: one judgement; other log-probabilities: a second.
    assert len(read_jsonl(places.judgements("multiple_choice"), Judgement)) == 2
