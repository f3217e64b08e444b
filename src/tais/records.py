"""Typed records of the pipeline. Every record that touches disk forbids unknown fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from tais.errors import DataError

# harmful: refusal expected; benign: an answer expected; capability: a reference to match;
# scored: a judge's score in [0, 1] (the paper's BBQ "unbiased" and TruthfulQA overlap).
Kind = Literal["harmful", "benign", "capability", "scored"]
# The paper's two domains: capability is the kind `capability`; every other kind is safety.
Domain = Literal["safety", "capability"]
DOMAINS: tuple[Domain, ...] = ("safety", "capability")


def domain_of(kind: Kind) -> Domain:
    return "capability" if kind == "capability" else "safety"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def of(cls, source: BaseModel) -> Self:
        """This record's fields taken as they are from a wider record (e.g. an ArmRun)."""
        return cls.model_validate({name: getattr(source, name) for name in cls.model_fields})


class Message(Record):
    role: Literal["system", "user", "assistant"]
    content: str


class Item(Record):
    """One prompt of the battery. `item_id` derives from benchmark, split and the row's own key."""

    item_id: str
    benchmark: str
    task: str
    kind: Kind
    messages: list[Message]
    reference: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class SpecCounters(Record):
    """Speculative-decoding counters of one engine process (cumulative, or a delta of two)."""

    drafts: int = 0
    draft_tokens: int = 0
    accepted_tokens: int = 0
    accepted_per_position: list[int] = Field(default_factory=list)

    def minus(self, earlier: SpecCounters) -> SpecCounters:
        per_pos = [
            now
            - (earlier.accepted_per_position[i] if i < len(earlier.accepted_per_position) else 0)
            for i, now in enumerate(self.accepted_per_position)
        ]
        return SpecCounters(
            drafts=self.drafts - earlier.drafts,
            draft_tokens=self.draft_tokens - earlier.draft_tokens,
            accepted_tokens=self.accepted_tokens - earlier.accepted_tokens,
            accepted_per_position=per_pos,
        )

    def plus(self, other: SpecCounters) -> SpecCounters:
        width = max(len(self.accepted_per_position), len(other.accepted_per_position))
        mine = self.accepted_per_position + [0] * (width - len(self.accepted_per_position))
        theirs = other.accepted_per_position + [0] * (width - len(other.accepted_per_position))
        return SpecCounters(
            drafts=self.drafts + other.drafts,
            draft_tokens=self.draft_tokens + other.draft_tokens,
            accepted_tokens=self.accepted_tokens + other.accepted_tokens,
            accepted_per_position=[a + b for a, b in zip(mine, theirs, strict=True)],
        )


def counters_from_histogram(histogram: Sequence[int], draft_tokens: int) -> SpecCounters:
    """One request's counters from vLLM's per-request metrics, in the engine's own terms.

    `histogram[j]` counts the verify steps that accepted exactly j draft tokens. The engine's
    global counters add, per verify step, one draft, its proposed tokens, its accepted tokens
    and one at each position before the first rejection; summed over a request's steps that
    is what follows (vllm/v1/spec_decode/metrics.py, SpecDecodingStats.observe_draft).
    """
    width = max(len(histogram) - 1, 0)
    return SpecCounters(
        drafts=sum(histogram),
        draft_tokens=draft_tokens,
        accepted_tokens=sum(j * n for j, n in enumerate(histogram)),
        accepted_per_position=[sum(histogram[i + 1 :]) for i in range(width)],
    )


class Generation(Record):
    """One output of one arm. Holds verbatim text: lives in runs/ only, never released."""

    item_id: str
    pair: str
    arm: str
    chunk: int
    text: str
    # None where the engine returns text only (a server without token ids); `n_tokens` is
    # then the server's own count.
    token_ids: list[int] | None
    output_sha256: str
    n_tokens: int
    finish_reason: str | None
    # Summed log-probability of each option's text after the prompt, for items that are
    # scored that way (TruthfulQA MC); None for every other item, or a backend without them.
    choice_logprobs: list[float] | None = None
    # This output's own speculative counters (all zero without speculation); None where the
    # engine does not report them per request. They move between identical runs: published
    # under volatile/ only (ItemCounters).
    counters: SpecCounters | None = None


class ItemCounters(Record):
    """One output's speculative counters, as released in volatile/item_counters.jsonl: the
    source of acceptance per task, per domain and per prompt."""

    arm: str
    item_id: str
    counters: SpecCounters


