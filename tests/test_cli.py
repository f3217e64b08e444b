"""Bad input reaches the user as one clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from tais.cli import main

from .conftest import DEMO_CONFIG, ROOT


def write_config(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data.update(changes)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_help_explains_every_command() -> None:
    code, out = run_cli("--help")
    assert code == 0
    for command in ("run", "battery", "verify", "manifest"):
        assert command in out


def test_unknown_config_key(tmp_path: Path) -> None:
    code, out = run_cli("run", str(write_config(tmp_path, seeed=3)), "--root", str(tmp_path))
    assert code == 1 and "unknown key 'seeed'" in out


def test_missing_model_path(tmp_path: Path) -> None:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["arms"][0]["target"] = "bundle/models/no-such-model"
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    code, out = run_cli(
        "run", str(path), "--root", str(tmp_path), "--runs-dir", str(tmp_path / "runs")
    )
    assert code == 1 and "bundle/models/no-such-model" in out and "no such model" in out


def test_unknown_benchmark(tmp_path: Path) -> None:
    path = write_config(tmp_path, battery=[{"benchmark": "advbenchh"}])
    code, out = run_cli("battery", str(path))
    assert code == 1 and "unknown benchmark 'advbenchh'" in out


def test_empty_battery(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    path = write_config(tmp_path, battery=[{"benchmark": "tais-demo", "path": str(empty)}])
    code, out = run_cli("battery", str(path))
    assert code == 1 and "battery is empty" in out


def test_battery_lists_tasks() -> None:
    code, out = run_cli("battery", str(DEMO_CONFIG))
    assert code == 0
    for task in ("harmful_requests", "benign_requests", "multiple_choice"):
        assert task in out


def test_committed_artifacts_verify() -> None:
    code, out = run_cli("verify", "--root", str(ROOT))
    assert code == 0, out
    assert "verify passed" in out


def test_records_cut_mid_line(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "validation", tmp_path / "validation")
    shutil.copy(ROOT / "manifest.yaml", tmp_path / "manifest.yaml")
    records = tmp_path / "validation" / "demo" / "records.jsonl"
    data = records.read_bytes()
    records.write_bytes(data[: len(data) // 2])
    code, out = run_cli("verify", "--root", str(tmp_path))
    assert code == 1
    assert "records.jsonl" in out and "cut short" in out
