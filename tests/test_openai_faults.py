"""The openai backend when the server misbehaves, against a real Ollama server's /v1.

A fault is one clear message (EngineError) or a resumable stop: the raw files hold whole
chunks only, and running again finishes the arm with the outputs an undisturbed run gives.
Faults are injected by a local proxy in front of the real server (tests/ollama_server.py);
the answers themselves always come from the real server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tais.config.places import PublishPlaces
from tais.errors import EngineError
from tais.io import read_jsonl
from tais.pipeline import run_screen
from tais.records import ArmPerformance, ArmRun
from tests.ollama_server import (  # noqa: F401  (pytest fixtures)
    OllamaServer,
    RecordingProxy,
    closed_port_host,
    ollama_server_fixture,
    proxy_fixture,
    silent_server_fixture,
)

from .engine_support import QuietProgress, write_config
from .http_support import (
    chunk_stats,
    experiment,
    generations,
    line_count,
    outputs,
    small_battery,
    whole_lines,
)

N_ITEMS = 10  # 4 benign, 2 capability, 4 harmful: chunks of 4 + 4 + 2 (across tasks)
FAST_RETRIES = {"retries": 2, "backoff_s": 0.05, "timeout_s": 30}


def endpoint_arm(host: str, model: str = "tiny-judge", **http: Any) -> dict[str, Any]:
    return {
        "name": "served",
        "pair": "tiny-judge",
        "target": model,
        "endpoint": {"base_url": f"{host}/v1", "model": model},
        "http": {**FAST_RETRIES, **http},
    }


def run(tmp_path: Path, name: str, arm: dict[str, Any], runs: Path) -> Path:
    battery = small_battery(tmp_path / "battery.jsonl", N_ITEMS)
    config = write_config(tmp_path / f"{name}.yaml", experiment(name, battery, [arm]))
    run_screen(config, QuietProgress(), runs_dir=runs, root=tmp_path / "root")
    return config


@pytest.fixture(name="reference")
def reference_fixture(tmp_path: Path, ollama_server: OllamaServer) -> list[Any]:
    """The outputs of an undisturbed run straight against the server."""
    runs = tmp_path / "ref-runs"
    run(tmp_path, "faults", endpoint_arm(ollama_server.host), runs)
    return outputs(generations(runs, "faults", "served"))


def test_undisturbed_run_reports_no_counters_and_no_token_ids(
    tmp_path: Path, ollama_server: OllamaServer
) -> None:
    runs = tmp_path / "runs"
    run(tmp_path, "plain", endpoint_arm(ollama_server.host), runs)
    gens = generations(runs, "plain", "served")
    assert len(gens) == N_ITEMS
    assert all(g.token_ids is None and 0 < g.n_tokens <= 16 for g in gens)
    # Ollama has no /metrics: acceptance is "not reported", never a zero.
    assert all(stat.counters is None for stat in chunk_stats(runs, "plain", "served"))
    arm = ArmRun.model_validate_json((runs / "plain" / "arms" / "served.json").read_text())
    assert arm.counters is None and arm.acceptance_rate is None
    assert arm.engine["backend"] == "openai" and arm.engine["http"]["concurrency"] == 1
    published = PublishPlaces(tmp_path / "root" / "validation" / "plain")
    (performance,) = read_jsonl(published.performance, ArmPerformance)
    assert performance.counters is None
    assert "| served | tiny-judge |" in published.performance_report.read_text()
    assert "not reported" in published.performance_report.read_text()


def test_unreachable_url_is_one_clear_message(tmp_path: Path) -> None:
    host = closed_port_host()
    with pytest.raises(EngineError) as err:
        run(tmp_path, "unreachable", endpoint_arm(host), tmp_path / "runs")
    message = str(err.value)
    assert f"GET {host}/v1/models: cannot reach the server (ConnectError" in message
    assert "after 3 attempts" in message
    assert line_count(tmp_path / "runs" / "unreachable" / "generations" / "served.jsonl") == 0


def test_unknown_model_is_named_before_any_request(
    tmp_path: Path, proxy: RecordingProxy, ollama_server: OllamaServer
) -> None:
    with pytest.raises(EngineError) as err:
        run(tmp_path, "nomodel", endpoint_arm(proxy.host, "no-such-model"), tmp_path / "runs")
    assert f"the server at {proxy.host}/v1 has no model 'no-such-model'" in str(err.value)
    assert "it serves: tiny-judge:latest" in str(err.value)
    assert proxy.chats() == []


def test_server_that_never_answers_times_out(tmp_path: Path, silent_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(EngineError) as err:
        run(tmp_path, "silent", endpoint_arm(silent_server, timeout_s=0.5), tmp_path / "runs")
    assert time.monotonic() - started < 60
    assert "no answer within 0.5 s (ReadTimeout)" in str(err.value)
    assert "after 3 attempts" in str(err.value)


def test_transient_errors_are_retried(
    tmp_path: Path, proxy: RecordingProxy, reference: list[Any]
) -> None:
    proxy.state.fail_chat, proxy.state.fail_status = 2, 503
    runs = tmp_path / "runs"
    run(tmp_path, "faults", endpoint_arm(proxy.host), runs)
    statuses = [c.status for c in proxy.chats()]
    assert statuses[:3] == [503, 503, 200] and len(statuses) == N_ITEMS + 2
    assert outputs(generations(runs, "faults", "served")) == reference


@pytest.mark.parametrize(
    ("fault", "concurrency"), [("status_500", 1), ("status_500", 3), ("timeout", 1)]
)
def test_fault_mid_arm_stops_resumably(
    tmp_path: Path, proxy: RecordingProxy, reference: list[Any], fault: str, concurrency: int
) -> None:
    """Chunk 0 (4 items) goes through, chunk 1 breaks at its second request; a rerun resumes."""
    runs = tmp_path / "runs"
    if fault == "status_500":
        proxy.state.pass_chat = 5
        proxy.state.fail_status, proxy.state.fail_body = 500, b'{"error":"engine fell over"}'
        expected = "the server answered 500: engine fell over (after 3 attempts)"
    else:
        proxy.state.stall_from = 6
        expected = "no answer within 2 s (ReadTimeout) (after 3 attempts)"
    arm = endpoint_arm(proxy.host, timeout_s=2, concurrency=concurrency)
    with pytest.raises(EngineError) as err:
        run(tmp_path, "faults", arm, runs)
    assert expected in str(err.value)
    assert "finished chunks are kept: run again to resume" in str(err.value)
    raw = runs / "faults" / "generations"
    assert whole_lines(raw / "served.jsonl") and whole_lines(raw / "served.chunks.jsonl")
    assert [s.chunk for s in chunk_stats(runs, "faults", "served")] == [0]
    assert outputs(generations(runs, "faults", "served")) == reference[:4]

    proxy.state.pass_chat, proxy.state.stall_from = None, None
    run(tmp_path, "faults", arm, runs)
    assert outputs(generations(runs, "faults", "served")) == reference
    arm_run = ArmRun.model_validate_json((runs / "faults" / "arms" / "served.json").read_text())
    assert arm_run.resumed and arm_run.n_items == N_ITEMS


def test_concurrency_is_bounded(
    tmp_path: Path, proxy: RecordingProxy, reference: list[Any]
) -> None:
    runs = tmp_path / "runs"
    run(tmp_path, "faults", endpoint_arm(proxy.host, concurrency=3), runs)
    assert 1 < proxy.state.max_in_flight <= 3
    # The same answers in the same order, whatever order the server finished them in.
    assert outputs(generations(runs, "faults", "served")) == reference


def test_api_key_is_read_from_the_named_variable_and_never_written(
    tmp_path: Path, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    arm = endpoint_arm(proxy.host)
    arm["endpoint"]["api_key_env"] = "TAIS_TEST_API_KEY"
    with pytest.raises(EngineError, match="api_key_env names TAIS_TEST_API_KEY, which is not set"):
        run(tmp_path, "keyed", arm, tmp_path / "runs")
    assert proxy.requests == []

    monkeypatch.setenv("TAIS_TEST_API_KEY", "sk-secret-4711")
    run(tmp_path, "keyed", arm, tmp_path / "runs")
    assert {r.headers.get("Authorization") for r in proxy.requests} == {"Bearer sk-secret-4711"}
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and not any(b"sk-secret-4711" in p.read_bytes() for p in written)
