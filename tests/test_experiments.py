"""The paper's experiment files: profiles, designs, the acceptance setting, plans and limits."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tais.battery.battery import arm_items, build_battery
from tais.battery.benchmarks.registry import DATA_DIR_ENV
from tais.cli import main
from tais.config.config import Arm, Engine, load_config, parse_config
from tais.config.floors import is_floor
from tais.config.profiles import load_experiment, merge
from tais.errors import ConfigError
from tais.generate.arms import output_key, resolved_engine
from tais.plan import make_plan

from .conftest import ROOT

EXPERIMENTS = ROOT / "bundle" / "configs" / "experiments"
DATA = Path(os.environ.get(DATA_DIR_ENV) or ROOT.parent / "shared" / "data")
NAMES = ["e0", "e1", "e2", "e3", "e4", "e5"]
# EXPERIMENTS.md, "Naming" and "The experiments": the paper's sample sizes.
PAPER_E0 = {"P1": 4765, "P2": 2859, "P3": 2859, "P4": 6300}
PAPER_E0_TOTAL = 16783
PAPER_EXPANSION_PER_DRAFT = 4006  # E1, E2 and E3 each; E4 is 6 of them, E5 3


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def demo_plain() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "bundle/configs/demo.yaml").read_text())
    return data


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DATA.is_dir(), f"the benchmark mirror is expected at {DATA}"
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA))


# Profiles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("profile", ["gpu", "cpu"])
def test_every_experiment_resolves_in_both_profiles(name: str, profile: str) -> None:
    loaded = load_experiment(EXPERIMENTS / f"{name}.yaml", profile)
    assert loaded.config.experiment == f"{name}-{profile}"
    # What is published as config.yaml reads back as the same config, without profiles.
    assert yaml.safe_load(loaded.text)["experiment"] == loaded.config.experiment
    again = parse_config(yaml.safe_load(loaded.text))
    assert again.config_hash() == loaded.config.config_hash()


def test_the_gpu_profile_is_the_papers_setup() -> None:
    config = load_experiment(EXPERIMENTS / "e0.yaml", "gpu").config
    engine = config.engine
    assert (engine.dtype, engine.max_model_len, engine.max_tokens, engine.seed) == (
        "float16",
        2048,
        256,
        42,
    )
    for arm in config.arms:
        assert "/" in arm.target and not Path(arm.target).exists()  # a hub id
        assert arm.revision
        if arm.speculative is not None:
            assert arm.speculative.revision
    spec = [arm.speculative for arm in config.arms if arm.speculative is not None]
    assert {s.num_speculative_tokens for s in spec} == {1, 3, 5, 8, 12}
    assert {s.acceptance for s in spec} == {"strict", "probabilistic"}


def test_the_cpu_profile_uses_the_bundled_models_in_the_same_arms() -> None:
    gpu = load_experiment(EXPERIMENTS / "e2.yaml", "gpu").config
    cpu = load_experiment(EXPERIMENTS / "e2.yaml", "cpu").config
    assert all(Path(arm.target).is_dir() for arm in cpu.arms)
    drafts = {arm.speculative.model for arm in cpu.arms if arm.speculative}
    assert all(Path(str(d)).is_dir() for d in drafts)
    assert cpu.engine.dtype == "float32" and cpu.engine.seed == gpu.engine.seed == 123

    def shape(config: Any) -> list[tuple[Any, ...]]:
        return [
            (
                a.speculative.num_speculative_tokens if a.speculative else None,
                a.speculative.acceptance if a.speculative else None,
                a.subset,
                a.seed,
                a.dtype,
            )
            for a in config.arms
        ]

    assert shape(cpu) == shape(gpu)
    assert [(c.gated) for c in cpu.contrasts] == [c.gated for c in gpu.contrasts]


def test_precedence_base_then_its_profile_then_file_then_its_profile(tmp_path: Path) -> None:
    base = demo_plain()
    base["engine"]["max_tokens"] = 10
    base["engine"]["seed"] = 1
    base["profiles"] = {"small": {"engine": {"max_tokens": 20, "batch_size": 8}}}
    write(tmp_path / "base.yaml", base)
    top = {
        "extends": "base.yaml",
        "experiment": "layered",
        "engine": {"max_tokens": 30},
        "profiles": {"small": {"engine": {"seed": 7}}, "other": {}},
    }
    path = write(tmp_path / "exp.yaml", top)
    config = load_experiment(path, "small").config
    # The file's top level beats the base's profile; the file's profile beats both; keys
    # nobody overrides come through from the base.
    assert config.engine.max_tokens == 30
    assert config.engine.seed == 7
    assert config.engine.batch_size == 8
    assert config.engine.max_model_len == base["engine"]["max_model_len"]
    assert config.experiment == "layered-small"
    other = load_experiment(path, "other").config
    assert (other.engine.seed, other.engine.batch_size) == (1, base["engine"]["batch_size"])


def test_merge_replaces_lists_and_merges_mappings() -> None:
    assert merge({"a": {"b": 1, "c": [1, 2]}}, {"a": {"c": [3]}}) == {"a": {"b": 1, "c": [3]}}


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("top", "unknown key 'arms_typo'"),
        ("profile", "unknown key 'arms_typo'"),
        ("nested", r"unknown key 'engine\.max_token'"),
    ],
)
def test_unknown_keys_fail_naming_the_key(tmp_path: Path, where: str, message: str) -> None:
    data: dict[str, Any] = yaml.safe_load((EXPERIMENTS / "e0.yaml").read_text())
    data["extends"] = str(EXPERIMENTS / "base.yaml")
    if where == "top":
        data["arms_typo"] = []
    elif where == "profile":
        data["profiles"] = {"cpu": {"arms_typo": []}}
    else:
        data["profiles"] = {"cpu": {"engine": {"max_token": 3}}}
    path = write(tmp_path / "e0.yaml", data)
    with pytest.raises(ConfigError, match=message):
        load_experiment(path, "cpu")


def test_unknown_key_in_a_group_is_named(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load((EXPERIMENTS / "e0.yaml").read_text())
    data["extends"] = str(EXPERIMENTS / "base.yaml")
    data["groups"][0]["sead"] = 5
    with pytest.raises(ConfigError, match=r"unknown key 'groups\.0\.sead'"):
        load_experiment(write(tmp_path / "e0.yaml", data), "cpu")


def test_profile_errors_name_the_profiles(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no profile 'tpu'; its profiles: cpu, gpu, small"):
        load_experiment(EXPERIMENTS / "e0.yaml", "tpu")
    with pytest.raises(ConfigError, match=r"choose a profile \(cpu, gpu, small\)"):
        load_experiment(EXPERIMENTS / "e0.yaml", None)
    plain = write(tmp_path / "plain.yaml", demo_plain())
    with pytest.raises(ConfigError, match="no profile 'cpu'; its profiles: none"):
        load_experiment(plain, "cpu")
    loop = write(tmp_path / "loop.yaml", {"extends": "loop.yaml", "experiment": "x"})
    with pytest.raises(ConfigError, match="loops back"):
        load_experiment(loop, None)
    renamed = write(tmp_path / "r.yaml", {**demo_plain(), "profiles": {"a": {"experiment": "y"}}})
    with pytest.raises(ConfigError, match="key 'experiment' cannot vary by profile"):
        load_experiment(renamed, "a")


def test_a_plain_config_without_profile_or_limit_publishes_its_own_text(tmp_path: Path) -> None:
    path = ROOT / "bundle/configs/demo.yaml"
    loaded = load_experiment(path)
    assert loaded.text == path.read_text()
    assert loaded.config == load_config(path)


def test_unknown_references_in_a_design_are_named(tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load((EXPERIMENTS / "e2.yaml").read_text())
    data["extends"] = str(EXPERIMENTS / "base.yaml")
    data["groups"][2]["draft"] = "distilled"
    with pytest.raises(ConfigError, match="unknown draft role 'distilled'"):
        load_experiment(write(tmp_path / "e2.yaml", data), "gpu")
    data["groups"][2]["draft"] = "adversarial"
    data["contrasts"][0]["b"] = "nope"
    with pytest.raises(ConfigError, match="unknown group 'nope'"):
        load_experiment(write(tmp_path / "e2.yaml", data), "gpu")


# Designs -------------------------------------------------------------------------------------


def test_e0_screens_every_speculative_arm_against_its_pairs_target_alone() -> None:
    loaded = load_experiment(EXPERIMENTS / "e0.yaml", "gpu")
    config = loaded.config
    arms = {arm.name: arm for arm in config.arms}
    speculative = [a for a in config.arms if a.speculative is not None]
    gated = [c for c in config.contrasts if c.gated]
    assert sorted(c.b for c in gated) == sorted(a.name for a in speculative)
    for contrast in gated:
        a, b = arms[contrast.a], arms[contrast.b]
        assert a.speculative is None and a.target == b.target and a.pair == b.pair
    # Drafts alone against targets alone: reported, not gated; one per pair.
    reported = [c for c in config.contrasts if not c.gated]
    pairs = {a.pair for a in speculative}
    assert len(reported) == len(pairs)
    for contrast in reported:
        target, draft = arms[contrast.a], arms[contrast.b]
        partner = next(a for a in speculative if a.target == target.target)
        assert partner.speculative is not None and partner.speculative.model == draft.target
    # A model that is one pair's target and another's draft runs alone once (besides its
    # floor arms and its batch-invariant arm, which measure the floor).
    alone = [
        a.target
        for a in config.arms
        if a.speculative is None and not is_floor(a) and not a.batch_invariant
    ]
    assert len(alone) == len(set(alone))


def test_e2_compares_each_adversarial_arm_with_the_canonical_arm_of_the_same_phase() -> None:
    config = load_experiment(EXPERIMENTS / "e2.yaml", "gpu").config
    arms = {arm.name: arm for arm in config.arms}
    between = [c for c in config.contrasts if not c.gated]
    assert between
    for contrast in between:
        a, b = arms[contrast.a].speculative, arms[contrast.b].speculative
        assert a is not None and b is not None
        assert a.model != b.model
        assert (a.num_speculative_tokens, a.acceptance) == (b.num_speculative_tokens, b.acceptance)
        assert arms[contrast.a].subset == arms[contrast.b].subset


def test_e2_to_e5_list_the_same_canonical_seed_123_arms() -> None:
    """The shared arms have one output key whichever experiment lists them."""

    def canonical(name: str) -> set[str]:
        config = load_experiment(EXPERIMENTS / f"{name}.yaml", "cpu").config
        return {
            output_key(arm, config.engine, [])
            for arm in config.arms
            if arm.speculative is not None
            and arm.speculative.model == "bundle/models/tiny-draft"
            and (arm.seed or config.engine.seed) == 123
            and arm.dtype is None
        }

    keys = canonical("e4")
    assert len(keys) == 7  # P2, P3 and five P4 arms
    for name in ("e2", "e3", "e5"):
        assert canonical(name) == keys


def test_on_the_small_profile_e1_to_e5_reuse_e0s_speculative_arms() -> None:
    """E2-E5 take E0's seed there, so their reference arms cost nothing (docs/models.md)."""

    def bf16_self_draft(name: str) -> set[str]:
        config = load_experiment(EXPERIMENTS / f"{name}.yaml", "small").config
        return {
            output_key(arm, config.engine, [])
            for arm in config.arms
            if arm.speculative is not None
            and arm.speculative.model == ".cache/models/smollm2-135m-instruct-draft8"
            and (arm.dtype or config.engine.dtype) == "bfloat16"
            and (arm.seed or config.engine.seed) == 42
        }

    keys = bf16_self_draft("e0")
    assert len(keys) == 5  # P2, P3 and the sweep's N in {1, 3, 5}
    for name in ("e1", "e2", "e3", "e4", "e5"):
        assert bf16_self_draft(name) == keys, name


