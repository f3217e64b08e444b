"""Divergence gaps on the real engine: the target alone against the draft alone certainly
differ, so the target is asked for its top two next tokens where each pair of outputs parts;
gaps.jsonl is published, verify re-derives its summary, and --deep recomputes the gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tais.analysis.gaps import gap_summaries
from tais.config.config import load_config
from tais.config.places import PublishPlaces, RunPlaces
from tais.generate.gaps import first_diverging_token
from tais.generate.generate import load_generations
from tais.io import read_jsonl
from tais.pipeline import run_screen
from tais.records import DivergenceGap
from tais.verify.verify import verify

from .engine_support import QuietProgress, demo_data, write_config

pytestmark = pytest.mark.engine

TARGET = "bundle/models/tiny-target"
DRAFT = "bundle/models/tiny-draft"


def test_gaps_where_the_target_and_the_draft_part(tmp_path: Path) -> None:
    data = demo_data()
    data["experiment"] = "gaps-engine"
    data["battery"][0]["limit"] = 2
    data["engine"] = {**data["engine"], "max_tokens": 16}
    data["arms"] = [
        {"name": "t", "pair": "tiny", "target": TARGET},
        {"name": "t-rev", "pair": "tiny", "target": TARGET, "batch_order": "reversed"},
        # Another model: its outputs differ from the target's, so gaps are computed.
        {"name": "d", "pair": "tiny", "target": DRAFT},
        # Last: the ngram drafter's numba ends the worker process's reuse.
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
    ]
    data["contrasts"] = [{"a": "t", "b": "ngram"}, {"a": "t", "b": "d", "gated": False}]
    config_path = write_config(tmp_path / "gaps.yaml", data)
    runs = tmp_path / "runs"
    result = run_screen(
        config_path, QuietProgress(), runs_dir=runs, root=tmp_path, allow_dirty=True
    )

    places = RunPlaces.for_experiment(runs, "gaps-engine")
    ids = {
        arm: {g.item_id: g.token_ids for g in load_generations(places, arm)} for arm in ("t", "d")
    }
    changed = {i for i, tokens in ids["t"].items() if ids["d"][i] != tokens}
    assert changed, "the draft alone should not reproduce the target"

    run_dir = tmp_path / "validation" / "gaps-engine"
    published = PublishPlaces(run_dir)
    gaps = read_jsonl(published.gaps, DivergenceGap)
    of_d = {g.item_id: g for g in gaps if g.contrast == "t~d"}
    assert of_d.keys() == changed
    for item_id, g in of_d.items():
        a, b = ids["t"][item_id], ids["d"][item_id]
        assert a is not None and b is not None
        assert g.gap >= 0
        assert g.position == first_diverging_token(a, b) <= min(len(a), len(b))
        # The target's own output, from the same context, is its argmax (float32, CPU).
        assert g.reference_is_argmax is (True if g.position < len(a) else None)

    config = load_config(published.config)
    stored = json.loads(published.summary.read_text())["gaps"]
    assert stored == [s.model_dump(mode="json") for s in gap_summaries(config, gaps)]
    assert result.summary.gaps == gap_summaries(config, gaps)
    assert "t~d" in {s.contrast for s in result.summary.gaps}
    assert "## Where the changes start" in (run_dir / "report.md").read_text()
    # verify re-derives the summary from gaps.jsonl; --deep recomputes the gaps with the engine.
    assert verify(tmp_path, deep=True, runs_root=runs) == ["gaps-engine"]
