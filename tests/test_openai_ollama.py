"""A model served by Ollama, screened through its OpenAI-compatible /v1: end to end.

Ollama has no speculative decoding and returns text without token ids, so the screen is a
target-only replay: the same real model (Gemma 3 270M) asked twice. Identity is then measured
on text bytes (token identity "not measured") and acceptance is "not reported".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tais.config.places import PublishPlaces
from tais.generate.backends.openai_http import SERVERS_HARDWARE
from tais.io import read_jsonl
from tais.pipeline import run_screen
from tais.records import ArmPerformance, Divergence, SampleRecord
from tais.verify.verify import verify
from tests.ollama_server import (  # noqa: F401  (fixture)
    OllamaServer,
    gemma_server_fixture,
    get_json,
)

from .engine_support import QuietProgress, write_config
from .http_support import experiment, generations, outputs, small_battery


def gemma_arm(name: str, server: OllamaServer) -> dict[str, Any]:
    return {
        "name": name,
        "pair": "gemma3-270m",
        "target": server.model,
        "endpoint": {"base_url": f"{server.host}/v1", "model": server.model},
    }


def test_ollama_target_only_replay_end_to_end(tmp_path: Path, gemma_server: OllamaServer) -> None:
    battery = small_battery(tmp_path / "battery.jsonl", 6, step=50)
    arms = [gemma_arm("gemma", gemma_server), gemma_arm("gemma_replay", gemma_server)]
    data = experiment("ollama", battery, arms, contrasts=[{"a": "gemma", "b": "gemma_replay"}])
    config = write_config(tmp_path / "ollama.yaml", data)
    runs, root = tmp_path / "runs", tmp_path / "root"
    result = run_screen(config, QuietProgress(), runs_dir=runs, root=root)

    first, replay = (
        generations(runs, "ollama", "gemma"),
        generations(runs, "ollama", "gemma_replay"),
    )
    assert len(first) == 6 and all(g.text and g.token_ids is None for g in first)
    assert all(0 < g.n_tokens <= 16 for g in first)
    # Measured: the real model answers the same bytes at temperature 0 when asked again.
    assert outputs(replay) == outputs(first)
    for contrast in result.summary.contrasts:
        identity = contrast.identity
        assert identity.token_identical is None and identity.token_identical_share is None
        assert identity.bytes_identical == identity.n
    published = PublishPlaces(root / "validation" / "ollama")
    assert read_jsonl(published.divergences, Divergence) == []
    assert all(r.token_ids_sha256 is None for r in read_jsonl(published.records, SampleRecord))
    report = published.report.read_text()
    assert "| -/" in report  # token identity not measured, shown as such
    assert all(p.counters is None for p in read_jsonl(published.performance, ArmPerformance))
    assert verify(root, deep=True, runs_root=runs) == ["ollama"]
    # What ran the model is the server's: tais records its version, not this machine's GPUs.
    env = json.loads(published.environment.read_text())
    version = get_json(gemma_server.host, "/api/version")["version"]
    for arm in ("gemma", "gemma_replay"):
        versions = env["engine_versions"][arm]
        assert versions["server"] == version
        assert versions["hardware"] == SERVERS_HARDWARE and "gpu" not in versions
    assert env["gpu"] == SERVERS_HARDWARE
