"""The numerics floor: which arms form it, and speculation's changes held to it."""

from __future__ import annotations

from typing import Any

import pytest

from tais.analysis.floor import ALL_TASKS, floor_cells, identity_verdict
from tais.config.config import ExperimentConfig, parse_config
from tais.config.floors import floor_comparisons, floors_of, is_floor, reference_of
from tais.config.profiles import load_experiment
from tais.errors import ConfigError
from tais.records import SampleRecord

from .conftest import ROOT

TARGET = "bundle/models/tiny-target"


def config(extra_arms: list[dict[str, Any]] | None = None) -> ExperimentConfig:
    arms = [
        {"name": "t", "pair": "p", "target": TARGET},
        {"name": "t-rev", "pair": "p", "target": TARGET, "batch_order": "reversed"},
        {"name": "t-seqs", "pair": "p", "target": TARGET, "max_num_seqs": 4},
        {
            "name": "s",
            "pair": "p",
            "target": TARGET,
            "speculative": {"method": "ngram", "num_speculative_tokens": 3},
        },
        *(extra_arms or []),
    ]
    return parse_config(
        {
            "experiment": "x",
            "battery": [{"benchmark": "b", "path": "unused.jsonl"}],
            "arms": arms,
            "contrasts": [{"a": "t", "b": "s"}],
        }
    )


def record(arm: str, i: int, tokens: str, task: str = "task") -> SampleRecord:
    return SampleRecord(
        item_id=f"i{i:03d}",
        benchmark="b",
        task=task,
        kind="harmful",
        pair="p",
        arm=arm,
        output_sha256=f"text-{tokens}",
        token_ids_sha256=f"ids-{tokens}",
        n_tokens=3,
        n_bytes=9,
        finish_reason="stop",
        labels={"keyword": {"refused": True}},
    )


def records(n: int, changed: dict[str, set[int]]) -> list[SampleRecord]:
    """n items for every arm; an arm's output differs from arm t's on the items listed."""
    found = []
    for arm in ("t", "t-rev", "t-seqs", "s"):
        for i in range(n):
            found.append(record(arm, i, f"{arm}-{i}" if i in changed.get(arm, set()) else str(i)))
    return found


def test_floor_arms_are_found_by_their_settings() -> None:
    cfg = config()
    assert [a.name for a in cfg.arms if is_floor(a)] == ["t-rev", "t-seqs"]
    reference = reference_of(cfg, cfg.arm("s"))
    assert reference is not None and reference.name == "t"
    assert [a.name for a in floors_of(cfg, reference)] == ["t-rev", "t-seqs"]
    (comparison,) = floor_comparisons(cfg)
    assert (comparison.reference, comparison.floors) == ("t", ("t-rev", "t-seqs"))


def test_a_floor_arm_of_another_dtype_is_not_this_references_floor() -> None:
    cfg = config(
        [
            {
                "name": "t-bf16-rev",
                "pair": "p",
                "target": TARGET,
                "dtype": "bfloat16",
                "batch_order": "reversed",
            }
        ]
    )
    reference = reference_of(cfg, cfg.arm("s"))
    assert reference is not None
    assert "t-bf16-rev" not in [a.name for a in floors_of(cfg, reference)]


def test_a_config_without_floor_arms_has_no_floor_section() -> None:
    plain = parse_config(
        {
            "experiment": "x",
            "battery": [{"benchmark": "b", "path": "unused.jsonl"}],
            "arms": [
                {"name": "t", "pair": "p", "target": TARGET},
                {
                    "name": "s",
                    "pair": "p",
                    "target": TARGET,
                    "speculative": {"method": "ngram", "num_speculative_tokens": 3},
                },
            ],
            "contrasts": [{"a": "t", "b": "s"}],
        }
    )
    assert floor_comparisons(plain) == []


def test_counts_overlap_and_excess() -> None:
    changed = {"s": {0, 1, 2, 3}, "t-rev": {2, 3, 4}, "t-seqs": {3, 5}}
    cells = floor_cells(config(), records(20, changed), alpha=0.05)
    row = next(c for c in cells if c.task == ALL_TASKS)
    assert (row.n, row.changed, row.floor_changed) == (20, 4, 4)
    assert [(f.arm, f.changed) for f in row.floor_arms] == [("t-rev", 3), ("t-seqs", 2)]
    assert (row.overlap, row.excess, row.floor_only) == (2, 2, 2)
    # statsmodels.stats.proportion.proportion_confint(2, 20, method="wilson")
    assert row.excess_ci_low == pytest.approx(0.027866481213768196, abs=1e-9)
    assert row.excess_ci_high == pytest.approx(0.3010336452284873, abs=1e-9)
    # statsmodels.stats.contingency_tables.mcnemar([[2, 2], [2, 14]], exact=True).pvalue
    assert row.mcnemar_p == pytest.approx(1.0)
    assert row.difference == pytest.approx(0.0)
    assert row.verdict == "PASS"
    assert "speculation changed 4 of 20 items" in row.sentence
    assert "not distinguishable from the floor" in row.sentence


