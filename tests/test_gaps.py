"""Where changes start: first diverging position, the requests sent to the target, and the
gaps' bins and quantiles (against numpy.quantile)."""

from __future__ import annotations

from typing import Any

import pytest

from tais.analysis.gaps import EDGES, bin_counts, gap_summaries, quantile, summarise
from tais.config.config import ExperimentConfig, parse_config
from tais.config.floors import gap_contrasts
from tais.errors import DataError
from tais.generate.gaps import first_diverging_token, gap_requests
from tais.records import DivergenceGap, Generation, Item, Message
from tais.report.report import _gaps_section

TARGET = "bundle/models/tiny-target"


def config(floor: bool = True) -> ExperimentConfig:
    arms: list[dict[str, Any]] = [
        {"name": "t", "pair": "p", "target": TARGET, "dtype": "bfloat16"},
        {
            "name": "s",
            "pair": "p",
            "target": TARGET,
            "dtype": "bfloat16",
            "speculative": {"method": "ngram", "num_speculative_tokens": 3},
        },
    ]
    if floor:
        arms.append(
            {
                "name": "t-rev",
                "pair": "p",
                "target": TARGET,
                "dtype": "bfloat16",
                "batch_order": "reversed",
            }
        )
    return parse_config(
        {
            "experiment": "x",
            "battery": [{"benchmark": "b", "path": "unused.jsonl"}],
            "arms": arms,
            "contrasts": [{"a": "t", "b": "s"}],
        }
    )


def item(i: int) -> Item:
    return Item(
        item_id=f"i{i}",
        benchmark="b",
        task="harm" if i % 2 else "help",
        kind="harmful",
        messages=[Message(role="user", content=f"prompt {i}")],
    )


def gen(arm: str, i: int, ids: list[int] | None) -> Generation:
    return Generation(
        item_id=f"i{i}",
        pair="p",
        arm=arm,
        chunk=0,
        text="x",
        token_ids=ids,
        output_sha256="h",
        n_tokens=len(ids or []),
        finish_reason="stop",
    )


def gap(contrast: str, i: int, value: float, argmax: bool | None = True) -> DivergenceGap:
    return DivergenceGap(
        contrast=contrast,
        item_id=f"i{i}",
        task="help",
        position=0,
        gap=value,
        reference_is_argmax=argmax,
    )


def test_first_diverging_token_is_the_common_prefix_length() -> None:
    assert first_diverging_token([1, 2, 3], [1, 2, 4]) == 2
    assert first_diverging_token([5], [6]) == 0
    assert first_diverging_token([1, 2], [1, 2, 3]) == 2  # one output a prefix of the other
    assert first_diverging_token([1, 2], [1, 2]) == 2


def test_gap_contrasts_are_the_contrasts_then_each_floor_arm_against_its_reference() -> None:
    assert [c.name for c in gap_contrasts(config())] == ["t~s", "t~t-rev"]
    assert gap_contrasts(config(floor=False)) == []


def test_requests_hold_the_reference_prefix_and_token_of_changed_items_only() -> None:
    items = [item(i) for i in range(4)]
    gens = [
        *(gen("t", i, [10, 11, 12, 13]) for i in range(4)),
        gen("s", 0, [10, 11, 12, 13]),  # unchanged: no request
        gen("s", 1, [10, 11, 99]),
        gen("s", 2, [10, 11, 12]),  # the speculative output stops early
        gen("s", 3, None),  # no token ids: no prefix to give, no request
        *(gen("t-rev", i, [10, 11, 12, 13]) for i in range(3)),
        gen("t-rev", 3, [77]),
    ]
    wanted = gap_requests(config(), items, gens)
    got = [(r.contrast, r.item_id, r.task, r.prefix, r.reference_token) for _, r in wanted]
    assert got == [
        ("t~s", "i1", "harm", [10, 11], 12),
        ("t~s", "i2", "help", [10, 11, 12], 13),
        ("t~t-rev", "i3", "harm", [], 10),
    ]
    # The target alone, batched the default way, with the reference arm's dtype.
    arms = {arm.model_dump_json() for arm, _ in wanted}
    assert len(arms) == 1
    (arm, _) = wanted[0]
    assert arm.speculative is None and arm.batch_order == "battery" and arm.dtype == "bfloat16"
    assert gap_requests(config(floor=False), items, gens) == []


