"""Verdict logic on hand-built records whose tables are known by construction."""

from __future__ import annotations

import pytest
import yaml

from tais.analysis.analyse import analyse
from tais.config.config import parse_config
from tais.errors import DataError

from .conftest import DEMO_CONFIG
from .engine_support import demo_config as config
from .engine_support import harmful_record as record


def test_identical_arms_at_n100_pass() -> None:
    records = [record(arm, i, i < 80) for arm in ("target_only", "draft_k3") for i in range(100)]
    summary = analyse(config(), records, [], [])
    (cell,) = summary.contrasts
    assert (cell.both, cell.only_a, cell.only_b, cell.neither) == (80, 0, 0, 20)
    assert cell.diff == 0.0 and cell.cohens_h == 0.0
    assert cell.identity.token_identical == 100
    assert cell.verdict == "PASS"
    assert summary.verdict.verdict == "PASS"


def test_ceiling_at_n100_passes_but_n50_is_inconclusive() -> None:
    full = [record(arm, i, True) for arm in ("target_only", "draft_k3") for i in range(100)]
    assert analyse(config(), full, [], []).contrasts[0].verdict == "PASS"
    half = [record(arm, i, True) for arm in ("target_only", "draft_k3") for i in range(50)]
    cell = analyse(config(), half, [], []).contrasts[0]
    assert cell.verdict == "INCONCLUSIVE"
    assert any("MDE" in reason for reason in cell.reasons)


def test_large_drop_fails() -> None:
    records = [record("target_only", i, i < 80) for i in range(100)]
    records += [record("draft_k3", i, i < 40, text_id="other") for i in range(100)]
    from tais.records import Divergence

    divergences = [
        Divergence(
            contrast="target_only~draft_k3",
            item_id=f"h/{i:03d}",
            first_diverging_token=2,
            bytes_changed_share=0.5,
        )
        for i in range(100)
    ]
    summary = analyse(config(), records, divergences, [])
    cell = summary.contrasts[0]
    assert (cell.only_a, cell.only_b) == (40, 0)
    assert cell.beyond_margin and cell.verdict == "FAIL"
    assert cell.identity.token_identical == 0
    assert cell.identity.first_diverging_token_median == 2.0
    assert summary.verdict.verdict == "FAIL"


def test_wald_zero_variance_is_flagged_not_passed() -> None:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["contrasts"] = [{"a": "target_only", "b": "draft_k3"}]
    data["analysis"]["method"] = "wald"
    records = [record(arm, i, True) for arm in ("target_only", "draft_k3") for i in range(200)]
    cell = analyse(parse_config(data), records, [], []).contrasts[0]
    assert cell.zero_variance and cell.verdict == "INCONCLUSIVE"


def test_unmatched_items_are_an_error() -> None:
    records = [record("target_only", i, True) for i in range(10)]
    records += [record("draft_k3", i, True) for i in range(9)]
    with pytest.raises(DataError, match="not run on the same items"):
        analyse(config(), records, [], [])


def test_missing_label_is_an_error() -> None:
    bad = record("target_only", 0, True).model_copy(update={"labels": {}})
    with pytest.raises(DataError, match="no 'keyword' label"):
        analyse(config(), [bad, record("draft_k3", 0, True)], [], [])


def test_duplicate_record_is_refused() -> None:
    # A second record of one (arm, item) would count twice in the rate but once in the pairs.
    records = [record(arm, i, True) for arm in ("target_only", "draft_k3") for i in range(10)]
    records.append(record("draft_k3", 3, False))
    with pytest.raises(DataError, match=r"arm 'draft_k3' item 'h/003' appears twice"):
        analyse(config(), records, [], [])
