"""Experiment designs: arms as pairs x phases, expanded into a plain ExperimentConfig.

The paper's experiments (bundle/configs/experiments/) are written as a design: named models,
pairs of a target and its drafts (by role: `canonical`, `adversarial`, `quantised`), sets of
pairs, phases (a number of speculative tokens, or several, with an acceptance setting and an
optional battery subset), and groups of arms:

- an `alone` group runs one model of each pair alone (`target`, or a draft role);
- a `draft` group runs each pair's target with that draft in each of its phases.

Group contrasts pair arms of two groups: on the same pair, and, where both groups have
phases, on the same phase and number of speculative tokens. `expand` turns a design into the
ExperimentConfig every later stage reads; its `members` say which group and phase each arm
stands for, which is all the analysis knows of the design (the N-sweep, pooled rates).

Arm names: `<model>-alone[-s<seed>][-<dtype>]` for a model alone (one arm per model, whichever
groups list it) and `<pair>-<group>-<phase>[-k<N>]` for speculation (`-k<N>` where the phase
has several N).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from tais.config.config import (
    Acceptance,
    Analysis,
    Arm,
    ArmName,
    BatterySource,
    Contrast,
    Engine,
    ExperimentConfig,
    ExperimentName,
    FloorSpec,
    JudgeSpec,
    Member,
    PaperLink,
    Speculative,
    Strict,
    parse_config,
)
from tais.errors import ConfigError

Dtype = Literal["float32", "float16", "bfloat16"]
ALONE_PHASE = "P1"
# A floor arm's phase (tais.config.floors): a target alone with other batching.
FLOOR_PHASE = "floor"


class ModelRef(Strict):
    """A model: a Hugging Face id (with `revision`) or a local folder.

    `size_gb` is an approximate download size for `tais plan` only (it cannot ask the hub);
    nothing checks a model against it. `tensor_parallel_size` is given to every arm with this
    model as its target (the engine's applies otherwise).
    """

    model: str
    revision: str | None = None
    size_gb: float | None = Field(default=None, gt=0)
    note: str = ""
    tensor_parallel_size: int | None = Field(default=None, ge=1, le=64)


# A draft role whose value is this runs vLLM's n-gram drafter (prompt lookup) instead of a
# draft model: for a model with no usable draft (Gemma 3's self-draft, docs/models.md).
NGRAM = "ngram"
# Prompt lookup of 2 to 4 tokens, as the demo's n-gram arm (bundle/configs/demo.yaml).
NGRAM_LOOKUP_MAX, NGRAM_LOOKUP_MIN = 4, 2


class Pair(Strict):
    target: str
    drafts: dict[str, str] = Field(min_length=1)


class Phase(Strict):
    num_speculative_tokens: list[int] = Field(min_length=1)
    acceptance: Acceptance
    subset: str | None = None


class Group(Strict):
    name: ArmName
    pairs: str
    alone: str | None = None
    draft: str | None = None
    phases: list[str] = Field(default_factory=list)
    seed: int | None = None
    dtype: Dtype | None = None
    # vLLM's batch-invariant kernels (tais.generate.batch_invariance); `-bi` in arm names.
    batch_invariant: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Group:
        if (self.alone is None) == (self.draft is None):
            raise ValueError(
                f"group {self.name}: give `alone` (a model alone) or `draft` (speculation)"
            )
        if self.draft is not None and not self.phases:
            raise ValueError(f"group {self.name}: `draft` needs `phases`")
        if self.alone is not None and self.phases:
            raise ValueError(f"group {self.name}: a model alone takes no `phases`")
        return self


class GroupContrast(Strict):
    a: str
    b: str
    gated: bool = True


class Design(Strict):
    experiment: ExperimentName
    description: str = ""
    battery: list[BatterySource] = Field(min_length=1)
    engine: Engine = Engine()
    judges: list[str | JudgeSpec]
    analysis: Analysis = Analysis()
    # Model and pair names become parts of arm names.
    models: dict[ArmName, ModelRef] = Field(min_length=1)
    pairs: dict[ArmName, Pair] = Field(min_length=1)
    pair_sets: dict[str, list[str]] = Field(min_length=1)
    phases: dict[str, Phase] = Field(default_factory=dict)
    groups: list[Group] = Field(min_length=1)
    contrasts: list[GroupContrast] = Field(default_factory=list)
    paper: PaperLink | None = None
    # The numerics floor (tais.config.floors): each target-only arm gets one arm per entry.
    floors: list[FloorSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> Design:
        def known(where: str, kind: str, name: str, names: Mapping[str, object]) -> None:
            if name not in names:
                listed = ", ".join(names) or "none"
                raise ValueError(f"{where}: unknown {kind} {name!r}; the {kind}s are {listed}")

        for pair_name, pair in self.pairs.items():
            for model in [pair.target, *pair.drafts.values()]:
                if model != NGRAM:
                    known(f"pair {pair_name}", "model", model, self.models)
        for set_name, members in self.pair_sets.items():
            for member in members:
                known(f"pair set {set_name}", "pair", member, self.pairs)
        names = [g.name for g in self.groups]
        for group in self.groups:
            if names.count(group.name) > 1:
                raise ValueError(f"group names must be unique; repeated: {group.name}")
            where = f"group {group.name}"
            known(where, "pair set", group.pairs, self.pair_sets)
            for phase in group.phases:
                known(where, "phase", phase, self.phases)
            role = group.draft if group.draft is not None else group.alone
            if role is None or (role == "target" and group.draft is None):
                continue
            for pair_name in self.pair_sets[group.pairs]:
                drafts = self.pairs[pair_name].drafts
                known(f"{where}, pair {pair_name}", "draft role", role, drafts)
        for paper_pair, pair_name in (self.paper.pairs if self.paper else {}).items():
            known(f"paper.pairs.{paper_pair}", "pair", pair_name, self.pairs)
        for contrast in self.contrasts:
            for side in (contrast.a, contrast.b):
                if side not in names:
                    raise ValueError(
                        f"contrast {contrast.a} vs {contrast.b}: unknown group {side!r}; "
                        f"groups: {', '.join(names)}"
                    )
        return self


@dataclass(frozen=True)
class Slot:
    """One arm as a member of a group: which pair, phase and N it stands for."""

    group: str
    pair: str
    phase: str
    k: int | None
    arm: str


@dataclass(frozen=True)
class Expanded:
    config: ExperimentConfig
    models: dict[str, ModelRef]  # by `model` (hub id or folder)

    @property
    def members(self) -> list[Member]:
        return self.config.members

    def phase_of(self, arm: str) -> str:
        """The arm's phase (P1 for a model alone)."""
        return next(m.phase for m in self.members if m.arm == arm)

    def group_of(self, arm: str) -> str:
        """The first group that lists the arm."""
        return next(m.group for m in self.members if m.arm == arm)


def _variant(group: Group) -> str:
    suffix = f"-s{group.seed}" if group.seed is not None else ""
    suffix += f"-{group.dtype}" if group.dtype is not None else ""
    return suffix + ("-bi" if group.batch_invariant else "")


def _arm(
    name: str,
    pair: str,
    target: ModelRef,
    group: Group,
    speculative: Speculative | None = None,
    subset: str | None = None,
) -> Arm:
    return Arm(
        name=name,
        pair=pair,
        target=target.model,
        revision=target.revision,
        speculative=speculative,
        seed=group.seed,
        dtype=group.dtype,
        subset=subset,
        tensor_parallel_size=target.tensor_parallel_size,
        batch_invariant=group.batch_invariant,
    )


def _group_arms(design: Design, group: Group) -> list[tuple[Slot, Arm]]:
    found = []
    for pair_name in design.pair_sets[group.pairs]:
        pair = design.pairs[pair_name]
        if group.alone is not None:
            key = pair.target if group.alone == "target" else pair.drafts[group.alone]
            if key == NGRAM:
                raise ConfigError(f"group {group.name}: the n-gram drafter cannot run alone")
            name = f"{key}-alone{_variant(group)}"
            arm = _arm(name, pair_name, design.models[key], group)
            found.append((Slot(group.name, pair_name, ALONE_PHASE, None, name), arm))
            continue
        assert group.draft is not None
        draft_key = pair.drafts[group.draft]
        draft = None if draft_key == NGRAM else design.models[draft_key]
        for phase_name in group.phases:
            phase = design.phases[phase_name]
            for k in phase.num_speculative_tokens:
                name = f"{pair_name}-{group.name}-{phase_name.lower()}"
                if len(phase.num_speculative_tokens) > 1:
                    name += f"-k{k}"
                if draft is None:
                    speculative = Speculative(
                        method="ngram",
                        num_speculative_tokens=k,
                        acceptance=phase.acceptance,
                        prompt_lookup_max=NGRAM_LOOKUP_MAX,
                        prompt_lookup_min=NGRAM_LOOKUP_MIN,
                    )
                else:
                    speculative = Speculative(
                        method="draft_model",
                        model=draft.model,
                        revision=draft.revision,
                        num_speculative_tokens=k,
                        acceptance=phase.acceptance,
                    )
                target = design.models[pair.target]
                arm = _arm(name, pair_name, target, group, speculative, phase.subset)
                found.append((Slot(group.name, pair_name, phase_name, k, name), arm))
    return found


def _matches(a: Slot, b: Slot) -> bool:
    if a.pair != b.pair:
        return False
    if ALONE_PHASE in (a.phase, b.phase):
        return True
    return (a.phase, a.k) == (b.phase, b.k)


def _is_target_alone(design: Design, arm: Arm) -> bool:
    """A pair's target alone (not a draft alone: its floor measures another model)."""
    return (
        arm.speculative is None and arm.target == design.models[design.pairs[arm.pair].target].model
    )


def expand(design: Design, experiment: str) -> Expanded:
    """The design as an ExperimentConfig named `experiment`."""
    arms: dict[str, Arm] = {}
    members: list[Slot] = []
    for group in design.groups:
        for member, arm in _group_arms(design, group):
            seen = arms.get(arm.name)
            if seen is None:
                arms[arm.name] = arm
            elif seen.model_copy(update={"pair": arm.pair}) != arm:
                raise ConfigError(f"arm {arm.name}: two groups give it different settings")
            members.append(member)
    for name in [n for n, a in arms.items() if _is_target_alone(design, a)]:
        for floor in design.floors:
            arm = arms[name]
            floor_arm = arm.model_copy(
                update={
                    "name": f"{name}-{floor.name}",
                    "batch_order": floor.batch_order,
                    "max_num_seqs": floor.max_num_seqs,
                }
            )
            arms.setdefault(floor_arm.name, floor_arm)
            slot = Slot(f"floor-{floor.name}", arm.pair, FLOOR_PHASE, None, floor_arm.name)
            members.append(slot)
    contrasts: dict[str, Contrast] = {}
    for spec in design.contrasts:
        side_a = [m for m in members if m.group == spec.a]
        side_b = [m for m in members if m.group == spec.b]
        found = [
            Contrast(a=a.arm, b=b.arm, gated=spec.gated)
            for b in side_b
            for a in side_a
            if _matches(a, b) and a.arm != b.arm
        ]
        if not found:
            raise ConfigError(f"contrast {spec.a} vs {spec.b}: no arms of the two groups match")
        for contrast in found:
            contrasts.setdefault(contrast.name, contrast)
    data = {
        "experiment": experiment,
        "description": design.description,
        "battery": [s.model_dump(mode="json") for s in design.battery],
        "engine": design.engine.model_dump(mode="json"),
        "arms": [a.model_dump(mode="json") for a in arms.values()],
        "contrasts": [c.model_dump(mode="json") for c in contrasts.values()],
        "judges": [j if isinstance(j, str) else j.model_dump(mode="json") for j in design.judges],
        "analysis": design.analysis.model_dump(mode="json"),
        # A model alone appears once per pair of a group's pair set that has it.
        "members": list(
            {
                (m.arm, m.group): {"arm": m.arm, "group": m.group, "phase": m.phase}
                for m in members
            }.values()
        ),
    }
    if design.paper is not None:
        data["paper"] = design.paper.model_dump(mode="json")
    return Expanded(
        config=parse_config(data, f"experiment {experiment}"),
        models={ref.model: ref for ref in design.models.values()},
    )