def test_quantiles_match_numpy_linear() -> None:
    values = [0.003, 0.05, 0.07, 0.2, 0.8, 1.5, 3.0]
    # numpy.quantile([0.003, 0.05, 0.07, 0.2, 0.8, 1.5, 3.0], 0.25) -> 0.060000000000000005
    assert quantile(values, 0.25) == pytest.approx(0.060000000000000005, abs=1e-15)
    # numpy.quantile([0.003, 0.05, 0.07, 0.2, 0.8, 1.5, 3.0], 0.5) -> 0.2
    assert quantile(values, 0.5) == pytest.approx(0.2, abs=1e-15)
    # numpy.quantile([0.003, 0.05, 0.07, 0.2, 0.8, 1.5, 3.0], 0.75) -> 1.15
    assert quantile(values, 0.75) == pytest.approx(1.15, abs=1e-15)
    four = sorted([0.0, 0.1, 2.0, 0.01])
    # numpy.quantile([0.0, 0.1, 2.0, 0.01], 0.25) -> 0.0075
    assert quantile(four, 0.25) == pytest.approx(0.0075, abs=1e-15)
    # numpy.quantile([0.0, 0.1, 2.0, 0.01], 0.5) -> 0.055
    assert quantile(four, 0.5) == pytest.approx(0.055, abs=1e-15)
    # numpy.quantile([0.0, 0.1, 2.0, 0.01], 0.75) -> 0.575
    assert quantile(four, 0.75) == pytest.approx(0.575, abs=1e-15)
    # numpy.quantile([0.42], 0.25) -> 0.42
    assert quantile([0.42], 0.25) == 0.42
    with pytest.raises(DataError):
        quantile([], 0.5)


def test_bins_are_half_open_and_the_last_has_no_upper_edge() -> None:
    bins = bin_counts([0.0, 0.0099, 0.01, 0.05, 0.1, 0.5, 0.99, 1.0, 2.0, 7.0])
    assert [(b.low, b.high) for b in bins] == [
        (0.0, 0.01),
        (0.01, 0.1),
        (0.1, 0.5),
        (0.5, 1.0),
        (1.0, 2.0),
        (2.0, None),
    ]
    assert [b.count for b in bins] == [2, 2, 1, 2, 1, 2]
    assert len(bins) == len(EDGES)


def test_summaries_per_contrast_in_config_order() -> None:
    values = [0.003, 0.05, 0.07, 0.2, 0.8, 1.5, 3.0]
    gaps = [gap("t~t-rev", 0, 0.004, argmax=None)] + [
        gap("t~s", i, v, argmax=i != 2) for i, v in enumerate(values)
    ]
    first, second = gap_summaries(config(), gaps)
    assert (first.contrast, second.contrast) == ("t~s", "t~t-rev")
    assert first.n == 7 and [b.count for b in first.bins] == [1, 2, 1, 1, 1, 1]
    assert (first.min, first.median, first.max) == (0.003, 0.2, 3.0)
    assert first.near_ties == 3 and first.reference_argmax == 6
    assert (second.n, second.p25, second.reference_argmax) == (1, 0.004, 0)
    with pytest.raises(DataError, match="does not hold"):
        gap_summaries(config(), [gap("t~nope", 0, 1.0)])
    with pytest.raises(DataError):
        summarise("t~s", [gap("t~s", 0, -0.5)])


def test_report_says_how_many_changes_began_at_near_ties() -> None:
    from tais.analysis.summary import Summary

    gaps = [gap("t~s", i, v) for i, v in enumerate([0.003, 0.05, 0.07, 2.5])]
    summary = Summary.model_construct(gaps=gap_summaries(config(), gaps))
    text = "\n".join(_gaps_section(summary))
    assert "## Where the changes start" in text
    assert "| t vs s | 4 | 1 | 2 | 0 | 0 | 0 | 1 |" in text
    assert "of 4 changed item(s), 3 began where the target's top two tokens were within 0.1" in text


def test_verify_catches_a_tampered_a_dropped_and_a_moved_gap(tmp_path: Any) -> None:
    import json

    from tais.verify.verify import verify_run

    from .test_sweep import publish

    def problems() -> list[str]:
        return [p for p in verify_run(run) if "volatile" not in p]

    run = publish(tmp_path)
    assert problems() == []
    path = run / "gaps.jsonl"
    lines = path.read_text().splitlines()
    assert len(lines) > 3
    # A gap's value: the summary re-derived from it no longer equals the stored one.
    tampered = json.loads(lines[0])
    tampered["gap"] += 0.25
    path.write_text("\n".join([json.dumps(tampered), *lines[1:]]) + "\n")
    assert any("summary.json" in p and "gaps" in p for p in problems())
    # A line dropped and another's position moved: named, item by item.
    dropped, moved = json.loads(lines[0]), json.loads(lines[1])
    moved["position"] += 1
    path.write_text("\n".join([json.dumps(moved), *lines[2:]]) + "\n")
    found = problems()
    missing = f"no line for contrast {dropped['contrast']} item {dropped['item_id']}"
    assert any(missing in p for p in found)
    assert any(f"item {moved['item_id']}: position" in p for p in found)
