"""`engine.too_long`: which items fit the targets' context, counted with their real tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from tais.cli import main
from tais.config.config import parse_config
from tais.errors import ConfigError, DataError
from tais.generate.fit import choice_request, context_need, fit_battery
from tais.io import write_jsonl
from tais.records import Item, Message

from .conftest import MODELS
from .engine_support import demo_data, write_config

TARGET = MODELS / "tiny-target"


def item(item_id: str, task: str, words: int, **meta: object) -> Item:
    return Item(
        item_id=item_id,
        benchmark="t",
        task=task,
        kind="capability",
        messages=[Message(role="user", content=" ".join(["word"] * words))],
        reference="A",
        meta=dict(meta),
    )


def config(too_long: str, targets: list[str] | None = None):
    data = demo_data()
    data["engine"]["too_long"] = too_long
    data["engine"]["max_model_len"] = 64
    if targets is not None:
        for arm, target in zip(data["arms"], targets, strict=False):
            arm["target"] = target
    return parse_config(data)


def test_skip_drops_items_no_target_context_holds() -> None:
    items = [item("t/short", "a", 5), item("t/long", "a", 200), item("t/b", "b", 300)]
    fitted = fit_battery(config("skip"), items)
    assert [i.item_id for i in fitted.items] == ["t/short"]
    assert fitted.dropped == {"a": 1, "b": 1}
    kept = fit_battery(config("error"), items)
    assert kept.items == items and kept.dropped == {}


def test_scored_options_count_towards_the_context() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(TARGET))
    plain = item("t/q", "mc", 5, choices=["yes", "no"])
    long_option = " ".join(["option"] * 100)
    scored = item("t/q", "mc", 5, choices=["yes", long_option], scored_question="Is it?")
    assert context_need(tokenizer, plain) < 64
    # The option is scored as the reply to the bare question: question + option tokens.
    assert context_need(tokenizer, scored) >= len(
        tokenizer.encode(long_option, add_special_tokens=False)
    )
    assert fit_battery(config("skip"), [plain, scored]).dropped == {"mc": 1}


def test_an_empty_option_to_score_is_a_data_error() -> None:
    with pytest.raises(DataError, match="t/q: options to score must be non-empty"):
        choice_request(item("t/q", "mc", 5, choices=["yes", " "], scored_question="Is it?"))


def test_missing_target_tokenizer_is_a_config_error(tmp_path: Path) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    with pytest.raises(ConfigError, match="cannot load its tokenizer"):
        fit_battery(config("skip", [str(empty)]), [item("t/1", "a", 3)])


def test_battery_command_shows_what_skip_leaves_out(tmp_path: Path) -> None:
    from click.testing import CliRunner

    battery = tmp_path / "battery.jsonl"
    items = [item(f"t/{i}", "mc", 5 if i < 3 else 300) for i in range(5)]
    write_jsonl(battery, [i.model_copy(update={"benchmark": "tais-demo"}) for i in items])
    data = demo_data()
    data["battery"] = [{"benchmark": "tais-demo", "path": str(battery)}]
    data["engine"]["too_long"] = "skip"
    data["engine"]["max_model_len"] = 64
    path = write_config(tmp_path / "c.yaml", data)
    result = CliRunner().invoke(main, ["battery", str(path)])
    assert result.exit_code == 0, result.output
    assert "battery: 3 items" in result.output
    assert "left out (too long)" in result.output
    row = next(line for line in result.output.splitlines() if "tais-demo" in line)
    assert [cell.strip() for cell in row.split("│")[4:6]] == ["3", "2"]
