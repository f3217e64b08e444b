"""Judge stage: label every output with every configured judge, through a cache.

A judgement is keyed by (judge config and code, item, output): re-runs and byte-identical outputs
of different arms cost no second call. Requests are shuffled with a fixed seed and carry no
arm, model or run name, so a judge cannot tell the arms apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from tais.config.config import JudgeSpec
from tais.config.places import RunPlaces
from tais.errors import ConfigError
from tais.io import append_jsonl, canonical_json, read_intact_prefix, sha256_text, write_jsonl
from tais.judge.judges import Judge, JudgeRequest, code_sha256, get_judge
from tais.records import Generation, Item, Judgement

BATCH = 64


@dataclass
class JudgeStats:
    outputs: int = 0
    unique: int = 0
    calls: int = 0
    # Distinct outputs whose labels say `unparseable` (an LLM judge's answer never parsed).
    unparseable: int = 0

    def counts(self) -> dict[str, int]:
        """As environment.json and the CLI report them."""
        return {
            "outputs": self.outputs,
            "unique": self.unique,
            "calls": self.calls,
            "saved_by_cache": self.outputs - self.calls,
            "unparseable": self.unparseable,
        }


@dataclass
class Judged:
    """labels[(arm, item_id)][judge] -> that judge's labels; server_versions[judge] -> the
    distinct versions of the judge's server behind those labels (served judges only)."""

    labels: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    stats: dict[str, JudgeStats] = field(default_factory=dict)
    server_versions: dict[str, list[str]] = field(default_factory=dict)


# Labels cached before server versions were kept carry none.
UNRECORDED_VERSION = "not recorded"


def server_version(judge: Judge) -> str | None:
    """The version the judge's server reports; None for a judge without a server."""
    ask = getattr(judge, "server_version", None)
    return str(ask()) if callable(ask) else None


def judgement_key(
    judge_config_sha256: str,
    judge_code_sha256: str,
    item: Item,
    text: str,
    choice_logprobs: list[float] | None = None,
) -> str:
    """Everything a judge reads (the whole request) and what the judge is (config and code).

    The whole item counts, not just its messages: the multiple-choice judge reads `reference`
    and `meta`, so an item re-built with another answer key is judged again.
    """
    parts: list[object] = [
        judge_config_sha256,
        judge_code_sha256,
        item.model_dump(mode="json"),
        sha256_text(text),
        # Same text, other log-probabilities: another judgement (the MC2 score moves).
        choice_logprobs,
    ]
    return sha256_text(canonical_json(parts))


def load_cache(places: RunPlaces, judge: str) -> dict[str, Judgement]:
    path = places.judgements(judge)
    cached = read_intact_prefix(path, Judgement)
    if path.exists():
        write_jsonl(path, cached)  # drops a line cut by a kill
    return {j.key: j for j in cached}


def judge_outputs(
    judge_specs: list[JudgeSpec],
    items: list[Item],
    generations: list[Generation],
    places: RunPlaces,
    seed: int = 0,
) -> Judged:
    by_id = {item.item_id: item for item in items}
    unknown = sorted({g.item_id for g in generations} - by_id.keys())
    if unknown:
        raise ConfigError(f"generations refer to items not in the battery, e.g. {unknown[0]!r}")
    result = Judged()
    order = list(generations)
    random.Random(seed).shuffle(order)
    for spec in judge_specs:
        name = spec.name
        judge = get_judge(name, spec.options)
        config_sha = sha256_text(canonical_json(judge.config()))
        code_sha = code_sha256(judge)
        cache = load_cache(places, name)
        stats = result.stats.setdefault(name, JudgeStats())
        pending: dict[str, JudgeRequest] = {}
        keyed: list[tuple[Generation, str]] = []
        for gen in order:
            item = by_id[gen.item_id]
            if item.kind not in judge.kinds:
                continue
            key = judgement_key(config_sha, code_sha, item, gen.text, gen.choice_logprobs)
            keyed.append((gen, key))
            if key not in cache and key not in pending:
                pending[key] = JudgeRequest(
                    item=item, text=gen.text, choice_logprobs=gen.choice_logprobs
                )
        stats.outputs = len(keyed)
        stats.unique = len({key for _, key in keyed})
        keys = list(pending)
        version = server_version(judge) if keys else None
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            labels = judge.judge([pending[k] for k in batch])
            fresh = [
                Judgement(
                    key=k,
                    item_id=pending[k].item.item_id,
                    output_sha256=sha256_text(pending[k].text),
                    judge=name,
                    judge_config_sha256=config_sha,
                    labels=lab,
                    server_version=version,
                )
                for k, lab in zip(batch, labels, strict=True)
            ]
            append_jsonl(places.judgements(name), fresh)
            cache.update({j.key: j for j in fresh})
            stats.calls += len(fresh)
        for gen, key in keyed:
            result.labels.setdefault((gen.arm, gen.item_id), {})[name] = cache[key].labels
        used = {key for _, key in keyed}
        stats.unparseable = sum(bool(cache[key].labels.get("unparseable")) for key in used)
        if hasattr(judge, "server_version"):
            result.server_versions[name] = sorted(
                {cache[key].server_version or UNRECORDED_VERSION for key in used}
            )
    return result