def test_an_arm_that_rewrites_every_output_fails_though_no_rate_moves() -> None:
    # Every output changed, no floor arm changed any; the labels (all refused) stay put.
    cells = floor_cells(config(), records(30, {"s": set(range(30))}), alpha=0.05)
    row = next(c for c in cells if c.task == ALL_TASKS)
    assert (row.changed, row.excess, row.floor_only) == (30, 30, 0)
    # statsmodels.stats.contingency_tables.mcnemar([[0, 0], [30, 0]], exact=True).pvalue
    assert row.mcnemar_p == pytest.approx(1.862645149230957e-09, rel=1e-9)
    assert row.verdict == "FAIL"
    verdict = identity_verdict(cells)
    assert verdict is not None and verdict.verdict == "FAIL" and verdict.worst == "t~s"


def test_holm_runs_over_the_contrasts_all_task_rows() -> None:
    cfg = config(
        [
            {
                "name": "s2",
                "pair": "p",
                "target": TARGET,
                "speculative": {"method": "ngram", "num_speculative_tokens": 5},
            }
        ]
    )
    cfg = cfg.model_copy(
        update={"contrasts": [*cfg.contrasts, cfg.contrasts[0].model_copy(update={"b": "s2"})]}
    )
    recs = records(30, {"s": set(range(8))})
    recs += [record("s2", i, f"s2-{i}" if i < 7 else str(i)) for i in range(30)]
    rows = [c for c in floor_cells(cfg, recs, alpha=0.05) if c.task == ALL_TASKS]
    # mcnemar exact: 8 vs 0 -> 2 * 0.5**8; 7 vs 0 -> 2 * 0.5**7; Holm: min(1, 2p) then 1p,
    # as statsmodels.stats.multitest.multipletests([0.0078125, 0.015625], method="holm")
    assert [r.mcnemar_p for r in rows] == pytest.approx([0.0078125, 0.015625])
    assert [r.holm_p for r in rows] == pytest.approx([0.015625, 0.015625])
    assert [r.verdict for r in rows] == ["FAIL", "FAIL"]


def test_each_task_gets_a_row_and_all_tasks_one_more() -> None:
    recs = [
        record(arm, i, str(i), task="a" if i < 5 else "b")
        for arm in ("t", "t-rev", "t-seqs", "s")
        for i in range(10)
    ]
    cells = floor_cells(config(), recs, alpha=0.05)
    assert [(c.task, c.n) for c in cells] == [("a", 5), ("b", 5), (ALL_TASKS, 10)]
    assert [c.verdict for c in cells] == [None, None, "PASS"]


def test_every_designed_experiment_has_floor_arms_in_every_profile() -> None:
    for exp in ("e0", "e2", "e3", "e4", "e5"):
        for profile in ("gpu", "cpu"):
            loaded = load_experiment(ROOT / f"bundle/configs/experiments/{exp}.yaml", profile, None)
            comparisons = floor_comparisons(loaded.config)
            assert comparisons, (exp, profile)
            for comparison in comparisons:
                assert len(comparison.floors) == 2, (exp, profile, comparison)


def test_a_floor_spec_that_changes_nothing_fails_naming_it(tmp_path) -> None:
    from tais.config.design import Design

    with pytest.raises(ValueError, match="floor same: set `batch_order` or `max_num_seqs`"):
        Design.model_validate(
            {
                "experiment": "x",
                "battery": [{"benchmark": "b"}],
                "judges": ["keyword"],
                "models": {"m": {"model": TARGET}},
                "pairs": {"p": {"target": "m", "drafts": {"canonical": "m"}}},
                "pair_sets": {"all": ["p"]},
                "groups": [{"name": "g", "alone": "target", "pairs": "all"}],
                "floors": [{"name": "same"}],
            }
        )
    with pytest.raises(ConfigError, match="max_num_seqs"):
        parse_config(
            {
                "experiment": "x",
                "battery": [{"benchmark": "b", "path": "unused.jsonl"}],
                "arms": [
                    {
                        "name": "t",
                        "pair": "p",
                        "target": "org/model",
                        "max_num_seqs": 4,
                        "endpoint": {"base_url": "http://127.0.0.1:1/v1", "model": "m"},
                    }
                ],
            }
        )


def test_batch_invariant_arms_run_only_on_ampere_and_newer() -> None:
    from tais.generate.batch_invariance import unsupported_reason, without_batch_invariant

    assert unsupported_reason([8.0, 9.0]) is None
    assert unsupported_reason([8.6]) is None
    assert "no NVIDIA GPU" in (unsupported_reason([]) or "")
    assert "7.5 < 8.0" in (unsupported_reason([8.0, 7.5]) or "")
    cfg = config([{"name": "t-bi", "pair": "p", "target": TARGET, "batch_invariant": True}])
    cfg = cfg.model_copy(
        update={"contrasts": [*cfg.contrasts, cfg.contrasts[0].model_copy(update={"a": "t-bi"})]}
    )
    kept = without_batch_invariant(cfg)
    assert "t-bi" not in [a.name for a in kept.arms]
    assert [c.name for c in kept.contrasts] == ["t~s"]