class ChunkStat(Record):
    """Written after a chunk's generations are on disk; a chunk without one is redone.

    A chunk may hold items of several tasks (tais.generate.arms.battery_chunks): its counters
    are the chunk's as a whole; acceptance by task comes from each output's own counters.
    `counters` is None when the engine does not report speculative counters (a server
    without them): not reported, which is not zero.
    """

    chunk: int
    n_items: int
    n_tokens: int
    wall_s: float
    counters: SpecCounters | None


def total_counters(stats: Sequence[ChunkStat]) -> SpecCounters | None:
    """The arm's counters; not reported if any chunk's were not (a partial sum would mislead)."""
    total = SpecCounters()
    for stat in stats:
        if stat.counters is None:
            return None
        total = total.plus(stat.counters)
    return total


def acceptance_rate(counters: SpecCounters | None) -> float | None:
    """Accepted over proposed draft tokens; None when not reported or nothing was drafted."""
    if counters is None or not counters.draft_tokens:
        return None
    return counters.accepted_tokens / counters.draft_tokens


class ArmRun(Record):
    arm: str
    pair: str
    fingerprint: str
    engine: dict[str, Any]
    versions: dict[str, str]
    startup_s: float
    wall_s: float
    n_items: int
    n_tokens: int
    tokens_per_s: float
    counters: SpecCounters | None
    acceptance_rate: float | None
    resumed: bool
    # Per chunk, in chunk order: the arm's counters are their sum.
    chunks: list[ChunkStat]
    # "<experiment>/<arm>" when the outputs were copied from the shared arm store (see
    # tais.generate.arm_store) rather than generated by this experiment; the measurements are
    # theirs.
    reused_from: str | None = Field(default=None, exclude_if=lambda v: v is None)


class PublishedArm(Record):
    """An arm as released in arms.jsonl: only what a re-run reproduces byte for byte.

    Timings, versions and the engine's acceptance counters (not bit-reproducible across runs
    of vLLM) go to the volatile ArmPerformance instead.
    """

    arm: str
    pair: str
    fingerprint: str
    engine: dict[str, Any]
    n_items: int
    n_tokens: int


class ArmPerformance(Record):
    """What one arm's run measured and no re-run reproduces: released under volatile/."""

    arm: str
    pair: str
    versions: dict[str, str]
    startup_s: float
    wall_s: float
    n_tokens: int
    tokens_per_s: float
    counters: SpecCounters | None
    acceptance_rate: float | None
    resumed: bool
    chunks: list[ChunkStat]
    reused_from: str | None = Field(default=None, exclude_if=lambda v: v is None)


class TaskCount(Record):
    items: int
    left_out_too_long: int = 0


class BatteryCounts(Record):
    """battery.json: the items each task screened and lost to the context length."""

    items: int
    tasks: dict[str, TaskCount]


class Judgement(Record):
    """A judge's labels for one output; `key` hashes judge config and code, item and output."""

    key: str
    item_id: str
    output_sha256: str
    judge: str
    judge_config_sha256: str
    labels: dict[str, Any]
    # The version of the judge's server that answered (an LLM judge's runtime, beside the model
    # digest in the labels); None for judges without a server and for older cache lines.
    server_version: str | None = Field(default=None, exclude_if=lambda v: v is None)


class SampleRecord(Record):
    """The released per-sample record: ids, hashes, lengths and labels; never text."""

    item_id: str
    benchmark: str
    task: str
    kind: Kind
    pair: str
    arm: str
    output_sha256: str
    token_ids_sha256: str | None  # None: the engine returned no token ids
    n_tokens: int
    n_bytes: int
    finish_reason: str | None
    choice_logprobs: list[float] | None = None
    labels: dict[str, dict[str, Any]]


class Divergence(Record):
    """Where two arms' outputs for one item differ (identical pairs get no record).

    Outputs differ by their token ids; where an arm has none, by their text bytes, and the
    first diverging token is then unknown (None).
    """

    contrast: str
    item_id: str
    first_diverging_token: int | None
    bytes_changed_share: float


class _ArmItem(Protocol):
    @property
    def arm(self) -> str: ...

    @property
    def item_id(self) -> str: ...


def require_unique(records: Sequence[_ArmItem], source: str) -> None:
    """One record per (arm, item): a second would count twice in rates but once in contrasts."""
    first: dict[tuple[str, str], int] = {}
    for number, record in enumerate(records, start=1):
        key = (record.arm, record.item_id)
        if key in first:
            raise DataError(
                f"{source}: arm {record.arm!r} item {record.item_id!r} appears twice "
                f"(records {first[key]} and {number})"
            )
        first[key] = number
