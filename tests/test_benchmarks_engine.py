"""The screen end to end on real benchmark items, a few per task, with the tiny models."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tais.battery.battery import build_battery
from tais.battery.benchmarks.registry import DATA_DIR_ENV
from tais.config.config import parse_config
from tais.config.places import RunPlaces
from tais.generate.fit import choice_request
from tais.generate.generate import load_generations
from tais.io import read_jsonl
from tais.pipeline import run_screen
from tais.records import Generation, Item

from .conftest import MODELS, ROOT
from .engine_support import QuietProgress, write_config

pytestmark = pytest.mark.engine

DATA = ROOT.parent / "shared" / "data"
TARGET = MODELS / "tiny-target"


def reference_choice_logprobs(item: Item) -> list[float]:
    """The options' summed log-probabilities from a plain transformers forward pass."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(TARGET))
    model = AutoModelForCausalLM.from_pretrained(str(TARGET), dtype=torch.float32)
    request = choice_request(item)
    assert request is not None
    prompt = list(
        tokenizer.apply_chat_template(
            [m.model_dump() for m in request.conversation], add_generation_prompt=True
        )["input_ids"]
    )
    sums = []
    for choice in request.choices:
        option = tokenizer.encode(choice, add_special_tokens=False)
        ids = torch.tensor([prompt + option])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
        # The logits at position p predict the token at p + 1.
        sums.append(
            float(sum(logprobs[len(prompt) + j - 1, token] for j, token in enumerate(option)))
        )
    return sums


def test_tiny_screen_runs_on_every_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA))
    data = yaml.safe_load((ROOT / "bundle" / "configs" / "benchmarks.yaml").read_text())
    for entry in data["battery"]:
        entry["limit"] = 3
        if "jailbreak" in entry:
            entry["jailbreak"] = entry["jailbreak"][:1]
    data["experiment"] = "benchmarks-tiny"
    # The tiny models have 512 positions; some real prompts (HarmBench contexts, long MMLU
    # passages) are longer, and `skip` leaves them out for every arm.
    data["engine"]["too_long"] = "skip"
    data["arms"] = [arm for arm in data["arms"] if arm["name"] in ("target_only", "ngram_k3")]
    data["contrasts"] = [{"a": "target_only", "b": "ngram_k3"}]
    config = write_config(tmp_path / "benchmarks-tiny.yaml", data)
    result = run_screen(config, QuietProgress(), runs_dir=tmp_path / "runs", root=tmp_path)

    raw = RunPlaces.for_experiment(tmp_path / "runs", "benchmarks-tiny")
    items = read_jsonl(raw.battery, Item)
    assert {i.benchmark for i in items} == {s["benchmark"] for s in data["battery"]}
    built = build_battery(parse_config(data))
    assert len(built) - len(items) == sum(result.too_long.values())
    tasks = {i.task for i in items}
    assert {r.task for r in result.summary.rates} == tasks
    cells = {c.task: c for c in result.summary.contrasts}
    assert set(cells) == tasks
    for cell in cells.values():
        # Same dtype, temperature 0: n-gram speculation must not change a token.
        assert cell.identity.token_identical == cell.identity.n, cell.task

    # TruthfulQA MC is scored from the target's option log-probabilities, which match a
    # plain transformers forward pass and do not move under speculation.
    scores = {(s.arm, s.task): s for s in result.summary.scores}
    for task, metric in (("truthfulqa_mc1", "mc1"), ("truthfulqa_mc2", "mc2")):
        assert scores[("target_only", task)].method == "logprob"
        assert scores[("target_only", task)].metric == metric
    assert {d.task for d in result.summary.score_diffs} >= {"truthfulqa_mc1", "truthfulqa_mc2"}
    for diff in result.summary.score_diffs:
        if diff.task.startswith("truthfulqa"):
            assert diff.items_identical == diff.n and diff.diff == 0.0, diff
    by_id = {i.item_id: i for i in items}
    scored: list[Generation] = [
        g for g in load_generations(raw, "target_only") if g.choice_logprobs is not None
    ]
    assert {by_id[g.item_id].task for g in scored} == {"truthfulqa_mc1", "truthfulqa_mc2"}
    for gen in scored[:2]:
        expected = reference_choice_logprobs(by_id[gen.item_id])
        assert gen.choice_logprobs == pytest.approx(expected, abs=2e-3), gen.item_id
