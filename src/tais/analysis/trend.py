"""The N-sweep: how a task's rate moves with the number of speculative tokens N.

Input: for each N, the per-item scores of one task in one fixed item order, the same items at
every N (paired across N). Output: the least-squares slope of the rate over N, a seeded
percentile bootstrap interval for it, and the largest range of the rate over N.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Ordinary least-squares slope of ys on xs: sum((x - x_bar)(y - y_bar)) / sum((x - x_bar)^2).

    Matches numpy.polyfit(xs, ys, 1)[0] and scipy.stats.linregress(xs, ys).slope.
    """
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys differ in length: {len(xs)} and {len(ys)}")
    return _weighted(_slope_weights(xs), ys)


def _weighted(weights: Sequence[float], ys: Sequence[float]) -> float:
    # Centring y makes a constant series give exactly 0 (the weights sum to 0 only up to
    # rounding).
    y_bar = math.fsum(ys) / len(ys)
    return math.fsum(w * (y - y_bar) for w, y in zip(weights, ys, strict=True))


def _slope_weights(xs: Sequence[float]) -> list[float]:
    """w_k = (x_k - x_bar) / S_xx, so that the slope is the linear form sum_k w_k * y_k."""
    if len(set(xs)) < 2:
        raise ValueError(f"a slope needs at least 2 distinct x values, got {sorted(set(xs))}")
    x_bar = math.fsum(xs) / len(xs)
    s_xx = math.fsum((x - x_bar) ** 2 for x in xs)
    return [(x - x_bar) / s_xx for x in xs]


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile of already sorted values by linear interpolation.

    Hyndman RJ, Fan Y (1996) Am Stat 50:361-365, definition 7: h = (m - 1) q,
    Q = v[floor(h)] + (h - floor(h)) (v[floor(h) + 1] - v[floor(h)]). Matches
    numpy.quantile(values, q) (method "linear", numpy's default).
    """
    if not sorted_values:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q}")
    h = (len(sorted_values) - 1) * q
    lo = math.floor(h)
    if lo + 1 >= len(sorted_values):
        return float(sorted_values[-1])
    return sorted_values[lo] + (h - lo) * (sorted_values[lo + 1] - sorted_values[lo])


@dataclass(frozen=True)
class SweepTrend:
    """Slope of the rate over N with its percentile bootstrap interval, and the largest range.

    rates: the rate at each N, in ascending N. largest_range: max minus min of those rates.
    """

    ns: tuple[int, ...]
    rates: tuple[float, ...]
    slope: float
    ci_low: float
    ci_high: float
    largest_range: float
    n_items: int
    n_resamples: int
    seed: int
    alpha: float


def sweep_trend(
    scores: Mapping[int, Sequence[float]],
    n_resamples: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> SweepTrend:
    """Slope of the mean score over N, with a paired percentile bootstrap (1 - alpha) interval.

    `scores[N][i]` is item i's score at N; every N lists the same items in the same order.
    The rate at N is the mean over items; the slope is the least-squares slope of the rates
    on N (least_squares_slope).

    Bootstrap (Efron B, Tibshirani RJ (1993) An Introduction to the Bootstrap, ch. 13,
    percentile interval), resampling items and keeping each item's scores at every N together:
    1. each item i gets its own least-squares slope over N, s_i = sum_k w_k * scores[N_k][i]
       with w_k = (N_k - N_bar) / S_NN; the slope of the rates is the mean of the s_i,
       because a least-squares slope is linear in the y values;
    2. rng = random.Random(seed); for each of n_resamples resamples, draw n_items indices,
       each int(rng.random() * n_items), and take the mean of their s_i;
    3. the interval is the alpha/2 and 1 - alpha/2 quantiles (quantile, Hyndman-Fan 7) of the
       sorted resample slopes.
    random.Random.random() is the one stream Python promises to keep across versions for a
    given seed, so the interval re-derives identically anywhere.
    """
    if len(scores) < 2:
        raise ValueError(f"a sweep needs at least 2 values of N, got {sorted(scores)}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    ns = sorted(scores)
    columns = [scores[n] for n in ns]
    n_items = len(columns[0])
    if n_items == 0:
        raise ValueError("a sweep needs at least 1 item")
    for n, column in zip(ns, columns, strict=True):
        if len(column) != n_items:
            raise ValueError(
                f"N={n} has {len(column)} items, N={ns[0]} has {n_items}: items must be paired"
            )
    rates = [math.fsum(column) / n_items for column in columns]
    weights = _slope_weights([float(n) for n in ns])
    item_slopes = [_weighted(weights, [column[i] for column in columns]) for i in range(n_items)]
    rng = random.Random(seed)
    resampled = sorted(
        math.fsum(item_slopes[int(rng.random() * n_items)] for _ in range(n_items)) / n_items
        for _ in range(n_resamples)
    )
    return SweepTrend(
        ns=tuple(ns),
        rates=tuple(rates),
        slope=least_squares_slope([float(n) for n in ns], rates),
        ci_low=quantile(resampled, alpha / 2.0),
        ci_high=quantile(resampled, 1.0 - alpha / 2.0),
        largest_range=max(rates) - min(rates),
        n_items=n_items,
        n_resamples=n_resamples,
        seed=seed,
        alpha=alpha,
    )
