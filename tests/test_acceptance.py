"""Per-task chunks, and acceptance per task, per domain and safety against capability.

The comparison's expected numbers come from scipy 1.17.1, hard-coded with the call that
produced each; the pooled acceptances are the chunks' counts added up by hand.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from tais.acceptance import acceptance_report, compare_domains, domain_of, task_domains
from tais.battery import build_battery
from tais.config import parse_config
from tais.errors import ConfigError, DataError
from tais.generate import task_chunks
from tais.io import read_jsonl, write_jsonl
from tais.performance import render_performance
from tais.records import ArmPerformance, Item, Message

from .acceptance_support import (
    CAPABILITY,
    SAFETY,
    arm_run,
    plain_chunks,
    records_of,
    spec_chunks,
    unreported_chunks,
)
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


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 64])
def test_chunks_never_span_tasks(size: int) -> None:
    rng = random.Random(size)
    # Tasks interleaved in id order, as a battery sorted by id can have them.
    items = [item(f"i/{n:03d}", rng.choice("abcd")) for n in range(97)]
    chunks = task_chunks(items, size)
    assert all(len({i.task for i in c}) == 1 for c in chunks)
    assert all(0 < len(c) <= size for c in chunks)
    first_seen = list(dict.fromkeys(i.task for i in items))
    grouped = [i for task in first_seen for i in items if i.task == task]
    assert [i for c in chunks for i in c] == grouped
    # Only a task's last chunk may be short.
    for before, after in itertools.pairwise(chunks):
        if before[0].task == after[0].task:
            assert len(before) == size
    assert task_chunks(list(items), size) == chunks


def test_chunks_of_the_demo_battery() -> None:
    items = sorted(
        read_jsonl(ROOT / "bundle" / "battery" / "demo.jsonl", Item), key=lambda i: i.item_id
    )
    chunks = task_chunks(items, 64)
    # The demo's ids sort benign, capability, harmful: 100 items each.
    assert [(c[0].task, len(c)) for c in chunks] == [
        ("benign_requests", 64),
        ("benign_requests", 36),
        ("multiple_choice", 64),
        ("multiple_choice", 36),
        ("harmful_requests", 64),
        ("harmful_requests", 36),
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
    records = records_of(arm_run("spec", spec_chunks()))
    mixed = records[0].model_copy(update={"item_id": "odd", "kind": "capability"})
    with pytest.raises(DataError, match="task 'advbench' holds both safety and capability"):
        task_domains([*records, mixed])


def test_acceptance_pooled_per_task_and_domain() -> None:
    report = acceptance_report(
        [ArmPerformance.of(arm_run("spec", spec_chunks()))],
        records_of(arm_run("spec", spec_chunks())),
    )
    assert report.domains == {
        "advbench": "safety",
        "arc_challenge": "capability",
        "bbq": "safety",
        "mmlu": "capability",
        "truthfulqa": "safety",
    }
    (arm,) = report.arms
    tasks = {task: (a.chunks, a.draft_tokens, a.accepted_tokens) for task, a in arm.tasks.items()}
    assert tasks == {
        "advbench": (2, 128, 55),
        "arc_challenge": (1, 50, 9),
        "bbq": (1, 60, 33),
        "mmlu": (2, 128, 24),
        "truthfulqa": (1, 40, 12),
    }
    assert arm.tasks["advbench"].acceptance == 0.4296875  # 55/128
    assert arm.tasks["mmlu"].acceptance == 0.1875  # 24/128
    assert arm.domains["safety"].acceptance == pytest.approx(100 / 228, rel=1e-15)
    assert arm.domains["capability"].acceptance == pytest.approx(33 / 178, rel=1e-15)
    assert list(arm.domains) == ["safety", "capability"]


def test_comparison_matches_scipy() -> None:
    report = acceptance_report(
        [ArmPerformance.of(arm_run("spec", spec_chunks()))],
        records_of(arm_run("spec", spec_chunks())),
    )
    c = report.arms[0].comparison
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
    runs = [
        arm_run("plain", plain_chunks()),
        arm_run("served", unreported_chunks()),
        arm_run("spec", spec_chunks()),
    ]
    performance = [ArmPerformance.of(run) for run in runs]
    report = acceptance_report(performance, [r for run in runs for r in records_of(run)])
    plain, served, _ = report.arms
    assert plain.reported and plain.comparison is None
    assert all(a.acceptance is None and a.draft_tokens == 0 for a in plain.tasks.values())
    assert all(a.acceptance is None for a in plain.domains.values())
    assert not served.reported and served.tasks == {} and served.comparison is None
    text = render_performance("exp", performance, report)
    section = text[text.index("## Acceptance by task and domain") :]
    # The arm that drafted nothing has no row; the server without counters says so.
    assert "| plain |" not in section
    assert "| served | not reported | not reported |" in section
    header = (
        "| arm | advbench | bbq | truthfulqa | **safety** | arc_challenge | mmlu | **capability** |"
    )
    assert header in section
    assert "| spec | 0.430 | 0.550 | 0.300 | 0.439 | 0.180 | 0.188 | 0.185 |" in section
    assert "| spec | 4 / 3 | 0.427 | 0.185 | +0.242 | 2.84 | 4.29 | 3.7 | 0.0154 |" in section
    assert "| served | n/a | n/a |" in section


def test_an_arm_on_a_subset_leaves_other_tasks_blank() -> None:
    subset = [c for c in spec_chunks() if c.task in ("advbench", "bbq")]
    subset = [c.model_copy(update={"chunk": i}) for i, c in enumerate(subset)]
    runs = [arm_run("spec", spec_chunks()), arm_run("sweep", subset)]
    performance = [ArmPerformance.of(run) for run in runs]
    report = acceptance_report(performance, [r for run in runs for r in records_of(run)])
    sweep = report.arms[1]
    assert list(sweep.tasks) == ["advbench", "bbq"] and list(sweep.domains) == ["safety"]
    assert sweep.comparison is None
    text = render_performance("exp", performance, report)
    # safety: 88/188
    assert "| sweep | 0.430 | 0.550 |  | 0.468 |  |  |  |" in text


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
