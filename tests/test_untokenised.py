"""Outputs without token ids (a server that returns text only): identity by text bytes.

Token identity is then "not measured" (None), never counted as identical because two missing
lists are equal; divergences are found on the text and carry no first diverging token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tais.analysis.analyse import analyse
from tais.errors import DataError
from tais.publish.publish import build_divergences, token_ids_sha256
from tais.records import Generation, SampleRecord
from tais.report.report import render_report
from tais.verify.verify import check_divergences

from .engine_support import demo_config


def generation(arm: str, i: int, text: str, token_ids: list[int] | None) -> Generation:
    return Generation(
        item_id=f"h/{i:03d}",
        pair="tiny",
        arm=arm,
        chunk=0,
        text=text,
        token_ids=token_ids,
        output_sha256=text,
        n_tokens=3,
        finish_reason="length",
    )


def record(gen: Generation) -> SampleRecord:
    return SampleRecord(
        item_id=gen.item_id,
        benchmark="t",
        task="harmful_requests",
        kind="harmful",
        pair=gen.pair,
        arm=gen.arm,
        output_sha256=gen.output_sha256,
        token_ids_sha256=token_ids_sha256(gen.token_ids),
        n_tokens=gen.n_tokens,
        n_bytes=len(gen.text),
        finish_reason=gen.finish_reason,
        labels={"keyword": {"refused": True}},
    )


def test_text_decides_identity_when_an_arm_has_no_token_ids() -> None:
    config = demo_config()  # contrast target_only vs draft_k3
    gens = [generation("target_only", i, f"answer {i}", None) for i in range(10)]
    # The other arm has token ids; nine texts agree, one does not.
    gens += [
        generation("draft_k3", i, f"answer {i}" if i else "other words", [1, 2, 3])
        for i in range(10)
    ]
    divergences = build_divergences(config, gens)
    assert [(d.item_id, d.first_diverging_token) for d in divergences] == [("h/000", None)]
    assert divergences[0].bytes_changed_share > 0

    summary = analyse(config, [record(g) for g in gens], divergences, [])
    (cell,) = summary.contrasts
    assert cell.identity.token_identical is None and cell.identity.token_identical_share is None
    assert cell.identity.bytes_identical == 9
    assert cell.identity.first_diverging_token_min is None
    assert any("text bytes identical for 9/10 items" in r for r in cell.reasons)
    report = render_report(summary)
    assert "| -/10 | 9/10 |" in report
    assert "1 of 10 differ (text bytes; no token ids)" in report


def test_missing_token_ids_on_both_sides_are_not_identical_tokens() -> None:
    config = demo_config()
    arms = ("target_only", "draft_k3")
    gens = [generation(arm, i, f"same {i}", None) for arm in arms for i in range(5)]
    assert build_divergences(config, gens) == []
    summary = analyse(config, [record(g) for g in gens], [], [])
    (cell,) = summary.contrasts
    assert cell.identity.token_identical is None and cell.identity.bytes_identical == 5
    assert "byte for byte where no token ids came back" in render_report(summary)


def test_differing_text_without_a_divergence_is_named() -> None:
    config = demo_config()
    gens = [generation("target_only", i, f"answer {i}", None) for i in range(3)]
    gens += [generation("draft_k3", i, f"answer {i}" if i else "other", None) for i in range(3)]
    records = [record(g) for g in gens]
    with pytest.raises(DataError, match=r"h/000.*no divergence names it"):
        analyse(config, records, [], [])
    path = Path("divergences.jsonl")
    # verify agrees: the text-found divergence is the one line needed, and nothing else.
    assert check_divergences(config, records, build_divergences(config, gens), path) == []
    assert check_divergences(config, records, [], path) == [
        f"{path}: no line for contrast target_only~draft_k3 item h/000, "
        "whose two records' token ids differ"
    ]