# Acceptance ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("acceptance", "draft_sample_method"),
    [("strict", "greedy"), ("probabilistic", "probabilistic")],
)
def test_acceptance_maps_to_the_installed_vllms_fields(
    acceptance: str, draft_sample_method: str
) -> None:
    from vllm.config import speculative

    arm = Arm.model_validate(
        {
            "name": "a",
            "pair": "p",
            "target": "bundle/models/tiny-target",
            "speculative": {
                "method": "draft_model",
                "model": "bundle/models/tiny-draft",
                "num_speculative_tokens": 5,
                "acceptance": acceptance,
            },
        }
    )
    resolved = resolved_engine(arm, Engine())
    given = resolved["speculative_config"]
    assert given["rejection_sample_method"] == "standard"
    assert given["draft_sample_method"] == draft_sample_method
    assert "acceptance" not in given
    # The values are ones the installed vLLM accepts for these fields.
    assert given["rejection_sample_method"] in typing.get_args(speculative.RejectionSampleMethod)
    assert given["draft_sample_method"] in typing.get_args(speculative.DraftSampleMethod)
    assert resolved["speculative"]["acceptance"] == acceptance


def test_without_acceptance_the_resolved_engine_is_as_before() -> None:
    arm = load_config(ROOT / "bundle/configs/demo.yaml").arms[1]
    assert arm.speculative is not None and arm.speculative.acceptance is None
    resolved = resolved_engine(arm, Engine())
    assert "speculative_config" not in resolved
    assert "acceptance" not in resolved["speculative"]


