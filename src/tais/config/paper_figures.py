"""The paper's printed figures (bundle/paper/figures.yaml): what each measures, its inputs.

Each figure names what it measures (experiment, phases, pair, arms, task, statistic), the
value as printed, and where the paper or its report states them, the inputs it should follow
from: counts k of n, discordant pairs, the terms of a sum. tais.paper.check recomputes each
figure from those inputs; the reproduction table compares it with a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tais.errors import ConfigError

FIGURES = Path("bundle/paper/figures.yaml")

Experiment = Literal["E0", "E1", "E2", "E3", "E4", "E5", "E2-E5", "E1-E5", "E0-E5"]
Phase = Literal["P1", "P2", "P3", "P4", "P5"]
Pair = Literal["llama-3b", "qwen-3b", "qwen-1.5b", "llama-70b"]
# The arms of the paper's design, by role: P2 is strict, P3 and P4 probabilistic acceptance;
# the E2-E5 variants name what differs from the canonical fp16 seed-123 speculative arm.
ArmRole = Literal[
    "target-only",
    "draft-only",
    "speculative",
    "speculative-strict",
    "speculative-probabilistic",
    "canonical-draft",
    "adversarial-draft",
    "gptq-draft",
    "seed-123",
    "seed-456",
    "fp16",
    "bf16",
]
# The six tasks of the paper's battery, its two domains, and the whole battery.
Task = Literal[
    "advbench",
    "jailbreak_amplification",
    "bbq",
    "truthfulqa",
    "mmlu",
    "arc_challenge",
    "safety",
    "capability",
    "battery",
]
Statistic = Literal[
    "rate",
    "identity_share",
    "changed_share_range",
    "acceptance_rate",
    "max_abs_cohens_h",
    "tost_passes",
    "mcnemar_p",
    "judge_agreement",
    "cohens_kappa",
    "generations",
]
FigureId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,99}$")]
Term = int | FigureId

_NUMBER = re.compile(r"(?P<sign>-?)(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?P<frac>\.\d+)?(?P<pct>%?)")
_FRACTION = re.compile(r"(?P<k>\d{1,3}(?:,\d{3})+|\d+)/(?P<n>\d{1,3}(?:,\d{3})+|\d+)")
_RANGE = re.compile(r"\[(?P<low>[^,\]]+),\s*(?P<high>[^,\]]+)\]")


@dataclass(frozen=True)
class Printed:
    """A number as printed: its value (a share for a percentage) and the rounding it implies."""

    text: str
    value: float
    decimals: int
    percent: bool

    @property
    def half_unit(self) -> float:
        """Half the last printed digit, in value units: what rounding alone can explain."""
        return 0.5 * 10.0 ** -(self.decimals + (2 if self.percent else 0))

    def format_like(self, value: float) -> str:
        """`value` with two more digits than printed, in the printed unit."""
        if self.percent:
            return f"{100.0 * value:.{self.decimals + 2}f}%"
        if self.decimals == 0 and float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:.{self.decimals + 2}f}"


def parse_number(text: str) -> Printed:
    """'0.790', '.839', '90.66%', '16,783' as printed; ValueError for anything else."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None or not (match["int"] or match["frac"]):
        raise ValueError(f"{text!r} is not a printed number")
    digits = match["int"].replace(",", "") or "0"
    frac = match["frac"] or ""
    value = float(f"{match['sign']}{digits}{frac}")
    percent = match["pct"] == "%"
    return Printed(
        text.strip(), value / 100.0 if percent else value, max(len(frac) - 1, 0), percent
    )


def parse_fraction(text: str) -> tuple[int, int] | None:
    """'881/953' or '4,006/4,006' printed as counts: (k, n); None when not of that form."""
    match = _FRACTION.fullmatch(text.strip())
    if match is None:
        return None
    k, n = int(match["k"].replace(",", "")), int(match["n"].replace(",", ""))
    if n == 0 or k > n:
        raise ValueError(f"{text!r}: counts must satisfy 0 <= k <= n, n > 0")
    return k, n


