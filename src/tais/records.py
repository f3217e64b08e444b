"""Typed records of the pipeline. Every record that touches disk forbids unknown fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tais.errors import DataError

Kind = Literal["harmful", "benign", "capability"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class ChunkStat(Record):
    """Written after a chunk's generations are on disk; a chunk without one is redone.

    `counters` is None when the engine does not report speculative counters (a server
    without them): not reported, which is not zero.
    """

    chunk: int
    n_items: int
    n_tokens: int
    wall_s: float
    counters: SpecCounters | None


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

    @classmethod
    def of(cls, run: ArmRun) -> PublishedArm:
        return cls(
            arm=run.arm,
            pair=run.pair,
            fingerprint=run.fingerprint,
            engine=run.engine,
            n_items=run.n_items,
            n_tokens=run.n_tokens,
        )


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

    @classmethod
    def of(cls, run: ArmRun) -> ArmPerformance:
        return cls(
            arm=run.arm,
            pair=run.pair,
            versions=run.versions,
            startup_s=run.startup_s,
            wall_s=run.wall_s,
            n_tokens=run.n_tokens,
            tokens_per_s=run.tokens_per_s,
            counters=run.counters,
            acceptance_rate=run.acceptance_rate,
            resumed=run.resumed,
        )


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