# Plans and limits ----------------------------------------------------------------------------


# The paper's groups of E0; the floor arms and the batch-invariant arms come on top.
PAPER_E0_GROUPS = ("targets", "drafts", "canonical")


def test_e0_gpu_plan_is_the_papers_16783_without_data(no_data: None) -> None:
    plan = make_plan(load_experiment(EXPERIMENTS / "e0.yaml", "gpu"), 1000.0)
    assert plan.exact
    assert sum(plan.groups[g] for g in PAPER_E0_GROUPS) == PAPER_E0_TOTAL
    paper_p1 = plan.groups["targets"] + plan.groups["drafts"]
    assert paper_p1 == PAPER_E0["P1"]
    targets = plan.groups["targets"]  # 3 targets x 953 prompts
    # Each target alone twice more for the floor, with and without batch-invariant kernels;
    # the batch-invariant pair adds each target alone (P1) and its canonical arm at N=5 (P2).
    assert plan.groups["floor-reversed"] == plan.groups["floor-seqs16"] == 2 * targets
    assert plan.groups["targets-bi"] == plan.groups["canonical-bi"] == targets
    assert plan.phases == {
        "P1": PAPER_E0["P1"] + targets,
        "P2": PAPER_E0["P2"] + targets,
        "P3": PAPER_E0["P3"],
        "P4": PAPER_E0["P4"],
        "floor": 4 * targets,
    }
    assert plan.generations == PAPER_E0_TOTAL + 6 * targets
    assert all(m.stated_gb for m in plan.models)


