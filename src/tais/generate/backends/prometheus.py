"""Speculative-decoding counters out of a server's Prometheus text (vLLM's /metrics).

Counters are summed over the samples of the served model (vLLM labels them `model_name`, one
series per engine). A server that exposes no such counters reports nothing: None, never zero.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tais.records import SpecCounters

_TOTALS = {
    "vllm:spec_decode_num_drafts": "drafts",
    "vllm:spec_decode_num_draft_tokens": "draft_tokens",
    "vllm:spec_decode_num_accepted_tokens": "accepted_tokens",
}
_PER_POSITION = "vllm:spec_decode_num_accepted_tokens_per_pos"


def spec_counters(text: str, model: str | None = None) -> SpecCounters | None:
    """The counters in `text`, or None if it has none of them.

    `model` keeps only samples labelled with that `model_name` (samples without the label are
    kept): one server may serve several models.
    """
    totals: dict[str, int] = {}
    per_position: dict[int, int] = {}
    for family in text_string_to_metric_families(text):
        if family.type != "counter":
            continue
        field = _TOTALS.get(family.name)
        if field is None and family.name != _PER_POSITION:
            continue
        for sample in family.samples:
            # A counter family also carries `<name>_created` timestamps; only `_total` counts.
            if not sample.name.endswith("_total"):
                continue
            if model is not None and sample.labels.get("model_name", model) != model:
                continue
            value = int(sample.value)
            if field is not None:
                totals[field] = totals.get(field, 0) + value
            else:
                position = int(sample.labels.get("position", "0"))
                per_position[position] = per_position.get(position, 0) + value
    if not totals:
        return None
    width = max(per_position, default=-1) + 1
    return SpecCounters(
        accepted_per_position=[per_position.get(i, 0) for i in range(width)], **totals
    )
