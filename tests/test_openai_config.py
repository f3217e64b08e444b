"""How an arm says it is served over HTTP, and what of that enters its fingerprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tais.config.config import arm_backend, arm_http, parse_config
from tais.errors import ConfigError
from tais.generate.arms import arm_fingerprint
from tais.records import Item, Message

from .conftest import DEMO_CONFIG

ENDPOINT = {"base_url": "http://127.0.0.1:8000/v1", "model": "m"}


def config_with(arm: dict[str, Any], engine: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text())
    data["arms"] = [{"name": "a", "pair": "p", "target": "bundle/models/tiny-target", **arm}]
    data["contrasts"] = []
    data["engine"].update(engine or {})
    return data


def test_endpoint_or_serve_makes_the_arm_an_openai_arm() -> None:
    for arm in ({"endpoint": ENDPOINT}, {"serve": {}}, {"backend": "openai"}):
        config = parse_config(config_with(arm))
        assert arm_backend(config.arms[0], config.engine) == "openai"
    offline = parse_config(config_with({}))
    assert arm_backend(offline.arms[0], offline.engine) == "vllm"
    served = parse_config(config_with({}, {"backend": "openai"}))
    assert arm_backend(served.arms[0], served.engine) == "openai"
    back = parse_config(config_with({"backend": "vllm"}, {"backend": "openai"}))
    assert arm_backend(back.arms[0], back.engine) == "vllm"


@pytest.mark.parametrize(
    ("arm", "message"),
    [
        ({"endpoint": ENDPOINT, "serve": {}}, "not both"),
        ({"backend": "vllm", "serve": {}}, "need backend openai"),
        ({"http": {"concurrency": 4}}, r"arm a: `http` needs backend openai"),
        ({"endpoint": {**ENDPOINT, "base_url": "127.0.0.1:8000"}}, r"endpoint\.base_url"),
        ({"endpoint": {"base_url": "http://h/v1"}}, r"endpoint\.model"),
        (
            {"endpoint": {**ENDPOINT, "api_key": "sk-1"}},
            r"unknown key 'arms\.0\.endpoint\.api_key'",
        ),
        ({"serve": {"port": 1}}, r"unknown key 'arms\.0\.serve\.port'"),
        ({"serve": {}, "http": {"concurency": 2}}, r"unknown key 'arms\.0\.http\.concurency'"),
        ({"serve": {}, "http": {"concurrency": 0}}, r"arms\.0\.http\.concurrency"),
    ],
)
def test_bad_serving_settings_are_named(arm: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(config_with(arm))


def test_arm_http_overrides_the_engine_key_by_key() -> None:
    config = parse_config(
        config_with(
            {"serve": {}, "http": {"concurrency": 16}},
            {"http": {"timeout_s": 9, "concurrency": 2}},
        )
    )
    http = arm_http(config.arms[0], config.engine)
    assert (http.concurrency, http.timeout_s, http.retries) == (16, 9, 3)


def test_unchanged_new_keys_leave_old_dumps_alone() -> None:
    """Configs without the HTTP keys dump as before, so published hashes still re-derive."""
    dumped = parse_config(config_with({})).model_dump(mode="json")
    assert "http" not in dumped["engine"] and "prompt_format" not in dumped["engine"]
    assert set(dumped["arms"][0]) == {"name", "pair", "target", "speculative", "dtype", "seed"}


def fingerprint(arm: dict[str, Any], engine: dict[str, Any] | None = None) -> str:
    config = parse_config(config_with(arm, engine))
    item = Item(
        item_id="x/1",
        benchmark="x",
        task="t",
        kind="benign",
        messages=[Message(role="user", content="hi")],
    )
    return arm_fingerprint(config.arms[0], config.engine, [item], Path("/nonexistent/cache"))


def test_fingerprint_follows_what_changes_outputs_not_how_a_server_is_reached() -> None:
    base = fingerprint({"endpoint": ENDPOINT})
    reached_otherwise = [
        {"endpoint": {**ENDPOINT, "api_key_env": "KEY"}},
        {"endpoint": ENDPOINT, "http": {"timeout_s": 5, "retries": 9, "backoff_s": 0}},
    ]
    for arm in reached_otherwise:
        assert fingerprint(arm) == base, arm
    assert fingerprint({"endpoint": ENDPOINT}, {"http": {"retries": 0}}) == base
    served_otherwise = [
        {"endpoint": {**ENDPOINT, "model": "other"}},
        {"endpoint": {**ENDPOINT, "base_url": "http://127.0.0.1:8001/v1"}},
        {"endpoint": ENDPOINT, "http": {"concurrency": 16}},
    ]
    for arm in served_otherwise:
        assert fingerprint(arm) != base, arm
    assert fingerprint({"endpoint": ENDPOINT}, {"http": {"concurrency": 16}}) != base
    assert fingerprint({"serve": {"startup_timeout_s": 5}}) == fingerprint({"serve": {}})
    assert fingerprint({"serve": {"extra_args": ["--max-num-seqs", "8"]}}) != fingerprint(
        {"serve": {}}
    )
    assert fingerprint({"serve": {}}) != fingerprint({})
