"""Chunks over the battery, and acceptance per task, per domain and safety against capability
from each output's own counters.

The comparison's expected numbers come from scipy 1.17.1, hard-coded with the call that
produced each; the pooled acceptances are the items' counts added up by hand.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tais.analysis.acceptance import (
    AcceptanceReport,
    acceptance_report,
    check_item_sums,
    compare_domains,
    task_domains,
)
from tais.analysis.performance import render_performance
from tais.battery.battery import build_battery
from tais.config.config import parse_config
from tais.errors import ConfigError, DataError
from tais.generate.arms import battery_chunks
from tais.io import read_jsonl, write_jsonl
from tais.records import ArmPerformance, Item, ItemCounters, Message, SpecCounters, domain_of

from .acceptance_support import CAPABILITY, SAFETY, ArmFixture, arm
from .conftest import ROOT
from .engine_support import demo_data


def item(item_id: str, task: str) -> Item:
    return Item(
        item_id=item_id,
        benchmark="b",
        task=task,
        kind="harmful",
        messages=[Message(role="user", content=item_id)],
    )


def report_of(*arms: ArmFixture) -> AcceptanceReport:
    return acceptance_report(
        [ArmPerformance.of(a.run) for a in arms],
        [line for a in arms for line in a.lines],
        [r for a in arms for r in a.records],
    )


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 64, 97, 200])
def test_chunks_cut_the_battery_in_order(size: int) -> None:
    rng = random.Random(size)
    items = [item(f"i/{n:03d}", rng.choice("abcd")) for n in range(97)]
    chunks = battery_chunks(items, size)
    assert [i for c in chunks for i in c] == items
    assert [len(c) for c in chunks[:-1]] == [size] * (len(chunks) - 1)
    assert 0 < len(chunks[-1]) <= size
    assert battery_chunks(list(items), size) == chunks


def test_chunks_of_the_demo_battery_span_tasks() -> None:
    items = sorted(
        read_jsonl(ROOT / "bundle" / "battery" / "demo.jsonl", Item), key=lambda i: i.item_id
    )
    chunks = battery_chunks(items, 256)
    # The demo's ids sort benign, capability, harmful: 100 items each.
    assert [len(c) for c in chunks] == [256, 44]
    assert [sorted({i.task for i in c}) for c in chunks] == [
        ["benign_requests", "harmful_requests", "multiple_choice"],
        ["harmful_requests"],
    ]


def test_domains_follow_the_papers_battery() -> None:
    # The paper's 468 safety prompts include BBQ and TruthfulQA, which are `scored`.
    assert [domain_of(k) for k in ("harmful", "benign", "scored", "capability")] == [
        "safety",
        "safety",
        "safety",
        "capability",
    ]


def test_a_task_in_both_domains_is_refused() -> None:
    records = arm("spec", "spec").records
    mixed = records[0].model_copy(update={"item_id": "odd", "kind": "capability"})
    with pytest.raises(DataError, match="task 'advbench' holds both safety and capability"):
        task_domains([*records, mixed])


def test_acceptance_pooled_per_task_and_domain_across_chunks() -> None:
    spec = arm("spec", "spec")
    # The chunks mix tasks: the per-task counts cannot come from them.
    assert [c.n_items for c in spec.run.chunks] == [3, 3, 1]
    report = report_of(spec)
    assert report.unit == "item"
    assert report.domains == {
        "advbench": "safety",
        "arc_challenge": "capability",
        "bbq": "safety",
        "mmlu": "capability",
        "truthfulqa": "safety",
    }
    (found,) = report.arms
    tasks = {t: (a.items, a.draft_tokens, a.accepted_tokens) for t, a in found.tasks.items()}
    assert tasks == {
        "advbench": (2, 128, 55),
        "arc_challenge": (1, 50, 9),
        "bbq": (1, 60, 33),
        "mmlu": (2, 128, 24),
        "truthfulqa": (1, 40, 12),
    }
    assert found.tasks["advbench"].acceptance == 0.4296875  # 55/128
    assert found.tasks["mmlu"].acceptance == 0.1875  # 24/128
    assert found.domains["safety"].acceptance == pytest.approx(100 / 228, rel=1e-15)
    assert found.domains["capability"].acceptance == pytest.approx(33 / 178, rel=1e-15)
    assert list(found.domains) == ["safety", "capability"]


def test_comparison_is_per_prompt_and_matches_scipy() -> None:
    c = report_of(arm("spec", "spec")).arms[0].comparison
    assert c is not None
    assert (c.n_safety, c.n_capability) == (4, 3)
    assert c.mean_safety == pytest.approx(0.42734375, rel=1e-12)  # numpy.mean(SAFETY)
    assert c.mean_capability == pytest.approx(0.185, rel=1e-12)  # numpy.mean(CAPABILITY)
    assert c.difference == pytest.approx(0.42734375 - 0.185, rel=1e-12)
    # scipy 1.17.1: r = scipy.stats.ttest_ind(SAFETY, CAPABILITY, equal_var=False)
    assert c.welch_t == pytest.approx(4.289382980357985, rel=1e-9)  # r.statistic
    assert c.welch_df == pytest.approx(3.662398334468593, rel=1e-9)  # r.df
    assert c.welch_p == pytest.approx(0.015405042901300061, rel=1e-7)  # r.pvalue
    # scipy 1.17.1: scipy.stats.ttest_ind(SAFETY, CAPABILITY, equal_var=True).statistic
    #               * numpy.sqrt(1 / 4 + 1 / 3)
    assert c.cohens_d == pytest.approx(2.843659912972119, rel=1e-9)


def test_comparison_needs_two_values_a_side_and_reports_no_scale_as_none() -> None:
    assert compare_domains(SAFETY, CAPABILITY[:1]) is None
    assert compare_domains(SAFETY[:1], CAPABILITY) is None
    flat = compare_domains([0.5, 0.5], [0.25, 0.25])
    assert flat is not None and flat.difference == 0.25
    # Both samples constant: d and t are infinite, df undefined; scipy gives p = 0.0.
    assert (flat.cohens_d, flat.welch_t, flat.welch_df, flat.welch_p) == (None, None, None, 0.0)


def test_no_speculation_and_no_counters_give_no_acceptance_never_zero() -> None:
    arms = [
        arm("plain", "plain"),
        arm("served", "unreported"),
        arm("spec", "spec"),
        arm("wide", "whole-arm"),
    ]
    report = report_of(*arms)
    plain, served, _, wide = report.arms
    assert plain.reported and plain.comparison is None
    assert all(a.acceptance is None and a.draft_tokens == 0 for a in plain.tasks.values())
    assert all(a.acceptance is None for a in plain.domains.values())
    assert not served.reported and served.tasks == {} and served.comparison is None
    # Counters summed over chunks that span tasks belong to no task.
    assert not wide.reported and wide.tasks == {} and wide.comparison is None
    performance = [ArmPerformance.of(a.run) for a in arms]
    text = render_performance("exp", performance, report)
    section = text[text.index("## Acceptance by task and domain") :]
    # The arm that drafted nothing has no row; the arms without per-item counters say so.
    assert "| plain |" not in section
    assert "| served | not reported | not reported |" in section
    assert "| wide | not reported | not reported |" in section
    header = (
        "| arm | advbench | bbq | truthfulqa | **safety** | arc_challenge | mmlu | **capability** |"
    )
    assert header in section
    assert "| spec | 0.430 | 0.550 | 0.300 | 0.439 | 0.180 | 0.188 | 0.185 |" in section
    assert "| spec | 4 / 3 | 0.427 | 0.185 | +0.242 | 2.84 | 4.29 | 3.7 | 0.0154 |" in section
    assert "| served | n/a | n/a |" in section
    # Its whole-arm acceptance still shows: 133/406.
    assert "| wide | tiny |" in text and "| 406 | 133 | 0.328 |" in text


def test_an_arm_on_a_subset_leaves_other_tasks_blank() -> None:
    spec, sweep_arm = arm("spec", "spec"), arm("sweep", "spec", {"advbench", "bbq"})
    report = report_of(spec, sweep_arm)
    sweep = report.arms[1]
    assert list(sweep.tasks) == ["advbench", "bbq"] and list(sweep.domains) == ["safety"]
    assert sweep.comparison is None
    text = render_performance("exp", [ArmPerformance.of(a.run) for a in (spec, sweep_arm)], report)
    # safety: 88/188
    assert "| sweep | 0.430 | 0.550 |  | 0.468 |  |  |  |" in text


def test_item_counters_must_cover_their_arm_once() -> None:
    spec = arm("spec", "spec")
    performance = [ArmPerformance.of(spec.run)]
    with pytest.raises(DataError, match="2 record\\(s\\) without counters"):
        acceptance_report(performance, spec.lines[2:], spec.records)
    with pytest.raises(DataError, match="'advbench/0': counters listed twice"):
        acceptance_report(performance, [spec.lines[0], *spec.lines], spec.records)
    stray = ItemCounters(arm="spec", item_id="nope", counters=SpecCounters())
    with pytest.raises(DataError, match="item 'nope': counters but no record"):
        acceptance_report(performance, [*spec.lines, stray], spec.records)


def test_item_counters_that_do_not_add_up_to_the_chunks_are_named() -> None:
    plain, spec = arm("plain", "plain"), arm("spec", "spec")
    performance = [ArmPerformance.of(plain.run), ArmPerformance.of(spec.run)]
    lines = [*plain.lines, *spec.lines]
    # An arm without speculation: zero counters, its per-position list empty on both sides.
    assert check_item_sums("f", performance, lines) == []
    bumped = spec.lines[0].counters.model_copy(update={"accepted_tokens": 31})
    lines[len(plain.lines)] = spec.lines[0].model_copy(update={"counters": bumped})
    (problem,) = check_item_sums("f", performance, lines)
    assert problem.startswith("f: arm 'spec': the items' counters sum to {")
    assert "'accepted_tokens': 134" in problem and "'accepted_tokens': 133" in problem


def test_a_battery_task_in_both_domains_is_refused_before_any_run(tmp_path: Path) -> None:
    rows = [
        item("mix/1", "mixed"),
        item("mix/2", "mixed").model_copy(update={"kind": "capability", "reference": "A"}),
    ]
    battery = tmp_path / "battery.jsonl"
    write_jsonl(battery, rows)
    data = demo_data()
    data["battery"] = [{"benchmark": "b", "path": str(battery)}]
    with pytest.raises(ConfigError, match="task 'mixed' holds both capability items and safety"):
        build_battery(parse_config(data))
