"""verify re-derives acceptance by task and domain from the stored per-item counters.

The volatile folder is written by the publish code into a tmp dir, then damaged on disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tais.analysis.acceptance import acceptance_report
from tais.config.places import PublishPlaces
from tais.publish.publish import write_measurements
from tais.records import ArmPerformance, ArmRun, PublishedArm, SampleRecord
from tais.report.files import volatile_files
from tais.verify.verify import check_volatile

from .acceptance_support import arm


@pytest.fixture(name="bundle")
def bundle_fixture(tmp_path: Path) -> tuple[PublishPlaces, list[ArmRun], list[SampleRecord]]:
    places = PublishPlaces(tmp_path / "exp")
    arms = [arm("plain", "plain"), arm("served", "unreported"), arm("spec", "spec")]
    runs = [a.run for a in arms]
    records = [r for a in arms for r in a.records]
    write_measurements(places, "exp", runs, records, [line for a in arms for line in a.lines])
    performance = [ArmPerformance.of(run) for run in runs]
    lines = [line for a in arms for line in a.lines]
    for rel, text in volatile_files(acceptance_report(performance, lines, records)).items():
        (places.root / rel).write_text(text, encoding="utf-8")
    places.environment.write_text("{}\n")
    return places, runs, records


def problems_of(bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]]) -> list[str]:
    places, runs, records = bundle
    return check_volatile(places, "exp", [PublishedArm.of(r) for r in runs], records)


def edit_json(path: Path, change: object) -> None:
    data = json.loads(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data, indent=2) + "\n")


def edit_arm_line(path: Path, arm: str, change: object) -> None:
    lines = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        if data["arm"] == arm:
            change(data)  # type: ignore[operator]
        lines.append(json.dumps(data))
    path.write_text("\n".join(lines) + "\n")


def edit_item_line(path: Path, arm: str, item_id: str, **change: int) -> None:
    lines = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        if (data["arm"], data["item_id"]) == (arm, item_id):
            data["counters"].update(change)
        lines.append(json.dumps(data))
    path.write_text("\n".join(lines) + "\n")


def test_as_written_it_passes(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    assert problems_of(bundle) == []
    stored = json.loads(bundle[0].acceptance.read_text())
    assert stored["unit"] == "item"
    assert [a["arm"] for a in stored["arms"]] == ["plain", "served", "spec"]


def test_tampered_task_acceptance_is_named(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    edit_json(places.acceptance, lambda d: d["arms"][2]["tasks"]["advbench"].update(acceptance=0.5))
    assert problems_of(bundle) == [
        f"{places.acceptance}.arms[2].tasks.advbench.acceptance: stored 0.5, re-derived 0.4296875"
    ]


def test_tampered_comparison_is_named(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    edit_json(places.acceptance, lambda d: d["arms"][2]["comparison"].update(welch_p=0.01))
    (problem,) = problems_of(bundle)
    assert problem.startswith(f"{places.acceptance}.arms[2].comparison.welch_p: stored 0.01,")


def test_zero_for_not_reported_is_caught(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    edit_json(places.acceptance, lambda d: d["arms"][1].update(reported=True))
    assert problems_of(bundle) == [
        f"{places.acceptance}.arms[1].reported: stored true, re-derived false"
    ]


def test_tampered_chunk_counter_is_named(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    edit_arm_line(
        places.performance, "spec", lambda d: d["chunks"][0]["counters"].update(accepted_tokens=31)
    )
    problems = problems_of(bundle)
    assert (
        f"{places.performance} spec.chunks: counters do not sum to the arm's counters" in problems
    )


def test_tampered_item_counter_moves_everything_derived_from_it(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    edit_item_line(places.item_counters, "spec", "advbench/0", accepted_tokens=31)
    problems = problems_of(bundle)
    assert any(
        p.startswith(f"{places.item_counters}: arm 'spec': the items' counters sum to")
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{places.acceptance}.arms[2].tasks.advbench.acceptance: stored")
        for p in problems
    )
    assert any(p.startswith(f"{places.performance_report}:") for p in problems)


def test_item_counters_of_an_item_without_a_record_are_named(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    text = places.item_counters.read_text()
    places.item_counters.write_text(text.replace('"item_id":"bbq/3"', '"item_id":"bbq/9"', 1))
    problems = problems_of(bundle)
    assert (
        f"{places.item_counters}: arm 'plain' item 'bbq/9': counters but no record" in problems
    ), problems


def test_tampered_table_line_is_named(
    bundle: tuple[PublishPlaces, list[ArmRun], list[SampleRecord]],
) -> None:
    places = bundle[0]
    text = places.performance_report.read_text()
    places.performance_report.write_text(text.replace("| spec | 0.430 |", "| spec | 0.431 |"))
    (problem,) = problems_of(bundle)
    assert problem.startswith(f"{places.performance_report}:")
    assert "| spec | 0.431 |" in problem
