"""Floor arms on the real engine: batch order and batch width change without speculation, and
the analysis counts exactly the items whose token ids moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from tais.analysis.floor import ALL_TASKS
from tais.config.places import RunPlaces
from tais.generate.generate import load_generations
from tais.pipeline import run_screen

from .engine_support import QuietProgress, demo_data, write_config

pytestmark = pytest.mark.engine

TARGET = "bundle/models/tiny-target"


def test_floor_arms_run_and_their_changes_are_counted(tmp_path: Path) -> None:
    data = demo_data()
    data["experiment"] = "floor-engine"
    data["battery"][0]["limit"] = 8
    # bfloat16: where a reordered or narrower batch can round a near-tie the other way.
    data["engine"] = {**data["engine"], "dtype": "bfloat16", "max_tokens": 24}
    data["arms"] = [
        {"name": "t", "pair": "tiny", "target": TARGET},
        {"name": "t-rev", "pair": "tiny", "target": TARGET, "batch_order": "reversed"},
        {"name": "t-seqs", "pair": "tiny", "target": TARGET, "max_num_seqs": 3},
        {
            "name": "ngram",
            "pair": "tiny",
            "target": TARGET,
            "speculative": {
                "method": "ngram",
                "num_speculative_tokens": 3,
                "prompt_lookup_max": 4,
                "prompt_lookup_min": 2,
            },
        },
        # No CPU path in vLLM 0.32 (tais.generate.batch_invariance): skipped, with the reason.
        {"name": "t-bi", "pair": "tiny", "target": TARGET, "batch_invariant": True},
    ]
    data["contrasts"] = [{"a": "t", "b": "ngram"}, {"a": "t-bi", "b": "ngram"}]
    config = write_config(tmp_path / "floor.yaml", data)
    runs = tmp_path / "runs"
    result = run_screen(config, QuietProgress(), runs_dir=runs, root=tmp_path, allow_dirty=True)

    places = RunPlaces.for_experiment(runs, "floor-engine")
    ids = {
        arm: {g.item_id: g.token_ids for g in load_generations(places, arm)}
        for arm in ("t", "t-rev", "t-seqs", "ngram")
    }
    # The reversed arm's outputs are stored in battery order, one per item, like any arm's.
    assert ids["t-rev"].keys() == ids["t"].keys() and len(ids["t"]) == 24

    def changed(arm: str) -> set[str]:
        return {i for i, tokens in ids["t"].items() if ids[arm][i] != tokens}

    (row,) = [c for c in result.summary.floor if c.task == ALL_TASKS]
    floor = changed("t-rev") | changed("t-seqs")
    assert row.n == 24
    assert row.changed == len(changed("ngram"))
    assert [(f.arm, f.changed) for f in row.floor_arms] == [
        ("t-rev", len(changed("t-rev"))),
        ("t-seqs", len(changed("t-seqs"))),
    ]
    assert row.floor_changed == len(floor)
    assert row.excess == len(changed("ngram") - floor)
    assert result.summary.identity_verdict is not None
    (skipped,) = result.skipped
    assert "batch-invariant arms skipped (t-bi)" in skipped and "8.0" in skipped
    assert "t-bi" not in {a.arm for a in result.summary.arms}
    published = (tmp_path / "validation" / "floor-engine" / "config.yaml").read_text()
    assert "t-bi" not in published and "batch_invariant" not in published
    report = (tmp_path / "validation" / "floor-engine" / "report.md").read_text()
    assert "## Speculation against the numerics floor" in report
    assert (tmp_path / "validation" / "floor-engine" / "figures" / "floor.svg").is_file()
