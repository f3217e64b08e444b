"""The numerics floor: which arms measure how much outputs move without speculation.

vLLM calls speculation lossless "up to the precision limits of hardware numerics": verifying
k drafted tokens changes the shapes of the engine's forward passes, and in reduced precision a
different shape can round a near-tie the other way. Batch shape alone does the same. A floor
arm is a target-only arm that changes only how the engine batches (`batch_order`,
`max_num_seqs`); the items it changes against its reference arm are the floor that a
speculative arm's changes are held to (tais.analysis.floor).

A floor arm's reference is the arm with every other setting equal: found by settings, not by
name, so a hand-written config names its floor arms just by adding them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tais.config.config import Arm, Contrast, ExperimentConfig

FLOOR_KEYS = ("batch_order", "max_num_seqs")


def is_floor(arm: Arm) -> bool:
    return arm.speculative is None and (
        arm.batch_order != "battery" or arm.max_num_seqs is not None
    )


def _without_floor(arm: Arm) -> dict[str, object]:
    return arm.model_dump(mode="json", exclude={"name", *FLOOR_KEYS})


def reference_of(config: ExperimentConfig, arm: Arm) -> Arm | None:
    """The target-only arm whose numerics `arm`'s contrast is held to: the arm itself when it
    is target-only, else the arm with its pair, target and settings but no speculation and no
    subset (a speculative arm's items are among the target-only arm's)."""
    wanted = arm.model_copy(update={"speculative": None, "subset": None})
    want = _without_floor(wanted)
    for candidate in config.arms:
        plain = candidate.speculative is None and not is_floor(candidate)
        if plain and _without_floor(candidate) == want:
            return candidate
    return None


def floors_of(config: ExperimentConfig, reference: Arm) -> list[Arm]:
    """The floor arms of `reference`: equal to it in every setting but the floor's."""
    want = _without_floor(reference)
    return [a for a in config.arms if is_floor(a) and _without_floor(a) == want]


@dataclass(frozen=True)
class FloorComparison:
    """A contrast with speculation on a side, its target-only reference, and that reference's
    floor arms (none: the floor was not measured)."""

    contrast: Contrast
    reference: str
    floors: tuple[str, ...]


def floor_comparisons(config: ExperimentConfig) -> list[FloorComparison]:
    """Every contrast with a speculative arm on a side, in config order; none when the config
    has no floor arm at all (runs published before floor arms existed keep their bytes)."""
    if not any(is_floor(arm) for arm in config.arms):
        return []
    found = []
    for contrast in config.contrasts:
        a, b = config.arm(contrast.a), config.arm(contrast.b)
        if a.speculative is None and b.speculative is None:
            continue
        reference = reference_of(config, a)
        if reference is None:
            continue
        floors = tuple(f.name for f in floors_of(config, reference))
        found.append(FloorComparison(contrast, reference.name, floors))
    return found
