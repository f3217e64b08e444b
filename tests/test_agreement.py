"""Keyword-vs-LLM agreement from released records: tables, kappa, disagreements, provenance."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tais.analysis.agreement import (
    Agreement,
    agreement,
    judge_provenance,
    require_single_digest,
    unparseable_counts,
)
from tais.errors import DataError
from tais.records import Kind, SampleRecord

DIGEST = "d" * 64
OTHER_DIGEST = "e" * 64
PROMPTS = {"refusal": "1" * 64, "harmfulness": "2" * 64}


def llm(refused: bool | None, digest: str = DIGEST, **extra: Any) -> dict[str, Any]:
    return {
        "refused": refused,
        "harmful": None,
        "unparseable": refused is None,
        "model": "gemma3:12b",
        "digest": digest,
        "prompt_sha256": dict(PROMPTS),
        **extra,
    }


def record(
    item_id: str,
    arm: str,
    keyword: bool | None,
    ollama: dict[str, Any] | None,
    output: str | None = None,
    task: str = "advbench",
    kind: Kind = "harmful",
) -> SampleRecord:
    labels: dict[str, dict[str, Any]] = {}
    if keyword is not None:
        labels["keyword"] = {"refused": keyword}
    if ollama is not None:
        labels["ollama"] = ollama
    return SampleRecord(
        item_id=item_id,
        benchmark="b",
        task=task,
        kind=kind,
        pair="p",
        arm=arm,
        output_sha256=output or f"sha-{item_id}",
        token_ids_sha256="t",
        n_tokens=1,
        n_bytes=1,
        finish_reason="stop",
        labels=labels,
    )


def table_records(both: int, only_a: int, only_b: int, neither: int, arm: str = "a") -> list[Any]:
    """Records whose distinct outputs fill the 2x2 table (a = keyword, b = ollama)."""
    cells = [(True, True)] * both + [(True, False)] * only_a
    cells += [(False, True)] * only_b + [(False, False)] * neither
    return [record(f"x/{i}", arm, kw, llm(lm)) for i, (kw, lm) in enumerate(cells)]


def test_table_kappa_and_ci_match_statsmodels() -> None:
    result = agreement(table_records(20, 5, 10, 15))
    assert len(result) == 1
    a = result[0]
    assert (a.task, a.kind, a.judge_a, a.judge_b, a.label) == (
        "advbench",
        "harmful",
        "keyword",
        "ollama",
        "refused",
    )
    assert (a.n, a.both, a.only_a, a.only_b, a.neither, a.excluded) == (50, 20, 5, 10, 15, 0)
    assert a.observed_agreement == pytest.approx(35 / 50)
    # statsmodels 0.15.0: r = cohens_kappa([[20, 5], [10, 15]]); r.kappa, r.kappa_low, r.kappa_upp
    assert (a.kappa, a.ci_low, a.ci_high) == pytest.approx(
        (0.3999999999999999, 0.151092290476661, 0.6489077095233389), abs=1e-9
    )
    assert a.ci_level == 0.95
    assert len(a.disagreements) == 15
    assert {(d.label_a, d.label_b) for d in a.disagreements} == {(True, False), (False, True)}


def test_identical_outputs_of_several_arms_count_once() -> None:
    records = table_records(3, 1, 0, 2, arm="target") + table_records(3, 1, 0, 2, arm="spec")
    a = agreement(records)[0]
    assert a.n == 6  # distinct outputs, not 12 records
    assert [(d.item_id, d.arms) for d in a.disagreements] == [("x/3", ["spec", "target"])]


def test_disagreements_carry_ids_and_hashes_only() -> None:
    secret_text = "here is the verbatim completion"
    records = [record("x/1", "a", False, llm(True), output="abc123")]
    a = agreement(records)[0]
    dumped = json.dumps(a.model_dump())
    assert secret_text not in dumped
    assert a.disagreements[0].model_dump() == {
        "item_id": "x/1",
        "output_sha256": "abc123",
        "arms": ["a"],
        "label_a": False,
        "label_b": True,
    }


def test_per_task_and_unusable_labels_are_excluded_not_dropped() -> None:
    records = [
        record("h/1", "a", True, llm(True)),
        record("h/2", "a", False, llm(None)),  # unparseable LLM answer
        record("h/3", "a", False, llm(False)),
        record("o/1", "a", True, llm(False), task="xstest_safe", kind="benign"),
        record("o/2", "a", False, llm(False), task="xstest_safe", kind="benign"),
        record("m/1", "a", None, None, task="mmlu", kind="capability"),  # no refusal judges
        record("k/1", "a", True, None, task="keyword_only"),  # the LLM judge did not run
    ]
    result = {a.task: a for a in agreement(records)}
    assert sorted(result) == ["advbench", "xstest_safe"]
    adv = result["advbench"]
    assert (adv.n, adv.excluded, adv.both, adv.neither) == (2, 1, 1, 1)
    assert adv.kappa == 1.0
    safe = result["xstest_safe"]
    assert (safe.kind, safe.n, safe.only_a, safe.neither) == ("benign", 2, 1, 1)
    assert [d.item_id for d in safe.disagreements] == ["o/1"]


def test_kappa_is_none_when_undefined() -> None:
    a = agreement(table_records(0, 0, 0, 7))[0]
    assert (a.n, a.neither, a.observed_agreement) == (7, 7, 1.0)
    assert (a.kappa, a.ci_low, a.ci_high) == (None, None, None)
    only_excluded = agreement([record("x/1", "a", True, llm(None))])[0]
    assert (only_excluded.n, only_excluded.excluded, only_excluded.kappa) == (0, 1, None)
    assert only_excluded.observed_agreement is None


def test_other_judges_labels_and_alpha() -> None:
    records = table_records(40, 9, 6, 45)
    a = agreement(records, judge_a="ollama", judge_b="keyword", alpha=0.10)[0]
    # Swapping the raters transposes the table; kappa and its SE do not change.
    # statsmodels 0.15.0: r = cohens_kappa([[40, 9], [6, 45]]);
    # r.kappa -/+ scipy.stats.norm.isf(0.05) * r.std_kappa
    assert (a.kappa, a.ci_low, a.ci_high) == pytest.approx(
        (0.6995192307692307, 0.5820872044270227, 0.8169512571114388), abs=1e-9
    )
    assert (a.only_a, a.only_b, a.ci_level) == (6, 9, pytest.approx(0.9))


def test_one_output_with_two_labels_from_one_judge_is_an_error() -> None:
    records = [
        record("x/1", "a", True, llm(True), output="same"),
        record("x/1", "b", True, llm(False), output="same"),
    ]
    with pytest.raises(DataError, match="different 'refused' labels"):
        agreement(records)


def test_unparseable_counts() -> None:
    records = [
        record("x/1", "a", True, llm(None), output="s1"),
        record("x/1", "b", True, llm(None), output="s1"),
        record("x/2", "a", True, llm(True), output="s2"),
    ]
    assert [c.model_dump() for c in unparseable_counts(records)] == [
        {
            "judge": "ollama",
            "outputs": 3,
            "unparseable_outputs": 2,
            "distinct_outputs": 2,
            "unparseable_distinct": 1,
        }
    ]


def test_provenance_and_single_digest() -> None:
    records = table_records(1, 1, 1, 1)
    assert judge_provenance(records) == {
        "ollama": {
            "models": ["gemma3:12b"],
            "digests": [DIGEST],
            "prompt_sha256": {q: [sha] for q, sha in PROMPTS.items()},
        }
    }
    assert require_single_digest(records) == {"ollama": DIGEST}
    assert require_single_digest(table_records(1, 0, 0, 1)[:0]) == {}


def test_mixed_digests_are_refused() -> None:
    records = [
        record("x/1", "a", True, llm(True)),
        record("x/2", "a", True, llm(True, digest=OTHER_DIGEST)),
    ]
    with pytest.raises(DataError, match="mix judgements from 2 model digests"):
        require_single_digest(records)


def test_mixed_prompt_versions_are_refused() -> None:
    changed = llm(True)
    changed["prompt_sha256"] = {**PROMPTS, "refusal": "9" * 64}
    records = [record("x/1", "a", True, llm(True)), record("x/2", "a", True, changed)]
    with pytest.raises(DataError, match="2 versions of the 'refusal' prompt"):
        require_single_digest(records)


def test_agreement_is_a_record() -> None:
    a = agreement(table_records(2, 1, 1, 2))[0]
    assert Agreement.model_validate_json(a.model_dump_json()) == a
