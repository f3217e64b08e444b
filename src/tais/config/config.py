"""Experiment configuration: one YAML file per experiment, validated strictly.

Unknown keys and wrong types fail loudly, naming the key, so that a typo never silently
falls back to a default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from tais.config.paper_figures import ArmRole
from tais.config.paper_figures import Pair as PaperPair
from tais.errors import ConfigError
from tais.io import canonical_json, read_yaml, sha256_text


def _name_check(pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            # No context: the message is used as is, so braces in the value stay literal.
            raise PydanticCustomError("name", f"{value!r} is not a valid name: {rule}")
        return value

    return AfterValidator(check)


# Names become folder and file names (runs/<experiment>/generations/<arm>.jsonl). Starting with
# a letter or digit rules out ".", ".." and hidden folders; no separator can appear.
ExperimentName = Annotated[
    str,
    _name_check(
        r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}",
        "up to 100 letters, digits, '_', '-' or '.', starting with a letter or digit",
    ),
]
# No dots in an arm name: arm `x.chunks` would write its outputs to arm `x`'s chunk file.
ArmName = Annotated[
    str,
    _name_check(
        r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}",
        "up to 100 letters, digits, '_' or '-', starting with a letter or digit",
    ),
]


def _unset(value: object) -> bool:
    return value is None


class Strict(BaseModel):
    # Keys added after runs were published are left out of dumps while at their default
    # (`exclude_if`), so a published run's config hash still re-derives unchanged.
    model_config = ConfigDict(extra="forbid", frozen=True)


class BatterySource(Strict):
    """One benchmark of the battery.

    `path` is a local JSONL of Items (the demo battery); without it `benchmark` names a
    built-in loader (tais.battery.benchmarks), which reads `data_dir` (else $TAIS_DATA_DIR, else the
    Hugging Face hub). `limit` applies per task. `jailbreak` names templates of
    bundle/prompts/jailbreak/ applied to the kept harmful items, as tasks `<task>+jailbreak`.
    `subset` keeps the items that name it in `meta["subsets"]` (e.g. the paper's `sweep`).
    """

    benchmark: str
    path: str | None = None
    tasks: list[str] | None = None
    limit: int | None = Field(default=None, ge=1)
    data_dir: str | None = None
    jailbreak: list[str] | None = Field(default=None, min_length=1)
    subset: str | None = Field(default=None, exclude_if=_unset)

    @model_validator(mode="after")
    def _data_dir_needs_a_loader(self) -> BatterySource:
        if self.path is not None and self.data_dir is not None:
            raise ValueError("give `path` (a JSONL of items) or `data_dir`, not both")
        return self


Acceptance = Literal["strict", "probabilistic"]


class Speculative(Strict):
    """Mirrors vLLM's `speculative_config`; `model` is required for `draft_model`.

    `acceptance` names the paper's setting (`strict` or `probabilistic`); the backend maps it
    to the fields the installed vLLM has (see tais.generate.backends.vllm_offline.ACCEPTANCE).
    `revision` pins a hub draft (a branch, tag or commit).
    """

    method: Literal["draft_model", "ngram"]
    num_speculative_tokens: int = Field(ge=1, le=16)
    model: str | None = None
    prompt_lookup_max: int | None = Field(default=None, ge=1)
    prompt_lookup_min: int | None = Field(default=None, ge=1)
    acceptance: Acceptance | None = Field(default=None, exclude_if=_unset)
    revision: str | None = Field(default=None, exclude_if=_unset)

    @model_validator(mode="after")
    def _model_matches_method(self) -> Speculative:
        if self.method == "draft_model" and not self.model:
            raise ValueError("method draft_model needs `model` (path of the draft)")
        if self.method == "ngram" and self.model:
            raise ValueError("method ngram takes no `model`")
        return self


Backend = Literal["vllm", "openai"]
Executor = Literal["local", "ray"]


class Http(Strict):
    """How the `openai` backend sends requests. `concurrency: 1` is the paper's protocol: one
    request at a time, with the server's counters read before and after each."""

    concurrency: int = Field(default=1, ge=1, le=1024)
    timeout_s: float = Field(default=300.0, gt=0)
    retries: int = Field(default=3, ge=0, le=20)
    backoff_s: float = Field(default=1.0, ge=0)


class HttpOverride(Strict):
    """An arm's own request settings; a key left out keeps the engine's."""

    concurrency: int | None = Field(default=None, ge=1, le=1024)
    timeout_s: float | None = Field(default=None, gt=0)
    retries: int | None = Field(default=None, ge=0, le=20)
    backoff_s: float | None = Field(default=None, ge=0)


# Settings that change how a server is reached, never what it answers: left out of an arm's
# fingerprint (with `http` but its concurrency), so raising a timeout does not invalidate a
# half-finished arm.
TRANSPORT_ONLY: dict[str, Any] = {
    "http": True,
    "serve": {"startup_timeout_s"},
    "endpoint": {"api_key_env"},
}


class Endpoint(Strict):
    """A server the user runs: tais only sends it requests.

    `base_url` ends before the endpoint path (e.g. http://127.0.0.1:8000/v1); `model` is the
    name the server knows the model by; `api_key_env` names the environment variable holding
    the API key (the key itself never enters a config or a record). `metrics_url` defaults to
    /metrics at the base URL's host.
    """

    base_url: str = Field(pattern=r"^https?://[^/\s]+(/\S*)?$")
    model: str = Field(min_length=1)
    api_key_env: str | None = None
    metrics_url: str | None = Field(default=None, pattern=r"^https?://[^/\s]+(/\S*)?$")


class Serve(Strict):
    """tais starts vLLM's OpenAI-compatible server for the arm (the arm's target, draft, dtype
    and seed, the engine's max_model_len) on a free local port and stops it when the arm ends.
    `extra_args` go to the server's command line as they are."""

    startup_timeout_s: float = Field(default=900.0, gt=0)
    extra_args: list[str] = Field(default_factory=list)


# Engine keys that say how arms are run, never what they answer.
HOW_ONLY = {"http", "executor"}


class Engine(Strict):
    """Settings shared by every arm unless the arm overrides them."""

    backend: Backend = "vllm"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    enforce_eager: bool = True
    seed: int = 0
    max_model_len: int = Field(default=512, ge=16)
    max_tokens: int = Field(default=48, ge=1)
    # Items per chunk: what a kill loses, and what the engine gets at once. Every chunk ends
    # with a tail of few sequences running (docs/performance.md, "Chunk size"); 1024 keeps
    # each arm of the demo and of the paper's CPU configs in one chunk.
    batch_size: int = Field(default=1024, ge=1)
    # A prompt longer than max_model_len: `error` stops before generating, naming it; `skip`
    # leaves it out of the battery for every arm (counted per task in environment.json).
    too_long: Literal["error", "skip"] = "error"
    # `chat` applies the target's chat template; `raw` sends the prompt text as it is, as a
    # completion endpoint does (one user message per item).
    prompt_format: Literal["chat", "raw"] = Field(default="chat", exclude_if=lambda v: v == "chat")
    # Defaults for arms on the `openai` backend; left out of dumps while unchanged, so the
    # fingerprints of offline arms stay what they were.
    http: Http = Field(default_factory=Http, exclude_if=lambda v: v == Http())
    # GPUs each engine spreads its model over (vLLM's tensor parallelism; 1 on CPU). It can
    # change float16 sums, so it enters fingerprints, but only when not 1: earlier runs keep
    # their bytes.
    tensor_parallel_size: int = Field(default=1, ge=1, le=64, exclude_if=lambda v: v == 1)
    # Where arms run: `local` (one engine process at a time on this machine) or `ray` (arms
    # side by side on a Ray cluster, see tais.generate.executors). How, not what: left out of
    # fingerprints and of the engine settings an arm records (HOW_ONLY).
    executor: Executor = Field(default="local", exclude_if=lambda v: v == "local")


# `reversed`: each chunk goes to the engine in reverse order (outputs are stored in battery
# order), so every sequence sits elsewhere in the engine's batches.
BatchOrder = Literal["battery", "reversed"]


class FloorSpec(Strict):
    """One floor arm per target-only arm of a design: the arm with these settings, named
    `<arm>-<name>`. Set at least one of `batch_order` and `max_num_seqs`."""

    name: Annotated[str, _name_check(r"[a-z0-9][a-z0-9-]{0,30}", "lower-case letters, digits, '-'")]
    batch_order: BatchOrder = "battery"
    max_num_seqs: int | None = Field(default=None, ge=1, le=4096)

    @model_validator(mode="after")
    def _changes_something(self) -> FloorSpec:
        if self.batch_order == "battery" and self.max_num_seqs is None:
            raise ValueError(f"floor {self.name}: set `batch_order` or `max_num_seqs`")
        return self


class Arm(Strict):
    """One engine configuration run over the battery.

    `subset` runs the arm on the battery's items that name it in `meta["subsets"]` only (the
    paper's N-sweep arms run on `sweep`); its contrasts then cover the items both arms share.
    `revision` pins a hub target. `tensor_parallel_size` overrides the engine's.
    """

    name: ArmName
    pair: str
    target: str
    speculative: Speculative | None = None
    dtype: Literal["float32", "float16", "bfloat16"] | None = None
    seed: int | None = None
    # How the arm is served, when not as the engine says: `backend: openai` with an `endpoint`
    # the user runs, or a server tais starts (`serve`, the default). `http` overrides the
    # engine's request settings key by key. With an endpoint, `target` names the model as the
    # fingerprint records it (a local folder is hashed), and `speculative`, `dtype` record
    # what the server was started with: tais cannot check them.
    backend: Backend | None = Field(default=None, exclude_if=lambda v: v is None)
    endpoint: Endpoint | None = Field(default=None, exclude_if=lambda v: v is None)
    serve: Serve | None = Field(default=None, exclude_if=lambda v: v is None)
    http: HttpOverride | None = Field(default=None, exclude_if=lambda v: v is None)
    subset: str | None = Field(default=None, exclude_if=_unset)
    revision: str | None = Field(default=None, exclude_if=_unset)
    tensor_parallel_size: int | None = Field(default=None, ge=1, le=64, exclude_if=_unset)
    # The numerics floor (tais.config.floors): settings that move the engine's arithmetic the
    # way speculation does, without speculating. Each enters the fingerprint only when set.
    batch_order: BatchOrder = Field(default="battery", exclude_if=lambda v: v == "battery")
    max_num_seqs: int | None = Field(default=None, ge=1, le=4096, exclude_if=_unset)
    # vLLM's batch-invariant kernels (VLLM_BATCH_INVARIANT=1), where the platform has them.
    batch_invariant: bool = Field(default=False, exclude_if=lambda v: v is False)

    @model_validator(mode="after")
    def _one_way_to_serve(self) -> Arm:
        if self.endpoint is not None and self.serve is not None:
            raise ValueError("give `endpoint` (a running server) or `serve`, not both")
        if self.backend == "vllm" and (self.endpoint or self.serve or self.http):
            raise ValueError("`endpoint`, `serve` and `http` need backend openai")
        engine_side = [k for k in ("max_num_seqs", "batch_invariant") if getattr(self, k)]
        if engine_side and (self.endpoint is not None or self.serve is not None):
            raise ValueError(f"`{engine_side[0]}` is an offline engine setting (backend vllm)")
        return self


def arm_backend(arm: Arm, engine: Engine) -> Backend:
    """The arm's own backend, else `openai` when it names a server, else the engine's."""
    if arm.backend is not None:
        return arm.backend
    if arm.endpoint is not None or arm.serve is not None:
        return "openai"
    return engine.backend


def arm_tensor_parallel(arm: Arm, engine: Engine) -> int:
    """How many GPUs the arm's engine takes: the arm's own setting, else the engine's."""
    if arm.tensor_parallel_size is not None:
        return arm.tensor_parallel_size
    return engine.tensor_parallel_size


def arm_http(arm: Arm, engine: Engine) -> Http:
    own = arm.http.model_dump(exclude_none=True) if arm.http is not None else {}
    return Http.model_validate({**engine.http.model_dump(), **own})


class Contrast(Strict):
    """Arm `a` (the reference) against arm `b`. `gated: false` reports the contrast with its
    statistics but keeps it out of the experiment's verdict (e.g. a draft alone against its
    target alone: two different models, expected to differ)."""

    a: str
    b: str
    gated: bool = Field(default=True, exclude_if=lambda v: v is True)

    @property
    def name(self) -> str:
        return f"{self.a}~{self.b}"


class JudgeSpec(Strict):
    """A judge by registered name, with the options its constructor takes."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class Analysis(Strict):
    """`bootstrap_resamples` and `bootstrap_seed` drive the N-sweep's slope interval
    (tais.analysis.trend.sweep_trend)."""

    margin: float = Field(default=0.03, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    method: Literal["tango", "newcombe", "wald"] = "tango"
    h_cutoff: float = Field(default=0.1, gt=0)
    # Whose labels make the verdict: refusals (harmful, benign), accuracy (capability) and
    # scores (scored).
    judge: str = "keyword"
    capability_judge: str = Field(
        default="multiple_choice", exclude_if=lambda v: v == "multiple_choice"
    )
    score_judge: str = Field(default="paper", exclude_if=lambda v: v == "paper")
    bootstrap_resamples: int = Field(default=2000, ge=1, exclude_if=lambda v: v == 2000)
    bootstrap_seed: int = Field(default=0, exclude_if=lambda v: v == 0)


class Member(Strict):
    """An arm as a member of a design's group (tais.config.design): the group and the phase (e.g.
    the
    paper's P1 for a model alone, P4 for the N-sweep) it stands for. A model alone may be a
    member of several groups."""

    arm: str
    group: str
    phase: str


class PaperLink(Strict):
    """How a design's arms stand for the paper's printed figures (tais.analysis.reproduction).

    `experiment`: the paper's experiment (E0 ... E5) whose figures the report sets beside
    this run's values. `pairs`: for each pair of the paper (named by its target, as in
    bundle/paper/figures.yaml), the pair of this config that stands for it. `roles`: for each
    arm role of the paper (`target-only`, `speculative-strict`, `bf16`, ...), the groups of
    this design that play it. `stand_in`: the models are not the paper's (the CPU profile's
    tiny models), so the table checks the pipeline, not the paper's numbers.
    """

    experiment: Literal["E0", "E1", "E2", "E3", "E4", "E5"]
    stand_in: bool = False
    pairs: dict[PaperPair, str] = Field(min_length=1)
    roles: dict[ArmRole, list[str]] = Field(min_length=1)


DEFAULT_JUDGES: tuple[str | JudgeSpec, ...] = ("keyword", "multiple_choice")


class ExperimentConfig(Strict):
    experiment: ExperimentName
    description: str = ""
    battery: list[BatterySource] = Field(min_length=1)
    engine: Engine = Engine()
    arms: list[Arm] = Field(min_length=1)
    contrasts: list[Contrast] = Field(default_factory=list)
    judges: list[str | JudgeSpec] = Field(default_factory=lambda: [*DEFAULT_JUDGES])
    analysis: Analysis = Analysis()
    # Written by tais.config.design.expand; a hand-written config has none. The analysis reads the
    # groups and phases for the N-sweep and the pooled rates.
    members: list[Member] = Field(default_factory=list, exclude_if=lambda v: not v)
    paper: PaperLink | None = Field(default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _names_resolve(self) -> ExperimentConfig:
        names = [arm.name for arm in self.arms]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"arm names must be unique; repeated: {', '.join(duplicated)}")
        for contrast in self.contrasts:
            for side in (contrast.a, contrast.b):
                if side not in names:
                    known = ", ".join(names)
                    raise ValueError(
                        f"contrast {contrast.name}: unknown arm {side!r}; arms: {known}"
                    )
        phases: dict[str, str] = {}
        seen: set[tuple[str, str]] = set()
        for member in self.members:
            if member.arm not in names:
                raise ValueError(f"members: unknown arm {member.arm!r}")
            if (member.arm, member.group) in seen:
                raise ValueError(f"members: arm {member.arm} listed twice in group {member.group}")
            seen.add((member.arm, member.group))
            if phases.setdefault(member.arm, member.phase) != member.phase:
                raise ValueError(
                    f"members: arm {member.arm} in phases {phases[member.arm]} and {member.phase}"
                )
        self._paper_resolves()
        for arm in self.arms:
            if arm.http is not None and arm_backend(arm, self.engine) != "openai":
                raise ValueError(f"arm {arm.name}: `http` needs backend openai")
        judges = [spec.name for spec in self.judge_specs()]
        for key in sorted(self.analysis.model_fields_set & {"capability_judge", "score_judge"}):
            if getattr(self.analysis, key) not in judges:
                raise ValueError(
                    f"analysis.{key}: judge {getattr(self.analysis, key)!r} is not one of "
                    f"`judges` ({', '.join(judges)})"
                )
        return self

    def _paper_resolves(self) -> None:
        if self.paper is None:
            return
        # Paper pairs may name pairs this experiment does not run (a profile maps all four
        # once); the design checks that each names one of its pairs.
        groups = {m.group for m in self.members}
        for role, listed in self.paper.roles.items():
            for group in listed:
                if group not in groups:
                    known = ", ".join(sorted(groups)) or "none"
                    raise ValueError(
                        f"paper.roles.{role}: unknown group {group!r}; groups: {known}"
                    )

    def judge_specs(self) -> list[JudgeSpec]:
        return [j if isinstance(j, JudgeSpec) else JudgeSpec(name=j) for j in self.judges]

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise ConfigError(f"unknown arm {name!r}; arms are {', '.join(a.name for a in self.arms)}")

    def config_hash(self) -> str:
        return sha256_text(canonical_json(self.model_dump(mode="json")))


def describe_validation(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}")
        else:
            lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)


def parse_config(data: Any, source: str = "config") -> ExperimentConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation(exc)}") from None


def load_config(path: Path) -> ExperimentConfig:
    """Read and validate an experiment YAML. Relative paths inside stay relative to the CWD."""
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    return parse_config(read_yaml(path, ConfigError), str(path))
