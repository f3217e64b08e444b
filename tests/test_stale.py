"""Nothing stale is reused: judgements follow what judges read, runs/ follows the model bytes."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tais.config.config import Arm, Engine, JudgeSpec, Speculative
from tais.config.places import RunPlaces
from tais.errors import DataError
from tais.generate.arms import arm_fingerprint, check_fingerprint
from tais.io import canonical_json, sha256_file, sha256_text
from tais.judge.judge import judge_outputs, judgement_key
from tais.judge.judges import code_sha256, get_judge, judge_sources
from tais.models.hashes import folder_hashes
from tais.records import Generation, Item, Message

from .conftest import MODELS, ROOT

MC = [JudgeSpec(name="multiple_choice")]


def mc_item(**changes: Any) -> Item:
    item = Item(
        item_id="mc/1",
        benchmark="mmlu",
        task="mmlu",
        kind="capability",
        messages=[Message(role="user", content="Which? A. one B. two C. three")],
        reference="B",
        meta={"choices": ["one", "two", "three"]},
    )
    return item.model_copy(update=changes)


def output(text: str) -> Generation:
    return Generation(
        item_id="mc/1",
        pair="p",
        arm="a",
        chunk=0,
        text=text,
        token_ids=[1],
        output_sha256=sha256_text(text),
        n_tokens=1,
        finish_reason="stop",
    )


def mc_labels(item: Item, places: RunPlaces) -> tuple[dict[str, Any], int]:
    judged = judge_outputs(MC, [item], [output("B")], places)
    return judged.labels[("a", "mc/1")]["multiple_choice"], judged.stats["multiple_choice"].calls


@pytest.mark.parametrize(
    "rebuilt",
    [
        {"reference": "C"},
        {"meta": {"choices": ["one", "two", "three"], "true_letters": ["C"]}},
    ],
    ids=["reference", "meta"],
)
def test_rebuilt_answer_key_is_judged_again(tmp_path: Path, rebuilt: dict[str, Any]) -> None:
    places = RunPlaces(tmp_path / "runs" / "exp")
    labels, calls = mc_labels(mc_item(), places)
    assert labels["correct"] is True and calls == 1
    # Same item id, same output text "B", same runs/: only the answer key changed.
    labels, calls = mc_labels(mc_item(**rebuilt), places)
    assert labels["correct"] is False and calls == 1
    # The cache still answers what it does know.
    labels, calls = mc_labels(mc_item(**rebuilt), places)
    assert labels["correct"] is False and calls == 0


def test_multiple_choice_code_includes_the_scoring_module() -> None:
    sources = judge_sources(get_judge("multiple_choice"))
    # TruthfulQA and BBQ labels are computed in tais.judge.scoring, imported by the judge.
    assert {"tais.judge.judges.multiple_choice", "tais.judge.scoring"} <= sources.keys()
    assert sources["tais.judge.scoring"] == (ROOT / "src/tais/judge/scoring.py").read_text(
        encoding="utf-8"
    )


def test_editing_a_judge_module_changes_its_code_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module this test writes itself, so no installed package provides it.
    name = "edited_judge"
    module = tmp_path / f"{name}.py"
    body = (
        "from tais.judge.judges.keyword import is_refusal\n\n"
        "class EditedJudge:\n"
        "    def judge(self, requests):\n"
        "        return [{{'refused': {}}} for r in requests]\n"
    )
    module.write_text(body.format("is_refusal(r.text)"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    loaded = importlib.import_module(name)
    before = code_sha256(loaded.EditedJudge())
    assert "tais.judge.judges.keyword" in judge_sources(loaded.EditedJudge())
    module.write_text(body.format("not is_refusal(r.text)"))
    reloaded = importlib.reload(loaded)
    assert code_sha256(reloaded.EditedJudge()) != before


def test_edited_ollama_prompt_is_another_judgement(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "bundle" / "prompts" / "judges", prompts)
    options = {"prompt_dir": str(prompts), "digest": "0" * 64}

    def key() -> str:
        judge = get_judge("ollama", options)
        config = sha256_text(canonical_json(judge.config()))
        item = mc_item(kind="harmful", reference=None, meta={})
        return judgement_key(config, code_sha256(judge), item, "I cannot help.")

    before = key()
    template = prompts / "refusal.txt"
    template.write_text(template.read_text(encoding="utf-8") + "\nAnswer carefully.\n")
    assert key() != before


# -- the arm fingerprint follows the models' bytes ---------------------------------------------


def draft_arm(draft: Path) -> Arm:
    return Arm(
        name="draft_k3",
        pair="tiny",
        target=str(MODELS / "tiny-target"),
        speculative=Speculative(method="draft_model", num_speculative_tokens=3, model=str(draft)),
    )


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("changed", ["model.safetensors", "tokenizer.json", "config.json"])
def test_changed_model_file_changes_the_fingerprint(tmp_path: Path, changed: str) -> None:
    draft = tmp_path / "tiny-draft"
    shutil.copytree(MODELS / "tiny-draft", draft)
    cache = tmp_path / "model-hashes.json"
    before = arm_fingerprint(draft_arm(draft), Engine(), [mc_item()], cache)
    assert arm_fingerprint(draft_arm(draft), Engine(), [mc_item()], cache) == before
    flip_byte(draft / changed, offset=len((draft / changed).read_bytes()) // 2)
    after = arm_fingerprint(draft_arm(draft), Engine(), [mc_item()], cache)
    assert after != before
    # A runs/ folder generated with the old draft is refused, not reused.
    places = RunPlaces(tmp_path / "runs" / "exp")
    check_fingerprint(places, "draft_k3", before)
    with pytest.raises(DataError, match="different config, battery or model files"):
        check_fingerprint(places, "draft_k3", after)


def test_hub_id_is_identified_by_name(tmp_path: Path) -> None:
    # Not a local folder: nothing to hash; the id (in the arm's config) stands for the model.
    arm = Arm(name="hub", pair="p", target="org/model-a")
    other = Arm(name="hub", pair="p", target="org/model-b")
    cache = tmp_path / "model-hashes.json"
    assert arm_fingerprint(arm, Engine(), [], cache) != arm_fingerprint(other, Engine(), [], cache)
    assert not cache.exists()


def test_hash_cache_is_used_and_refreshed(tmp_path: Path) -> None:
    draft = tmp_path / "tiny-draft"
    shutil.copytree(MODELS / "tiny-draft", draft)
    (draft / ".git").mkdir()
    (draft / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    cache = tmp_path / "cache" / "model-hashes.json"
    weights = draft / "model.safetensors"

    # Files younger than the settle time are hashed but not cached: their timestamps may not
    # move on a second write within the same clock tick.
    fresh = folder_hashes(draft, cache)
    assert ".git/HEAD" not in fresh
    assert sorted(fresh) == sorted(p.name for p in (MODELS / "tiny-draft").iterdir())
    assert not cache.exists()

    later = time.time_ns() + 60 * 10**9
    assert folder_hashes(draft, cache, now_ns=later) == fresh
    stored = json.loads(cache.read_text())["files"]
    assert stored[str(weights.resolve())]["sha256"] == fresh["model.safetensors"]

    # The cache is read, not bypassed: a planted hash comes back while size and times match.
    stored[str(weights.resolve())]["sha256"] = "planted"
    cache.write_text(json.dumps({"files": stored}))
    assert folder_hashes(draft, cache, now_ns=later)["model.safetensors"] == "planted"

    # A rewrite that keeps size and mtime (as `cp -p` does) still moves ctime: re-read.
    time.sleep(0.05)  # past the filesystem clock's tick, so ctime can differ
    stat = weights.stat()
    flip_byte(weights)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (weights.stat().st_size, weights.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    rehashed = folder_hashes(draft, cache, now_ns=later + 60 * 10**9)["model.safetensors"]
    assert rehashed == sha256_file(weights) != fresh["model.safetensors"]


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "model-hashes.json"
    cache.write_text("{not json")
    later = time.time_ns() + 60 * 10**9
    hashes = folder_hashes(MODELS / "tiny-draft", cache, now_ns=later)
    assert json.loads(cache.read_text())["files"]
    assert hashes == folder_hashes(MODELS / "tiny-draft", tmp_path / "other.json")
