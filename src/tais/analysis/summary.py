"""The summary record: every number the report shows, as released in summary.json."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tais.analysis.agreement import Agreement, UnparseableCount
from tais.analysis.capability import Score, ScoreDiff
from tais.analysis.floor import FloorCell, IdentityVerdict
from tais.analysis.sweep import PooledRate, SweepRow
from tais.records import Kind, Record

Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]


class Rate(Record):
    """k of n: successes, or the sum of scores in [0, 1] (a float only where one is not whole)."""

    pair: str
    arm: str
    task: str
    kind: Kind
    metric: str
    k: int | float
    n: int
    excluded: int
    rate: float
    ci_low: float
    ci_high: float


class Identity(Record):
    """Token identity is None (not measured) when an arm of the cell has no token ids.

    Each share carries its Wilson interval at `ci_level` (1 - the analysis' alpha).
    `bytes_changed_share_mean` is the mean, over the items whose outputs differ (by token ids,
    else by bytes), of the share of their bytes changed (tais.publish.publish.bytes_changed_share).
    """

    n: int
    token_identical: int | None
    bytes_identical: int
    token_identical_share: float | None
    token_identical_ci_low: float | None
    token_identical_ci_high: float | None
    bytes_identical_share: float
    bytes_identical_ci_low: float
    bytes_identical_ci_high: float
    ci_level: float
    first_diverging_token_min: int | None
    first_diverging_token_median: float | None
    bytes_changed_share_mean: float | None


class ContrastResult(Record):
    contrast: str
    # False: reported, kept out of the verdict (see config.Contrast).
    gated: bool = Field(default=True, exclude_if=lambda v: v is True)
    a: str
    b: str
    task: str
    kind: Kind
    metric: str
    n: int
    excluded: int
    # The paired table; fractional where outcomes are scores (see tais.analysis.outcomes).
    both: int | float
    only_a: int | float
    only_b: int | float
    neither: int | float
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
    """Counts over the gated contrasts (task cells); `n_not_gated` counts the others."""

    verdict: Verdict
    n_contrasts: int
    n_not_gated: int = Field(default=0, exclude_if=lambda v: v == 0)
    n_pass: int
    n_fail: int
    n_inconclusive: int


class ReproductionRow(Record):
    """One printed figure and this run's value of the same statistic.

    `this_run` is None where this run does not measure it (`note` says why); `inside` says
    whether the printed value lies in this run's 95% interval, None where there is none.
    """

    figure: str
    description: str
    statistic: str
    printed: str
    paper: float | None
    this_run: float | None
    this_run_text: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    inside: bool | None
    note: str


class Reproduction(Record):
    """The rows of one paper experiment; `stand_in`: this run's models are not the paper's."""

    experiment: str
    stand_in: bool
    rows: list[ReproductionRow]


class Summary(Record):
    experiment: str
    config_sha256: str
    margin: float
    alpha: float
    method: str
    h_cutoff: float
    refusal_judge: str
    # Left out of summary.json at their defaults, as in runs published before they existed.
    capability_judge: str = Field(
        default="multiple_choice", exclude_if=lambda v: v == "multiple_choice"
    )
    score_judge: str = Field(default="paper", exclude_if=lambda v: v == "paper")
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
    # A design's N-sweeps and pooled rates (tais.analysis.sweep); a hand-written config has none.
    sweeps: list[SweepRow] = Field(default_factory=list, exclude_if=lambda v: not v)
    pooled: list[PooledRate] = Field(default_factory=list, exclude_if=lambda v: not v)
    # The paper's figures beside this run's values (tais.analysis.reproduction); only with `paper`.
    reproduction: Reproduction | None = Field(default=None, exclude_if=lambda v: v is None)
    # Speculation against the numerics floor (tais.analysis.floor); only with floor arms or
    # speculative contrasts, so runs published before it keep their bytes.
    floor: list[FloorCell] = Field(default_factory=list, exclude_if=lambda v: not v)
    identity_verdict: IdentityVerdict | None = Field(default=None, exclude_if=lambda v: v is None)
