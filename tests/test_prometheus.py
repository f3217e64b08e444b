"""Speculative counters read from Prometheus text as vLLM's server writes it.

The page below is cut from a real vLLM 0.32 server (draft_model, 3 speculative tokens) after
one request; the engine tests read the live page of a running server.
"""

from __future__ import annotations

import pytest

from tais.generate.backends.prometheus import spec_counters
from tais.records import SpecCounters

MODEL = "bundle/models/tiny-target"
PAGE = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="bundle/models/tiny-target"} 0.0
# HELP vllm:spec_decode_num_drafts_total Number of spec decoding drafts.
# TYPE vllm:spec_decode_num_drafts_total counter
vllm:spec_decode_num_drafts_total{engine="0",model_name="bundle/models/tiny-target"} 17.0
# HELP vllm:spec_decode_num_drafts_created Number of spec decoding drafts.
# TYPE vllm:spec_decode_num_drafts_created gauge
vllm:spec_decode_num_drafts_created{engine="0",model_name="bundle/models/tiny-target"} 1.79e+09
# HELP vllm:spec_decode_num_draft_tokens_total Number of draft tokens.
# TYPE vllm:spec_decode_num_draft_tokens_total counter
vllm:spec_decode_num_draft_tokens_total{engine="0",model_name="bundle/models/tiny-target"} 51.0
# HELP vllm:spec_decode_num_accepted_tokens_total Number of accepted tokens.
# TYPE vllm:spec_decode_num_accepted_tokens_total counter
vllm:spec_decode_num_accepted_tokens_total{engine="0",model_name="bundle/models/tiny-target"} 26.0
# HELP vllm:spec_decode_num_accepted_tokens_per_pos_total Accepted tokens per draft position.
# TYPE vllm:spec_decode_num_accepted_tokens_per_pos_total counter
vllm:spec_decode_num_accepted_tokens_per_pos_total{engine="0",model_name="bundle/models/tiny-target",position="0"} 12.0
vllm:spec_decode_num_accepted_tokens_per_pos_total{engine="0",model_name="bundle/models/tiny-target",position="1"} 7.0
vllm:spec_decode_num_accepted_tokens_per_pos_total{engine="0",model_name="bundle/models/tiny-target",position="2"} 7.0
"""  # noqa: E501


def test_reads_the_counters_of_a_vllm_page() -> None:
    assert spec_counters(PAGE, MODEL) == SpecCounters(
        drafts=17, draft_tokens=51, accepted_tokens=26, accepted_per_position=[12, 7, 7]
    )


def test_engines_are_summed_and_other_models_left_out() -> None:
    # Each sample line followed by the same series from a second engine and another model,
    # as a server with several engines and models groups them under one family.
    lines = []
    for line in PAGE.splitlines():
        lines.append(line)
        if not line.startswith("#"):
            lines.append(line.replace('engine="0"', 'engine="1"'))
            lines.append(line.replace(MODEL, "other"))
    merged = "\n".join(lines) + "\n"
    assert spec_counters(merged, MODEL) == SpecCounters(
        drafts=34, draft_tokens=102, accepted_tokens=52, accepted_per_position=[24, 14, 14]
    )
    assert spec_counters(merged, None) == SpecCounters(
        drafts=51, draft_tokens=153, accepted_tokens=78, accepted_per_position=[36, 21, 21]
    )


@pytest.mark.parametrize(
    "page",
    [
        "",
        # A target-only vLLM server: metrics, but no speculative counters.
        PAGE.split("# HELP vllm:spec_decode_num_drafts_total")[0],
        # Counters of a model this arm does not use.
        PAGE.replace(MODEL, "other"),
    ],
)
def test_no_counters_is_not_reported_not_zero(page: str) -> None:
    assert spec_counters(page, MODEL) is None


def test_a_page_that_is_not_prometheus_text_is_an_error() -> None:
    with pytest.raises(ValueError):
        spec_counters("<html>not metrics</html>\n", MODEL)