def parse_range(text: str) -> tuple[Printed, Printed] | None:
    """'[0.783, 0.884]' or '[36%, 53%]': both ends; None when not of that form."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        return None
    return parse_number(match["low"]), parse_number(match["high"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(Strict):
    """One printed figure. `printed` is a number ('0.790', '90.66%', '16,783'), counts
    ('881/953') or a range ('[36%, 53%]'), exactly as the source prints it.

    Inputs, at most one kind per figure:
    - k of n (a share; with `interval`, its Wilson interval), or `pooled_from` figures whose
      k and n add up to this one's;
    - n with `score_step` and no k: a mean of n item scores in steps of score_step (1 for
      0/1 scores), so the printed value must be some multiple of score_step / n;
    - only_a and only_b: the discordant pairs of an exact McNemar test;
    - sum_of or product_of: numbers or ids of other `generations` figures;
    - range_of: figures with counts whose shares (1 - share with `complement`) span the range.
    """

    id: FigureId
    description: str
    source: Literal["paper", "report"]
    experiment: Experiment | None = None
    phases: list[Phase] = Field(default_factory=list)
    pair: Pair | None = None
    arms: list[ArmRole] = Field(default_factory=list)
    task: Task | None = None
    statistic: Statistic
    printed: str
    interval: str | None = None
    interval_method: Literal["wilson"] | None = None
    k: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, ge=1)
    score_step: float | None = Field(default=None, gt=0, le=1)
    pooled_from: list[FigureId] | None = Field(default=None, min_length=2)
    only_a: int | None = Field(default=None, ge=0)
    only_b: int | None = Field(default=None, ge=0)
    sum_of: list[Term] | None = Field(default=None, min_length=1)
    product_of: list[Term] | None = Field(default=None, min_length=2)
    range_of: list[FigureId] | None = Field(default=None, min_length=2)
    complement: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _inputs_fit(self) -> Figure:
        groups = {
            "k/n": any(v is not None for v in (self.k, self.n, self.score_step, self.pooled_from)),
            "only_a/only_b": self.only_a is not None or self.only_b is not None,
            "sum_of": self.sum_of is not None,
            "product_of": self.product_of is not None,
            "range_of": self.range_of is not None,
        }
        present = [name for name, used in groups.items() if used]
        if len(present) > 1:
            raise ValueError(f"give one kind of inputs, not {' and '.join(present)}")
        self._check_printed()
        if (self.k is None) != (self.n is None) and self.score_step is None:
            raise ValueError("`k` and `n` go together")
        if self.score_step is not None and (self.k is not None or self.n is None):
            raise ValueError("`score_step` takes `n` and no `k`")
        if (self.only_a is None) != (self.only_b is None):
            raise ValueError("`only_a` and `only_b` go together")
        if self.complement and self.range_of is None:
            raise ValueError("`complement` needs `range_of`")
        if (self.interval is None) != (self.interval_method is None):
            raise ValueError("`interval` and `interval_method` go together")
        if self.interval is not None:
            if parse_range(self.interval) is None:
                raise ValueError(f"interval {self.interval!r} is not of the form [low, high]")
            if self.counts is None and self.pooled_from is None:
                raise ValueError("an interval needs counts: `k` and `n`, or `pooled_from`")
        return self

    def _check_printed(self) -> None:
        fraction = parse_fraction(self.printed)
        if self.statistic == "changed_share_range":
            if parse_range(self.printed) is None:
                raise ValueError(f"printed {self.printed!r}: a range is printed as [low, high]")
            return
        if self.range_of is not None:
            raise ValueError("`range_of` belongs to a changed_share_range figure")
        if fraction is not None:
            if self.k is not None or self.n is not None:
                raise ValueError("printed as counts: leave out `k` and `n`")
            return
        printed = parse_number(self.printed)
        if self.statistic == "generations" and printed.decimals + printed.percent:
            raise ValueError(f"printed {self.printed!r}: a count of generations is an integer")

    @property
    def counts(self) -> tuple[int, int] | None:
        """(k, n) stated as inputs or printed as counts; None otherwise."""
        if self.k is not None and self.n is not None:
            return self.k, self.n
        return parse_fraction(self.printed)

    def references(self) -> list[str]:
        terms = [*(self.sum_of or []), *(self.product_of or [])]
        refs = [t for t in terms if isinstance(t, str)]
        return [*refs, *(self.pooled_from or []), *(self.range_of or [])]


class FigureFile(Strict):
    source: str
    figures: list[Figure] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> FigureFile:
        by_id: dict[str, Figure] = {}
        for figure in self.figures:
            if figure.id in by_id:
                raise ValueError(f"figure id {figure.id!r} is used twice")
            by_id[figure.id] = figure
        for figure in self.figures:
            for ref in figure.references():
                target = by_id.get(ref)
                if target is None:
                    raise ValueError(f"figure {figure.id}: unknown figure {ref!r}")
                if (figure.sum_of or figure.product_of) and target.statistic != "generations":
                    raise ValueError(f"figure {figure.id}: {ref!r} is not a count of generations")
                if (figure.pooled_from or figure.range_of) and target.counts is None:
                    raise ValueError(f"figure {figure.id}: {ref!r} states no counts k of n")
        _refuse_cycles(by_id)
        return self

    def by_id(self) -> dict[str, Figure]:
        return {figure.id: figure for figure in self.figures}


def _refuse_cycles(by_id: dict[str, Figure]) -> None:
    done: set[str] = set()

    def visit(fid: str, path: tuple[str, ...]) -> None:
        if fid in path:
            raise ValueError(f"figures refer to each other in a cycle: {' -> '.join(path)}")
        if fid in done:
            return
        for ref in by_id[fid].references():
            visit(ref, (*path, fid))
        done.add(fid)

    for fid in by_id:
        visit(fid, ())


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """Each error with its path, a figure named by its id rather than its position."""
    figures = data.get("figures")
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if len(loc) >= 2 and loc[0] == "figures" and isinstance(figures, list):
            index = int(loc[1])
            entry = figures[index] if index < len(figures) else None
            fid = entry.get("id") if isinstance(entry, dict) else None
            loc[1] = f"[{fid}]" if isinstance(fid, str) else f"[{index}]"
            loc = [f"{loc[0]}{loc[1]}", *loc[2:]]
        where = ".".join(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}")
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{where}: {message}")
    return "; ".join(lines)


def parse_figures(data: Any, source: str = "figures") -> FigureFile:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return FigureFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc, data)}") from None


def load_figures(path: Path = FIGURES) -> FigureFile:
    """Read and validate a figures file; any problem is a ConfigError naming the key."""
    if not path.is_file():
        raise ConfigError(f"figures file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_figures(data, str(path))
