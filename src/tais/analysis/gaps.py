"""Where the changes start: the target's top-2 gaps (tais.generate.gaps) per contrast, as a
distribution. Publish computes it from the gaps it writes, verify from the released
gaps.jsonl, with this one function.

The bins, in nats (log-probability of the target's best next token minus its second's):
- < 0.01: a tie to the precision of the arithmetic itself (float32 log-softmax of logits that
  went through bfloat16 or float16 weights): any change of summation order can flip it;
- 0.01-0.1: within the rounding of one bfloat16 logit (8 significant bits: a logit of ~10-20
  moves by 0.03-0.06 per unit in the last place), so batch shape alone can flip it;
- 0.1-0.5 and 0.5-1: small margins that one rounding cannot close but accumulated ones over
  the layers might;
- 1-2 and >= 2: decisive (the best token at least e ~ 2.7 and e^2 ~ 7.4 times as likely as the
  second): a change starting there is hard to blame on numerics.
"""

from __future__ import annotations

import math
from collections import defaultdict

from tais.config.config import ExperimentConfig
from tais.config.floors import gap_contrasts
from tais.errors import DataError
from tais.records import DivergenceGap, Record

# Lower bin edges in nats; the last bin has no upper edge.
EDGES = (0.0, 0.01, 0.1, 0.5, 1.0, 2.0)
# "Near tie": the first two bins, where one reduced-precision rounding can decide.
NEAR_TIE = 0.1


class GapBin(Record):
    """Items whose gap g lies in [low, high) (high None: no upper edge)."""

    low: float
    high: float | None
    count: int


class GapSummary(Record):
    """One contrast's changed items by their target's top-2 gap at the first diverging token."""

    contrast: str
    n: int
    bins: list[GapBin]
    # Quantiles by linear interpolation between order statistics (numpy.quantile's default).
    min: float
    p25: float
    median: float
    p75: float
    max: float
    near_ties: int  # gap < NEAR_TIE
    # Items where the reference arm's token was the target's argmax in the prefill; those
    # where the reference output ended at the diverging position are not counted.
    reference_argmax: int


def quantile(sorted_values: list[float], q: float) -> float:
    """The q-quantile of sorted values, linear between order statistics (Hyndman and Fan's
    type 7, numpy.quantile's default method)."""
    if not sorted_values:
        raise DataError("no values to take a quantile of")
    h = (len(sorted_values) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (h - low) * (sorted_values[high] - sorted_values[low])


def bin_counts(values: list[float]) -> list[GapBin]:
    highs: list[float | None] = [*EDGES[1:], None]
    return [
        GapBin(
            low=low,
            high=high,
            count=sum(low <= v and (high is None or v < high) for v in values),
        )
        for low, high in zip(EDGES, highs, strict=True)
    ]


def summarise(contrast: str, gaps: list[DivergenceGap]) -> GapSummary:
    values = sorted(g.gap for g in gaps)
    if not values:
        raise DataError(f"contrast {contrast}: no gaps to summarise")
    negative = [g for g in gaps if g.gap < 0 or not math.isfinite(g.gap)]
    if negative:
        raise DataError(f"contrast {contrast} item {negative[0].item_id}: gap {negative[0].gap}")
    return GapSummary(
        contrast=contrast,
        n=len(values),
        bins=bin_counts(values),
        min=values[0],
        p25=quantile(values, 0.25),
        median=quantile(values, 0.5),
        p75=quantile(values, 0.75),
        max=values[-1],
        near_ties=sum(v < NEAR_TIE for v in values),
        reference_argmax=sum(g.reference_is_argmax is True for g in gaps),
    )


def gap_summaries(config: ExperimentConfig, gaps: list[DivergenceGap]) -> list[GapSummary]:
    """Per gap contrast with a changed item, in the config's order (tais.config.floors)."""
    by_contrast: dict[str, list[DivergenceGap]] = defaultdict(list)
    for g in gaps:
        by_contrast[g.contrast].append(g)
    known = [c.name for c in gap_contrasts(config)]
    unknown = sorted(by_contrast.keys() - set(known))
    if unknown:
        raise DataError(f"gaps of contrast {unknown[0]!r}, which the config does not hold")
    return [summarise(name, by_contrast[name]) for name in known if name in by_contrast]
