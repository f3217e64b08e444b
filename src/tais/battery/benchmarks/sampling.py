"""`limit`: a fixed-seed sample per task, stratified by the benchmark's own category column.

Each stratum (an item's `meta["category"]`; items without one form a single stratum) gets a
share of the limit proportional to its size, by largest remainders, so a small sample keeps
the benchmark's mix instead of whatever categories a hash happens to favour. Within a stratum
items are ranked by a seeded hash of their id, never by row order, so adding rows elsewhere
leaves the choice alone.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from tais.records import Item


def stratum_of(item: Item) -> str:
    category = item.meta.get("category")
    return "" if category is None else str(category)


def quotas(sizes: dict[str, int], limit: int) -> dict[str, int]:
    """Largest-remainder (Hamilton) apportionment of `limit` over strata of these sizes."""
    total = sum(sizes.values())
    if limit >= total:
        return dict(sizes)
    exact = {s: limit * n / total for s, n in sizes.items()}
    share = {s: int(x) for s, x in exact.items()}
    left = limit - sum(share.values())
    # Ties go to the larger stratum, then by name: deterministic without any randomness.
    for s in sorted(exact, key=lambda s: (share[s] - exact[s], -sizes[s], s))[:left]:
        share[s] += 1
    return share


def stratified_sample(items: list[Item], limit: int | None, seed: int) -> list[Item]:
    """Keep `limit` items per task (all when None), in the items' own order."""
    if limit is None:
        return items
    groups: dict[str, dict[str, list[Item]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        groups[item.task][stratum_of(item)].append(item)

    def rank(item: Item) -> str:
        return hashlib.sha256(f"{seed}:{item.item_id}".encode()).hexdigest()

    kept: set[str] = set()
    for strata in groups.values():
        share = quotas({s: len(members) for s, members in strata.items()}, limit)
        for s, members in strata.items():
            kept.update(i.item_id for i in sorted(members, key=rank)[: share[s]])
    return [item for item in items if item.item_id in kept]
