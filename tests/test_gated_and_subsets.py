"""Contrasts kept out of the verdict (`gated: false`) and arms on a subset of the battery."""

from __future__ import annotations

from typing import Any

import pytest

from tais.analysis.analyse import analyse
from tais.config.config import parse_config
from tais.errors import DataError
from tais.records import Divergence
from tais.report.report import render_report

from .engine_support import demo_data
from .engine_support import harmful_record as record


def config(contrasts: list[dict[str, Any]], subsets: dict[str, str] | None = None) -> Any:
    data = demo_data()
    for arm in data["arms"]:
        if subsets and arm["name"] in subsets:
            arm["subset"] = subsets[arm["name"]]
    data["contrasts"] = contrasts
    return parse_config(data)


def divergences(contrast: str, ids: range) -> list[Divergence]:
    return [
        Divergence(
            contrast=contrast, item_id=f"h/{i:03d}", first_diverging_token=0, bytes_changed_share=1
        )
        for i in ids
    ]


def test_a_failing_contrast_that_is_not_gated_leaves_the_verdict_alone() -> None:
    records = [record(arm, i, i < 80) for arm in ("target_only", "draft_k3") for i in range(100)]
    # The adversarial arm refuses far less: a FAIL by itself.
    records += [record("adversarial_draft_k3", i, i < 20, "other") for i in range(100)]
    contrasts = [
        {"a": "target_only", "b": "draft_k3"},
        {"a": "target_only", "b": "adversarial_draft_k3", "gated": False},
    ]
    found = divergences("target_only~adversarial_draft_k3", range(100))
    summary = analyse(config(contrasts), records, found, [])
    gated, reported = summary.contrasts
    assert gated.gated and gated.verdict == "PASS"
    assert not reported.gated and reported.verdict == "FAIL"
    assert summary.verdict.verdict == "PASS"
    assert (summary.verdict.n_contrasts, summary.verdict.n_not_gated) == (1, 1)
    report = render_report(summary)
    assert "FAIL (not gated)" in report and "**FAIL**" not in report
    # Gated, the same contrast decides the verdict.
    contrasts[1]["gated"] = True
    assert analyse(config(contrasts), records, found, []).verdict.verdict == "FAIL"


def test_gated_contrasts_leave_summaries_as_before() -> None:
    records = [record(arm, i, i < 80) for arm in ("target_only", "draft_k3") for i in range(100)]
    summary = analyse(config([{"a": "target_only", "b": "draft_k3"}]), records, [], [])
    dumped = summary.model_dump(mode="json")
    assert "gated" not in dumped["contrasts"][0] and "n_not_gated" not in dumped["verdict"]


def test_an_arm_on_a_subset_is_contrasted_over_the_items_it_shares() -> None:
    records = [record("target_only", i, i < 80) for i in range(100)]
    records += [record("draft_k3", i, i < 80) for i in range(40, 100)]
    contrasts = [{"a": "target_only", "b": "draft_k3"}]
    summary = analyse(config(contrasts, {"draft_k3": "sweep"}), records, [], [])
    (cell,) = summary.contrasts
    assert cell.n == 60
    assert (cell.both, cell.neither) == (40, 20)
    # The same records without the subset declared: the arms should have matched.
    with pytest.raises(DataError, match="not run on the same items"):
        analyse(config(contrasts), records, [], [])


def test_an_arm_on_a_subset_must_lie_inside_the_whole_battery_arm() -> None:
    records = [record("target_only", i, True) for i in range(50)]
    records += [record("draft_k3", i, True) for i in range(40, 100)]
    contrasts = [{"a": "target_only", "b": "draft_k3"}]
    with pytest.raises(DataError, match="not run on the same items"):
        analyse(config(contrasts, {"draft_k3": "sweep"}), records, [], [])


def test_two_arms_on_the_same_subset_must_match() -> None:
    records = [record("draft_k3", i, True) for i in range(50)]
    records += [record("ngram_k3", i, True) for i in range(10, 50)]
    contrasts = [{"a": "draft_k3", "b": "ngram_k3"}]
    subsets = {"draft_k3": "sweep", "ngram_k3": "sweep"}
    with pytest.raises(DataError, match="not run on the same items"):
        analyse(config(contrasts, subsets), records, [], [])
