"""One output's counters from vLLM's per-request histogram, offline and in a served answer.

(That they add up to the engine's global counters is checked against the real engine in
test_item_counters_engine.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tais.config.config import Engine, Serve
from tais.errors import EngineError
from tais.generate.backends.openai_http import parse_choice, request_counters
from tais.generate.backends.vllm_server import server_command
from tais.records import SpecCounters, counters_from_histogram

from .engine_support import demo_config


def test_counters_from_a_histogram() -> None:
    # Steps accepting 0, 0, 1, 3, 3, 3 of 3 draft tokens: 6 drafts, 10 tokens accepted; one
    # step stopped before position 1, none stopped at position 2 or 3 once past 1.
    counters = counters_from_histogram([2, 1, 0, 3], draft_tokens=18)
    assert counters == SpecCounters(
        drafts=6, draft_tokens=18, accepted_tokens=10, accepted_per_position=[4, 3, 3]
    )
    assert counters_from_histogram([], 0) == SpecCounters()


def answer(metrics: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "choices": [
            {"message": {"content": "Sure."}, "token_ids": [5, 6], "finish_reason": "stop"}
        ],
        "usage": {"completion_tokens": 2},
    }
    if metrics is not None:
        body["metrics"] = metrics
    return body


def test_a_served_answer_carries_its_counters() -> None:
    # The shape of vLLM 0.32's metrics.speculative_decoding (SpeculativeDecodingMetrics).
    spec = {
        "mean_acceptance_length": 2.0,
        "draft_acceptance_rate": 0.5,
        "acceptance_histogram": [1, 0, 1],
        "num_spec_steps": 2,
        "num_accepted_draft_tokens": 2,
        "num_draft_tokens": 4,
        "num_spec_tokens": 2,
    }
    out = parse_choice(answer({"speculative_decoding": spec}), "chat")
    assert out.counters == SpecCounters(
        drafts=2, draft_tokens=4, accepted_tokens=2, accepted_per_position=[1, 1]
    )


@pytest.mark.parametrize("metrics", [None, {}, {"speculative_decoding": None}])
def test_an_answer_without_counters_gives_none(metrics: Any) -> None:
    assert parse_choice(answer(metrics), "chat").counters is None


@pytest.mark.parametrize(
    "spec",
    [
        {"acceptance_histogram": [1, -1], "num_draft_tokens": 2},
        {"acceptance_histogram": "1,0", "num_draft_tokens": 2},
        {"acceptance_histogram": [1, 0]},
    ],
)
def test_malformed_counters_are_refused(spec: dict[str, Any]) -> None:
    with pytest.raises(EngineError, match="speculative_decoding metrics are malformed"):
        request_counters(answer({"speculative_decoding": spec}))


def test_a_started_server_sends_counters_for_speculative_arms_only() -> None:
    arms = {arm.name: arm for arm in demo_config().arms}
    flag = "--per-request-spec-decode-metrics"
    command = server_command(arms["draft_k3"], Engine(), Serve(), 8000)
    assert command[command.index(flag) + 1] == "summary"
    # vLLM refuses the flag without speculation.
    assert flag not in server_command(arms["target_only"], Engine(), Serve(), 8000)
