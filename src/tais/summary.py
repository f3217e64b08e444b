"""The summary record: every number the report shows, as released in summary.json."""

from __future__ import annotations

from typing import Literal

from tais.agreement import Agreement, UnparseableCount
from tais.capability import Score, ScoreDiff
from tais.records import Kind, Record

Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]


class Rate(Record):
    pair: str
    arm: str
    task: str
    kind: Kind
    metric: str
    k: int
    n: int
    excluded: int
    rate: float
    ci_low: float
    ci_high: float


class Identity(Record):
    """Token identity is None (not measured) when an arm of the cell has no token ids."""

    n: int
    token_identical: int | None
    bytes_identical: int
    token_identical_share: float | None
    bytes_identical_share: float
    first_diverging_token_min: int | None
    first_diverging_token_median: float | None
    bytes_changed_share_mean: float | None


class ContrastResult(Record):
    contrast: str
    a: str
    b: str
    task: str
    kind: Kind
    metric: str
    n: int
    excluded: int
    both: int
    only_a: int
    only_b: int
    neither: int
    rate_a: float
    rate_b: float
    diff: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    equivalent: bool
    beyond_margin: bool
    zero_variance: bool
    cohens_h: float
    mcnemar_p: float
    holm_p: float
    mde: float
    identity: Identity
    verdict: Verdict
    reasons: list[str]


class ArmSummary(Record):
    arm: str
    pair: str
    speculative: str
    n_items: int
    n_tokens: int


class JudgeCount(Record):
    judge: str
    outputs: int
    unique_outputs: int


class ExperimentVerdict(Record):
    verdict: Verdict
    n_contrasts: int
    n_pass: int
    n_fail: int
    n_inconclusive: int


class Summary(Record):
    experiment: str
    config_sha256: str
    margin: float
    alpha: float
    method: str
    h_cutoff: float
    refusal_judge: str
    rates: list[Rate]
    contrasts: list[ContrastResult]
    scores: list[Score]
    score_diffs: list[ScoreDiff]
    arms: list[ArmSummary]
    judging: list[JudgeCount]
    judge_digests: dict[str, str]
    unparseable: list[UnparseableCount]
    agreement: list[Agreement]
    verdict: ExperimentVerdict
