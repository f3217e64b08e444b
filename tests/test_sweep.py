"""The N-sweep, pooled rates and identity intervals of expanded experiment configs, through
analyse, report and verify, on synthetic records whose outcomes are set by construction.

Expected statistics are hard-coded with the producing call beside them (scipy 1.17.1,
numpy 2.3.5, statsmodels 0.15.0); none came from tais.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tais.analysis.analyse import analyse
from tais.analysis.summary import Summary
from tais.config.config import ExperimentConfig, parse_config
from tais.config.floors import gap_contrasts
from tais.config.profiles import load_experiment, resolved_yaml
from tais.errors import ConfigError, DataError
from tais.publish.publish import battery_counts
from tais.records import (
    Divergence,
    DivergenceGap,
    Item,
    Kind,
    Message,
    PublishedArm,
    SampleRecord,
)
from tais.report.files import report_files
from tais.report.report import render_report
from tais.verify.verify import verify_run

from .conftest import ROOT
from .engine_support import demo_config
from .engine_support import harmful_record as harmful

EXPERIMENTS = ROOT / "bundle" / "configs" / "experiments"
NS = [1, 3, 5, 8, 12]
# advbench: 12 items, the first 10 in the sweep subset; P4 refuses the first count[N].
REFUSED_AT = {1: 8, 3: 7, 5: 7, 8: 5, 12: 4}
# truthfulqa: 6 items, all in the subset; item 5 has no usable score at N=8.
SCORES_AT = {
    1: [1, 1, 0.5, 0.5, 0, 0],
    3: [1, 0.5, 0.5, 0.5, 0, 0],
    5: [1, 1, 1, 0.5, 0, 0],
    8: [0.5, 0.5, 0.5, 0.5, 0.5, None],
    12: [1, 0, 0, 0, 0, 0],
}
KINDS: dict[str, Kind] = {"advbench": "harmful", "truthfulqa": "scored", "mmlu": "capability"}
LABEL = {"harmful": "refused", "scored": "score", "capability": "correct"}


def e0_cpu() -> ExperimentConfig:
    return load_experiment(EXPERIMENTS / "e0.yaml", "cpu").config


def record(arm: str, task: str, i: int, value: float | bool | None) -> SampleRecord:
    kind = KINDS[task]
    # Equal outcomes, equal outputs: the analysis pairs outputs by their hashes.
    text = f"{task}/{i}={value}"
    return SampleRecord(
        item_id=f"paper/{task}/{i:03d}",
        benchmark="paper",
        task=task,
        kind=kind,
        pair="tiny",
        arm=arm,
        output_sha256=text,
        token_ids_sha256=text,
        n_tokens=4,
        n_bytes=len(text),
        finish_reason="stop",
        labels={"paper": {LABEL[kind]: value}},
    )


def whole_battery(arm: str, refused: int, scores: list[float], correct: int) -> list[SampleRecord]:
    return (
        [record(arm, "advbench", i, i < refused) for i in range(12)]
        + [record(arm, "truthfulqa", i, s) for i, s in enumerate(scores)]
        + [record(arm, "mmlu", i, i < correct) for i in range(5)]
    )


def e0_records() -> list[SampleRecord]:
    records = whole_battery("tiny-target-alone", 9, [1, 1, 0.5, 0.5, 0, 0], 3)
    # The numerics floor's arms (base.yaml `floors`): batching alone changed nothing here.
    for floor in ("tiny-target-alone-reversed", "tiny-target-alone-seqs16"):
        records += whole_battery(floor, 9, [1, 1, 0.5, 0.5, 0, 0], 3)
    records += whole_battery("tiny-draft-alone", 6, [1, 0, 0, 0, 0, 0], 1)
    records += whole_battery("tiny-canonical-p2", 9, [1, 1, 0.5, 0.5, 0, 0], 3)
    records += whole_battery("tiny-canonical-p3", 8, [1, 0.5, 0.5, 0.5, 0, 0], 3)
    for n in NS:
        arm = f"tiny-canonical-p4-k{n}"
        records += [record(arm, "advbench", i, i < REFUSED_AT[n]) for i in range(10)]
        records += [record(arm, "truthfulqa", i, s) for i, s in enumerate(SCORES_AT[n])]
    return records


def divergences(config: ExperimentConfig, records: list[SampleRecord]) -> list[Divergence]:
    by_key = {(r.arm, r.item_id): r for r in records}
    found = []
    for c in config.contrasts:
        for (arm, item_id), a in sorted(by_key.items()):
            b = by_key.get((c.b, item_id))
            if arm == c.a and b is not None and a.output_sha256 != b.output_sha256:
                found.append(
                    Divergence(
                        contrast=c.name,
                        item_id=item_id,
                        first_diverging_token=2,
                        bytes_changed_share=0.25,
                    )
                )
    return found


def divergence_gaps(
    config: ExperimentConfig, records: list[SampleRecord], divs: list[Divergence]
) -> list[DivergenceGap]:
    """A gap for every changed item of every gap contrast, as the engine would measure one
    (the config has floor arms, so gaps.jsonl is part of the run)."""
    by_key = {(r.arm, r.item_id): r for r in records}
    firsts = {(d.contrast, d.item_id): d.first_diverging_token for d in divs}
    found = []
    for c in gap_contrasts(config):
        for (arm, item_id), a in sorted(by_key.items()):
            b = by_key.get((c.b, item_id))
            if arm == c.a and b is not None and a.token_ids_sha256 != b.token_ids_sha256:
                found.append(
                    DivergenceGap(
                        contrast=c.name,
                        item_id=item_id,
                        task=a.task,
                        position=firsts.get((c.name, item_id), 2),
                        gap=0.5,
                        reference_is_argmax=True,
                    )
                )
    return found


def published_arms(config: ExperimentConfig, records: list[SampleRecord]) -> list[PublishedArm]:
    return [
        PublishedArm(
            arm=arm.name,
            pair=arm.pair,
            fingerprint="f" * 64,
            engine={
                "speculative": arm.speculative.model_dump(mode="json") if arm.speculative else None
            },
            n_items=sum(r.arm == arm.name for r in records),
            n_tokens=4 * sum(r.arm == arm.name for r in records),
        )
        for arm in config.arms
    ]


def e0_summary() -> Summary:
    config, records = e0_cpu(), e0_records()
    return analyse(config, records, divergences(config, records), published_arms(config, records))


def test_expanded_config_labels_each_arm_with_group_and_phase() -> None:
    config = e0_cpu()
    phases = {(m.arm, m.group): m.phase for m in config.members}
    assert phases[("tiny-target-alone", "targets")] == "P1"
    assert phases[("tiny-canonical-p3", "canonical")] == "P3"
    assert {a for (a, _), p in phases.items() if p == "P4"} == {
        f"tiny-canonical-p4-k{n}" for n in NS
    }


def test_sweep_rows_of_an_expanded_e0() -> None:
    summary = e0_summary()
    rows = {row.task: row for row in summary.sweeps}
    assert sorted(rows) == ["advbench", "truthfulqa"]  # mmlu is not in the sweep subset
    adv = rows["advbench"]
    assert (adv.pair, adv.group, adv.phase, adv.metric) == ("tiny", "canonical", "P4", "refusal")
    assert [(p.n, p.arm, p.k) for p in adv.points] == [
        (n, f"tiny-canonical-p4-k{n}", REFUSED_AT[n]) for n in NS
    ]
    assert [p.rate for p in adv.points] == pytest.approx([0.8, 0.7, 0.7, 0.5, 0.4], abs=1e-15)
    # scipy.stats.linregress([1, 3, 5, 8, 12], [.8, .7, .7, .5, .4]).slope
    assert adv.slope == pytest.approx(-0.03716577540106951, rel=1e-12)
    assert adv.largest_range == pytest.approx(0.4, abs=1e-15)
    # scipy.stats.bootstrap(tuple(numpy.array(cols[n]) for n in NS), slope_of_means,
    #   paired=True, vectorized=True, n_resamples=20000, method="percentile",
    #   confidence_level=0.95, random_state=numpy.random.default_rng(12345))
    #   -> (-0.06791443850267377, -0.00828877005347594)
    # cols[n][i] = 1.0 if i < REFUSED_AT[n] else 0.0 over the 10 sweep items; slope_of_means
    # the least-squares slope of the column means on NS. Different generators: a tenth of
    # the width apart at most.
    low, high = -0.06791443850267377, -0.00828877005347594
    assert adv.ci_low == pytest.approx(low, abs=0.1 * (high - low))
    assert adv.ci_high == pytest.approx(high, abs=0.1 * (high - low))
    assert (adv.n_items, adv.excluded, adv.n_resamples, adv.seed) == (10, 0, 2000, 0)
    assert adv.ci_level == pytest.approx(0.95)

    tqa = rows["truthfulqa"]
    # Item 5 lacks a score at N=8, so it leaves every N: the rates are over items 0-4.
    assert (tqa.n_items, tqa.excluded, tqa.metric) == (5, 1, "score")
    assert [p.rate for p in tqa.points] == pytest.approx([0.6, 0.5, 0.7, 0.5, 0.2], abs=1e-15)
    # numpy.polyfit([1, 3, 5, 8, 12], [.6, .5, .7, .5, .2], 1)[0]
    assert tqa.slope == pytest.approx(-0.03342245989304819, rel=1e-12)
    assert tqa.largest_range == pytest.approx(0.5, abs=1e-15)


def test_pooled_rates_of_an_expanded_e0() -> None:
    pooled = {r.task: r for r in e0_summary().pooled}
    adv = pooled["advbench"]
    # p2 9/12, p3 8/12, p4 8+7+7+5+4 of 5 x 10
    assert (adv.k, adv.n, adv.excluded, len(adv.arms)) == (48, 74, 0, 7)
    # statsmodels: proportion_confint(48, 74, alpha=0.05, method="wilson")
    assert (adv.ci_low, adv.ci_high) == pytest.approx((0.5350076261735018, 0.7476181150870321))
    tqa = pooled["truthfulqa"]
    assert (tqa.k, tqa.n, tqa.excluded) == (18, 41, 1)
    # statsmodels: proportion_confint(18, 41, alpha=0.05, method="wilson")
    assert (tqa.ci_low, tqa.ci_high) == pytest.approx((0.2989013173655037, 0.5895947277789393))
    mmlu = pooled["mmlu"]
    assert (mmlu.k, mmlu.n, mmlu.arms) == (6, 10, ["tiny-canonical-p2", "tiny-canonical-p3"])


def test_identity_carries_wilson_intervals() -> None:
    cells = {(c.b, c.task): c.identity for c in e0_summary().contrasts}
    same = cells[("tiny-canonical-p2", "advbench")]
    assert (same.token_identical, same.bytes_identical, same.n) == (12, 12, 12)
    # statsmodels: proportion_confint(12, 12, alpha=0.05, method="wilson")
    #   -> (0.7575059933447589, 0.9999999999999999)
    assert same.bytes_identical_ci_low == pytest.approx(0.7575059933447589, rel=1e-12)
    assert same.bytes_identical_ci_high == 1.0
    assert same.token_identical_ci_low == same.bytes_identical_ci_low
    assert same.bytes_changed_share_mean is None
    moved = cells[("tiny-canonical-p3", "advbench")]
    assert moved.bytes_identical == 11
    # statsmodels: proportion_confint(11, 12, alpha=0.05, method="wilson")
    assert (moved.bytes_identical_ci_low, moved.bytes_identical_ci_high) == pytest.approx(
        (0.646120088858883, 0.9851349055950829), rel=1e-12
    )
    # The mean over the differing items only: the 11 identical ones carry no divergence.
    assert moved.bytes_changed_share_mean == 0.25
    assert moved.ci_level == pytest.approx(0.95)


def test_report_shows_sweep_pooled_and_identity_sections() -> None:
    report = render_report(e0_summary())
    assert "## N-sweep" in report and "## Pooled rates" in report
    assert "### Identity between arms" in report
    assert (
        "| tiny | canonical | P4 | advbench | refusal | 10 | 1: 80.0%, 3: 70.0%, 5: 70.0%, "
        "8: 50.0%, 12: 40.0% | -3.717 |" in report
    )
    assert (
        "| tiny | canonical | advbench | refusal | 7 | 48 / 74 | 64.9% | [53.5%, 74.8%] |" in report
    )
    assert "11/12 (91.7%, [64.6%, 98.5%])" in report
    assert "truthfulqa: 1 item(s) without a usable label at some N left out" in report


def test_e1_is_absolute_rates_only_with_the_papers_pooled_advbench() -> None:
    config = load_experiment(EXPERIMENTS / "e1.yaml", "cpu").config
    assert config.contrasts == []
    arms = [a.name for a in config.arms]
    assert len(arms) == 7
    # 84 of 100 refused in six arms, 83 in the seventh: 587 of the paper's 700.
    records = [
        record(arm, "advbench", i, i < (83 if arm.endswith("k12") else 84))
        for arm in arms
        for i in range(100)
    ]
    summary = analyse(config, records, [], published_arms(config, records))
    assert summary.verdict.verdict == "INCONCLUSIVE" and summary.contrasts == []
    (pooled,) = summary.pooled
    assert (pooled.k, pooled.n) == (587, 700)
    # statsmodels: proportion_confint(587, 700, alpha=0.05, method="wilson")
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx(
        (0.8094794756630072, 0.8639676395356345), rel=1e-12
    )
    report = render_report(summary)
    assert "**Absolute rates only, not a screen pass.**" in report
    assert "**Verdict:" not in report and "## Contrasts" not in report
    assert "`INCONCLUSIVE` in summary.json" in report


def test_a_hand_written_config_has_no_sweep_pooled_or_members() -> None:
    config = demo_config()
    assert "members" not in config.model_dump(mode="json")
    records = [harmful(arm, i, i < 8) for arm in ("target_only", "draft_k3") for i in range(10)]
    dumped = analyse(config, records, [], []).model_dump(mode="json")
    assert "sweeps" not in dumped and "pooled" not in dumped


def publish(tmp_path: Path) -> Path:
    """An e0 bundle without volatile/: what verify re-derives the summary from."""
    loaded = load_experiment(EXPERIMENTS / "e0.yaml", "cpu")
    config, records = loaded.config, e0_records()
    run = tmp_path / config.experiment
    run.mkdir()
    divs, arms = divergences(config, records), published_arms(config, records)
    gaps = divergence_gaps(config, records, divs)
    summary = analyse(config, records, divs, arms, gaps=gaps)
    (run / "config.yaml").write_text(resolved_yaml(config, Path("e0.yaml"), "cpu"))
    rows_of = (("records", records), ("divergences", divs), ("arms", arms), ("gaps", gaps))
    for name, rows in rows_of:
        lines = [r.model_dump_json() + "\n" for r in rows]
        (run / f"{name}.jsonl").write_text("".join(lines), encoding="utf-8")
    items = {
        r.item_id: Item(
            item_id=r.item_id,
            benchmark=r.benchmark,
            task=r.task,
            kind=r.kind,
            messages=[Message(role="user", content="-")],
        )
        for r in records
    }
    counts = battery_counts(list(items.values()), None)
    (run / "battery.json").write_text(counts.model_dump_json())
    (run / "summary.json").write_text(json.dumps(summary.model_dump(mode="json"), indent=2))
    for rel, text in report_files(config, summary, divs).items():
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text(text, encoding="utf-8")
    return run


def problems(run: Path) -> list[str]:
    return [p for p in verify_run(run) if "volatile" not in p]


def test_verify_rederives_the_sweep_and_catches_a_tampered_value(tmp_path: Path) -> None:
    run = publish(tmp_path)
    assert problems(run) == []
    summary = json.loads((run / "summary.json").read_text())
    assert summary["sweeps"][0]["task"] == "advbench"
    summary["sweeps"][0]["points"][2]["rate"] = 0.75
    summary["pooled"][0]["ci_high"] = 0.9
    summary["contrasts"][0]["identity"]["bytes_identical_ci_low"] = 0.5
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    found = problems(run)
    where = f"{run / 'summary.json'}"
    assert f"{where}.sweeps[0].points[2].rate: stored 0.75, re-derived 0.7" in found
    assert any(p.startswith(f"{where}.pooled[0].ci_high: stored 0.9,") for p in found)
    assert any(
        p.startswith(f"{where}.contrasts[0].identity.bytes_identical_ci_low: stored 0.5,")
        for p in found
    )
    assert len(found) == 3


def test_verify_catches_a_dropped_sweep(tmp_path: Path) -> None:
    run = publish(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    del summary["sweeps"]
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    (found,) = problems(run)
    assert found.startswith(f"{run / 'summary.json'}.sweeps: missing, re-derived [")


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([{"arm": "nope", "group": "g", "phase": "P1"}], "members: unknown arm 'nope'"),
        (
            [{"arm": "tiny-target-alone", "group": "g", "phase": "P1"}] * 2,
            "arm tiny-target-alone listed twice in group g",
        ),
        (
            [
                {"arm": "tiny-target-alone", "group": "g", "phase": "P1"},
                {"arm": "tiny-target-alone", "group": "h", "phase": "P2"},
            ],
            "arm tiny-target-alone in phases P1 and P2",
        ),
        ([{"arm": "tiny-target-alone", "group": "g", "phase": "P1", "n": 3}], "unknown key"),
    ],
)
def test_members_that_do_not_fit_the_arms_fail_loudly(
    members: list[dict[str, object]], message: str
) -> None:
    data = e0_cpu().model_dump(mode="json")
    data["members"] = members
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_sweep_arms_on_different_items_are_an_error() -> None:
    config, records = e0_cpu(), e0_records()
    records = [
        r for r in records if (r.arm, r.item_id) != ("tiny-canonical-p4-k8", "paper/advbench/009")
    ]
    with pytest.raises(
        DataError, match="sweep tiny/canonical/P4, task advbench: the arms were not"
    ):
        analyse(config, records, divergences(config, records), [])


def test_two_arms_at_one_n_in_a_sweep_are_an_error() -> None:
    data = e0_cpu().model_dump(mode="json")
    k3 = next(a for a in data["arms"] if a["name"] == "tiny-canonical-p4-k3")
    k3["speculative"]["num_speculative_tokens"] = 1
    config = parse_config(data)
    records = e0_records()
    with pytest.raises(
        DataError, match="tiny-canonical-p4-k1 and tiny-canonical-p4-k3 both run N=1"
    ):
        analyse(config, records, divergences(config, records), [])
