from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tais.config.config import load_config, parse_config
from tais.errors import ConfigError

from .conftest import DEMO_CONFIG


def demo_data() -> dict:
    return yaml.safe_load(DEMO_CONFIG.read_text())


def test_demo_config_loads() -> None:
    config = load_config(DEMO_CONFIG)
    assert config.arms[0].name == "target_only"
    assert config.analysis.margin == 0.03


def test_unknown_top_level_key_is_named() -> None:
    data = demo_data() | {"temprature": 0}
    with pytest.raises(ConfigError, match="unknown key 'temprature'"):
        parse_config(data)


def test_unknown_nested_key_is_named() -> None:
    data = demo_data()
    data["engine"]["max_token"] = 10
    with pytest.raises(ConfigError, match=r"unknown key 'engine\.max_token'"):
        parse_config(data)


def test_wrong_type_is_named() -> None:
    data = demo_data()
    data["engine"]["batch_size"] = "many"
    with pytest.raises(ConfigError, match=r"engine\.batch_size"):
        parse_config(data)


def test_contrast_naming_unknown_arm() -> None:
    data = demo_data()
    data["contrasts"].append({"a": "target_only", "b": "medusa"})
    with pytest.raises(ConfigError, match="unknown arm 'medusa'"):
        parse_config(data)


def test_draft_model_needs_a_model() -> None:
    data = demo_data()
    data["arms"][1]["speculative"].pop("model")
    with pytest.raises(ConfigError, match="needs `model`"):
        parse_config(data)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiment: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_config_hash_changes_with_content() -> None:
    data = demo_data()
    first = parse_config(data).config_hash()
    data["engine"]["seed"] = 1
    assert parse_config(data).config_hash() != first


@pytest.mark.parametrize("name", ["..", ".", "...", "a/b", "../up", "a\\b", ".hidden", "", "a b"])
def test_experiment_name_must_be_a_plain_name(name: str) -> None:
    data = demo_data() | {"experiment": name}
    with pytest.raises(ConfigError, match=r"experiment: .* is not a valid name"):
        parse_config(data)


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\\b", ".hidden", "draft.chunks", ""])
def test_arm_name_must_be_a_plain_name(name: str) -> None:
    data = demo_data()
    data["arms"][1]["name"] = name
    with pytest.raises(ConfigError, match=r"arms\.1\.name: .* is not a valid name"):
        parse_config(data)


def test_dotted_experiment_name_is_accepted() -> None:
    assert parse_config(demo_data() | {"experiment": "demo.v2"}).experiment == "demo.v2"
