"""The paper's battery (benchmark `paper`): its draw, ids, sweep subset and prompt formats."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from transformers import AutoTokenizer

from tais.battery.battery import build_battery
from tais.battery.benchmarks import paper
from tais.battery.benchmarks.jailbreak import load_templates
from tais.battery.benchmarks.registry import DATA_DIR_ENV
from tais.cli import main
from tais.config.config import ExperimentConfig, parse_config
from tais.errors import ConfigError
from tais.generate.fit import context_need, fit_battery, raw_text
from tais.records import Item, Message

from .conftest import MODELS, ROOT

DATA = Path(os.environ.get(DATA_DIR_ENV) or ROOT.parent / "shared" / "data")
PAPER_CONFIG = ROOT / "bundle" / "configs" / "paper.yaml"

FULL = {
    "advbench": 100,
    "jailbreak_amplification": 120,
    "bbq": 198,
    "truthfulqa": 50,
    "mmlu": 285,
    "arc_challenge": 200,
}
SWEEP = {"advbench": 100, "jailbreak_amplification": 120, "bbq": 150, "truthfulqa": 50}
# The first id of each task (ids sort the battery): a changed mirror or draw shows up here.
FIRST_IDS = {
    "advbench": "paper/advbench/harmful_behaviors/0121f174f32d",
    "arc_challenge": "paper/arc_challenge/challenge_test/ACTAAP_2008_7_4",
    "bbq": "paper/bbq/Age/1031",
    "jailbreak_amplification": "paper/jailbreak_amplification/harmful/atm_hacking/dan_persona",
    "mmlu": "paper/mmlu/test/abstract_algebra/3eb5f8166e4e",
    "truthfulqa": "paper/truthfulqa/generation/1b32ee3b2913",
}
SWEEP_FIRST_IDS = {**{t: FIRST_IDS[t] for t in SWEEP}, "bbq": "paper/bbq/Age/1048"}


@pytest.fixture(autouse=True)
def _mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DATA.is_dir(), f"the benchmark mirror is expected at {DATA} (or {DATA_DIR_ENV})"
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA))
    monkeypatch.delenv("TAIS_HUB_DIR", raising=False)


def paper_data(**source: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PAPER_CONFIG.read_text())
    data["battery"] = [{"benchmark": "paper", **source}]
    return data


def config(**source: Any) -> ExperimentConfig:
    return parse_config(paper_data(**source))


_BUILT: dict[str, list[Item]] = {}


def battery(subset: str | None = None) -> list[Item]:
    key = subset or "full"
    if key not in _BUILT:
        _BUILT[key] = build_battery(config(**({"subset": subset} if subset else {})))
    return _BUILT[key]


def first_ids(items: list[Item]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:  # sorted by id
        found.setdefault(item.task, item.item_id)
    return found


def test_full_battery_counts_kinds_and_first_ids() -> None:
    items = battery()
    assert Counter(i.task for i in items) == FULL
    assert len(items) == 953
    kinds = Counter(i.kind for i in items)
    # The paper's 468 "safety" prompts are the refusal (harmful) and scored tasks.
    assert kinds["harmful"] + kinds["scored"] == 468
    assert kinds["capability"] == 485
    assert {i.task: i.kind for i in items} == paper.TASKS
    assert first_ids(items) == FIRST_IDS


def test_sweep_subset_is_420_items_of_the_full_battery_unchanged() -> None:
    sweep = battery("sweep")
    assert Counter(i.task for i in sweep) == SWEEP
    assert len(sweep) == 420
    assert first_ids(sweep) == SWEEP_FIRST_IDS
    full = {i.item_id: i for i in battery()}
    assert all(full[i.item_id] == i for i in sweep)
    # The sweep's BBQ items are the first 150 kept in the seeded order.
    bbq_ranked = sorted(
        (i for i in full.values() if i.task == "bbq"), key=lambda i: paper.rank(i.meta["source_id"])
    )
    assert {i.item_id for i in bbq_ranked[:150]} == {i.item_id for i in sweep if i.task == "bbq"}


def test_draw_ignores_the_engine_seed() -> None:
    data = paper_data(subset="sweep")
    data["engine"]["seed"] = 7
    again = build_battery(parse_config(data))
    assert [i.item_id for i in again] == [i.item_id for i in battery("sweep")]


def test_ids_name_their_source_rows() -> None:
    for item in battery():
        source = item.meta["source_id"]
        assert item.item_id.startswith(f"paper/{item.task}/{source.partition('/')[2]}")
        assert item.benchmark == "paper"


def test_bbq_draw_has_no_repeat_in_the_mirror_and_keeps_198_scored_items() -> None:
    bbq = [i for i in battery() if i.task == "bbq"]
    assert len({paper.prompt_text(i) for i in bbq}) == len(bbq) == 198
    for item in bbq:
        assert item.meta["scorer"] == "bbq_unbiased"
        assert item.meta["target_idx"] is not None and item.meta["unknown_idx"] is not None


def bbq_like(n: int, text: str | None = None) -> Item:
    return Item(
        item_id=f"bbq/Age/{n}",
        benchmark="bbq",
        task="bbq_ambig",
        kind="capability",
        messages=[Message(role="user", content=text or f"question {n}")],
    )


def test_bbq_draw_drops_repeated_prompts_then_caps_at_198() -> None:
    items = [bbq_like(n) for n in range(300)]
    ranked = paper.ranked(items)
    # Two drawn items repeat the prompt of the one ranked first: both are dropped.
    first = ranked[0].messages[0].content
    twins = {ranked[5].item_id, ranked[9].item_id}
    items = [
        bbq_like(int(i.item_id.rsplit("/", 1)[1]), first) if i.item_id in twins else i
        for i in items
    ]
    kept = paper.bbq_draw(items)
    assert len(kept) == 198
    assert not twins & {i.item_id for i in kept}
    assert [i.item_id for i in kept] == [
        i.item_id for i in paper.ranked(items)[:200] if i.item_id not in twins
    ]
    # Without repeats the first 198 of the 200 drawn are kept.
    plain = [bbq_like(n) for n in range(300)]
    assert [i.item_id for i in paper.bbq_draw(plain)] == [
        i.item_id for i in paper.ranked(plain)[:198]
    ]


def test_jailbreak_is_30_behaviours_3_per_category_in_4_framings() -> None:
    items = [i for i in battery() if i.task == "jailbreak_amplification"]
    by_behaviour: dict[str, list[Item]] = {}
    for item in items:
        by_behaviour.setdefault(item.meta["source_id"], []).append(item)
    assert len(by_behaviour) == 30
    assert set(Counter(i[0].meta["category"] for i in by_behaviour.values()).values()) == {3}
    templates = load_templates(paper.TEMPLATES)
    for framings in by_behaviour.values():
        assert {i.meta["framing"] for i in framings} == set(paper.FRAMINGS)
        direct = next(i for i in framings if i.meta["framing"] == "direct")
        goal = direct.messages[0].content
        for item in framings:
            assert item.kind == "harmful" and paper.SWEEP in item.meta["subsets"]
            if item.meta["framing"] != "direct":
                assert item.messages[0].content == templates[item.meta["framing"]].wrap(goal)
    prefixed = next(i for i in items if i.meta["framing"] == "prefix_absolutely")
    assert '"Absolutely! Here\'s"' in prefixed.messages[0].content


def test_mmlu_is_5_per_subject_over_57_subjects() -> None:
    mmlu = Counter(i.meta["category"] for i in battery() if i.task == "mmlu")
    assert len(mmlu) == 57 and set(mmlu.values()) == {5}


def test_truthfulqa_items_carry_the_reference_answers() -> None:
    for item in (i for i in battery() if i.task == "truthfulqa"):
        assert item.meta["scorer"] == "truthfulqa_overlap"
        assert item.meta["correct_answers"] and item.meta["incorrect_answers"]


def test_unknown_subset_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown subset 'swep'; its subsets are sweep"):
        build_battery(config(subset="swep"))
    data = paper_data()
    data["battery"] = [{"benchmark": "advbench", "subset": "sweep"}]
    with pytest.raises(ConfigError, match=r"'advbench': unknown subset 'sweep'; .* are none"):
        build_battery(parse_config(data))


def test_a_task_from_two_benchmarks_is_refused() -> None:
    data = paper_data(tasks=["advbench"])
    data["battery"].append({"benchmark": "advbench", "limit": 5})
    with pytest.raises(ConfigError, match="task 'advbench' comes from several benchmarks"):
        build_battery(parse_config(data))


def _rows(output: str) -> dict[str, int]:
    return {
        cells[1]: int(cells[3])
        for line in output.splitlines()
        if len(cells := [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]) >= 4
        and cells[3].isdigit()
    }


def test_tais_battery_prints_the_full_battery_and_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    data = paper_data()
    # The tiny models' 512 positions leave some MMLU prompts out: counted beside the 953.
    result = runner.invoke(main, ["battery", str(PAPER_CONFIG)])
    assert result.exit_code == 0, result.output
    assert re.search(r"battery: \d+ items \(of 953; \d+ too long", result.output)
    assert set(_rows(result.output)) == set(FULL)
    data["engine"]["too_long"] = "error"
    for subset, counts, total in ((None, FULL, 953), ("sweep", SWEEP, 420)):
        data["battery"] = [{"benchmark": "paper", **({"subset": subset} if subset else {})}]
        path = tmp_path / f"{subset}.yaml"
        path.write_text(yaml.safe_dump(data))
        result = runner.invoke(main, ["battery", str(path)])
        assert result.exit_code == 0, result.output
        assert f"battery: {total} items" in result.output
        assert _rows(result.output) == counts
    assert "by kind: harmful 220, scored 200" in result.output


# prompt_format: raw sends the prompt text itself; chat wraps it in the model's template.


def test_raw_prompt_is_the_text_with_the_tokenizers_own_special_tokens() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(MODELS / "tiny-target"))
    item = battery("sweep")[0]
    raw = context_need(tokenizer, item, "raw")
    assert raw == len(tokenizer.encode(item.messages[0].content))
    assert context_need(tokenizer, item, "chat") > raw  # the template adds role markers


def test_raw_needs_one_user_message_and_says_which_item_has_more() -> None:
    assert raw_text([Message(role="user", content="hi")]) == "hi"
    two = Item(
        item_id="t/two",
        benchmark="t",
        task="t",
        kind="harmful",
        messages=[Message(role="system", content="s"), Message(role="user", content="u")],
    )
    data = paper_data()
    data["engine"]["too_long"] = "error"
    with pytest.raises(ConfigError, match=r"t/two: prompt_format raw .* system, user"):
        fit_battery(parse_config(data), [two])
    data["engine"]["prompt_format"] = "chat"
    assert fit_battery(parse_config(data), [two]).items == [two]


def test_prompt_format_is_checked_and_defaults_to_chat() -> None:
    data = paper_data()
    del data["engine"]["prompt_format"]
    assert parse_config(data).engine.prompt_format == "chat"
    data["engine"]["prompt_format"] = "completion"
    with pytest.raises(ConfigError, match=r"engine\.prompt_format"):
        parse_config(data)


def test_new_keys_at_their_defaults_keep_published_config_hashes() -> None:
    data = paper_data()
    data["engine"]["prompt_format"] = "chat"
    with_default = parse_config(data).config_hash()
    del data["engine"]["prompt_format"]
    assert parse_config(data).config_hash() == with_default
    data["engine"]["prompt_format"] = "raw"
    assert parse_config(data).config_hash() != with_default
    data["battery"][0]["subset"] = "sweep"
    assert parse_config(data).config_hash() != parse_config(paper_data()).config_hash()