@pytest.mark.parametrize(("name", "group"), [("e1", "canonical"), ("e2", "adversarial")])
def test_expansion_plans_match_the_paper(no_data: None, name: str, group: str) -> None:
    plan = make_plan(load_experiment(EXPERIMENTS / f"{name}.yaml", "gpu"), 1000.0)
    assert plan.groups[group] == PAPER_EXPANSION_PER_DRAFT


def test_declared_sizes_agree_with_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_experiment(EXPERIMENTS / "e0.yaml", "gpu")
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    declared = make_plan(loaded, 1000.0)
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA))
    counted = make_plan(loaded, 1000.0)
    assert counted.counted_from != declared.counted_from
    assert [(a.arm, a.items) for a in counted.arms] == [(a.arm, a.items) for a in declared.arms]


def test_limit_caps_every_task_and_renames_the_experiment(mirror: None) -> None:
    loaded = load_experiment(EXPERIMENTS / "e0.yaml", "cpu", limit=3)
    config = loaded.config
    assert config.experiment == "e0-cpu-limit3"
    items = build_battery(config)
    per_task: dict[str, int] = {}
    for item in items:
        per_task[item.task] = per_task.get(item.task, 0) + 1
    assert set(per_task.values()) == {3}
    plan = make_plan(loaded, 200.0)
    for arm_plan in plan.arms:
        assert arm_plan.items == len(arm_items(items, config.arm(arm_plan.arm)))
    # A limit never raises a source's own smaller limit.
    assert load_experiment(EXPERIMENTS / "e0.yaml", "cpu", limit=1000).config.battery == (
        load_experiment(EXPERIMENTS / "e0.yaml", "cpu").config.battery
    )


def test_a_limited_plan_without_data_says_its_subset_counts_are_upper_bounds(
    no_data: None,
) -> None:
    plan = make_plan(load_experiment(EXPERIMENTS / "e0.yaml", "gpu", limit=10), 1000.0)
    inexact = {a.arm for a in plan.arms if not a.exact}
    assert inexact and all(a.phase == "P4" for a in plan.arms if a.arm in inexact)


def test_sweep_arms_contrast_over_the_items_they_share_with_the_target(mirror: None) -> None:
    config = load_experiment(EXPERIMENTS / "e0.yaml", "cpu", limit=4).config
    items = build_battery(config)
    for contrast in config.contrasts:
        a, b = config.arm(contrast.a), config.arm(contrast.b)
        ids_a = {i.item_id for i in arm_items(items, a)}
        ids_b = {i.item_id for i in arm_items(items, b)}
        if b.subset:
            assert ids_b < ids_a
        else:
            assert ids_a == ids_b


def test_tais_plan_prints_the_paper_scale_plan(no_data: None) -> None:
    result = CliRunner().invoke(
        main, ["plan", str(EXPERIMENTS / "e0.yaml"), "--profile", "gpu", "--tokens-per-s", "500"]
    )
    assert result.exit_code == 0, result.output
    # The paper's 16,783 plus the floor (11,436) and the batch-invariant arms (5,718).
    assert "P1 7,624 + P2 5,718 + P3 2,859 + P4 6,300 + floor 11,436 = 33,937" in result.output
    assert "targets 2,859 + drafts 1,906 + canonical 12,018" in result.output
    assert "unsloth/Llama-3.2-3B-Instruct" in result.output
    assert "500 tokens/s" in result.output


def test_tais_plan_on_bad_input_is_a_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["plan", str(EXPERIMENTS / "e0.yaml"), "--profile", "x"])
    assert result.exit_code == 1
    assert "no profile 'x'" in result.output and "Traceback" not in result.output
