"""Where arms run and how many GPUs each takes: config, fingerprints, plan and command line.

The executor says how arms are run, never what they answer, so it leaves fingerprints and
recorded engine settings alone; tensor parallelism can change float16 sums, so it enters
them, but only when not 1 (runs made before the key existed keep their bytes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tais.battery.benchmarks.registry import DATA_DIR_ENV
from tais.cli import main
from tais.config.config import Engine, Serve, arm_tensor_parallel, parse_config
from tais.config.places import RunPlaces
from tais.config.profiles import load_experiment
from tais.errors import ConfigError
from tais.generate.arm_store import ArmStore
from tais.generate.arms import arm_fingerprint, resolved_engine
from tais.generate.backends.vllm_server import server_command
from tais.generate.executors.local import LocalExecutor
from tais.generate.generate import generate
from tais.io import read_jsonl
from tais.plan import make_plan, makespan
from tais.records import Generation

from .conftest import DEMO_CONFIG, ROOT
from .engine_support import QuietProgress, demo_config, demo_data
from .test_arm_store import ITEMS, arm, generated

E1 = ROOT / "bundle" / "configs" / "experiments" / "e1.yaml"


def test_the_executor_is_an_engine_key_checked_like_any_other() -> None:
    data = demo_data()
    data["engine"]["executor"] = "ray"
    assert parse_config(data).engine.executor == "ray"
    data["engine"]["executor"] = "slurm"
    with pytest.raises(ConfigError, match=r"engine\.executor: Input should be 'local' or 'ray'"):
        parse_config(data)
    data["engine"]["executer"] = "ray"
    with pytest.raises(ConfigError, match=r"unknown key 'engine\.executer'"):
        parse_config(data)


def test_the_executor_changes_no_fingerprint_and_no_recorded_setting() -> None:
    config = demo_config()
    arm, items = config.arms[1], []
    on_ray = config.engine.model_copy(update={"executor": "ray"})
    assert arm_fingerprint(arm, on_ray, items) == arm_fingerprint(arm, config.engine, items)
    assert resolved_engine(arm, on_ray) == resolved_engine(arm, config.engine)


def test_tensor_parallel_size_enters_fingerprints_only_when_not_1() -> None:
    config = demo_config()
    arm = config.arms[0]
    one = Engine(tensor_parallel_size=1)
    two = Engine(tensor_parallel_size=2)
    assert one.model_dump() == Engine().model_dump()
    assert arm_fingerprint(arm, one, []) == arm_fingerprint(arm, Engine(), [])
    assert arm_fingerprint(arm, two, []) != arm_fingerprint(arm, one, [])
    assert "tensor_parallel_size" not in resolved_engine(arm, one)
    assert resolved_engine(arm, two)["tensor_parallel_size"] == 2


def test_an_arms_own_tensor_parallel_size_wins_and_is_recorded() -> None:
    plain = demo_config().arms[0]
    arm = plain.model_copy(update={"tensor_parallel_size": 4})
    engine = Engine(tensor_parallel_size=2)
    assert arm_tensor_parallel(arm, engine) == 4
    assert resolved_engine(arm, engine)["tensor_parallel_size"] == 4
    assert "--tensor-parallel-size" not in server_command(plain, Engine(), Serve(), 8000)
    command = server_command(arm, engine, Serve(), 8000)
    assert command[command.index("--tensor-parallel-size") + 1] == "4"


def wide_e1(tmp_path: Path, size: int) -> Path:
    """E1 with the 70B target over `size` GPUs (as a lab with smaller GPUs would run it)."""
    overlay = {
        "extends": str(E1),
        "experiment": f"e1-tp{size}",
        "profiles": {"gpu": {"models": {"llama-70b-awq": {"tensor_parallel_size": size}}}},
    }
    path = tmp_path / f"e1-tp{size}.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return path


def test_a_models_tensor_parallel_size_reaches_every_arm_it_is_the_target_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    loaded = load_experiment(wide_e1(tmp_path, 2), "gpu")
    assert {arm_tensor_parallel(a, loaded.config.engine) for a in loaded.config.arms} == {2}
    plan = make_plan(loaded, 1000.0)
    assert {a.gpus for a in plan.arms} == {2}
    assert plan.wall_hours(1) is None
    # Two GPUs run one arm at a time: the wall time is the sum of the arms' times.
    assert plan.wall_hours(2) == pytest.approx(plan.hours_upper)
    four = plan.wall_hours(4)
    assert four is not None and plan.hours_upper / 2 <= four < plan.hours_upper


def test_makespan_runs_the_longest_first_and_fills_free_gpus() -> None:
    assert makespan([(2.0, 1), (3.0, 1), (2.0, 1)], 2) == 4.0
    assert makespan([(3.0, 1), (2.0, 1), (2.0, 1)], 3) == 3.0
    # A two-GPU arm waits for both; the one-GPU arms fill in around it.
    assert makespan([(1.0, 2), (1.0, 1), (1.0, 1)], 2) == 2.0
    assert makespan([(4.0, 2), (1.0, 1), (1.0, 1), (1.0, 1)], 3) == 4.0


def test_tais_plan_prints_gpus_per_arm_and_the_wall_time_on_n_gpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    config = str(wide_e1(tmp_path, 2))
    result = CliRunner().invoke(main, ["plan", config, "--profile", "gpu", "--gpus", "4"])
    assert result.exit_code == 0, result.output
    assert "GPUs" in result.output
    assert "on 4 GPU(s), arms side by side" in result.output
    result = CliRunner().invoke(main, ["plan", config, "--profile", "gpu"])
    assert "on 1 GPU(s)" in result.output and "cannot run: an arm needs 2 GPUs" in result.output


def test_an_address_without_the_ray_executor_is_a_message() -> None:
    result = CliRunner().invoke(main, ["run", str(DEMO_CONFIG), "--address", "10.0.0.1:6379"])
    assert result.exit_code == 1
    assert "a cluster address is for the ray executor" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(main, ["run", str(DEMO_CONFIG), "--executor", "slurm"])
    assert result.exit_code == 2 and "'slurm' is not one of 'local', 'ray'" in result.output


def test_an_arm_the_same_as_one_run_here_is_copied_once_that_one_is_done(tmp_path: Path) -> None:
    """Arms wait for the executor together; a second arm with the same output key still waits
    for the first and is copied, not generated twice. No engine: `a` is already on disk."""
    data = demo_data()
    data["experiment"] = "twice"
    data["arms"] = [arm(n, "tiny").model_dump(mode="json") for n in ("a", "b")]
    data["contrasts"] = []
    config = parse_config(data)
    places = RunPlaces(tmp_path / "twice")
    generated(places, config.arms[0], config.engine)
    store = ArmStore(tmp_path / "_arms")

    reused: list[tuple[str, str]] = []

    class Recording(QuietProgress):
        def arm_reused(self, arm: str, origin: str) -> None:
            reused.append((arm, origin))

        def arm_started(self, arm: str, total: int, done: int) -> None:
            raise AssertionError(f"the engine was started for arm {arm}")

    runs = generate(config, ITEMS, places, Recording(), store, LocalExecutor())
    assert reused == [("b", "twice/a")]
    assert runs["b"].reused_from == "twice/a"
    assert read_jsonl(places.generations("b"), Generation)[0].arm == "b"
