"""Bad input reaches the user as one clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
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


# Bad configs and battery data stop `tais run` and `tais battery` with one message, before any
# engine starts and before anything is written.


def no_artifacts(out: Path) -> bool:
    runs = out / "runs"
    # A lock file may stay behind: it holds no output.
    written = [p for p in runs.rglob("*") if p.is_file() and p.suffix != ".lock"]
    return (
        not (out / "validation").exists() and not (out / "manifest.yaml").exists() and not written
    )


def both_commands_fail(config: Path, tmp_path: Path, message: str) -> None:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    for args in (
        ["battery", str(config)],
        ["run", str(config), "--root", str(out), "--runs-dir", str(out / "runs")],
    ):
        code, text = run_cli(*args)
        assert code == 1, text
        assert text.strip().startswith("error: ") and "\n" not in text.strip(), text
        assert message in text, text
    assert no_artifacts(out)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"experiment: [demo\n", "not valid YAML: line 2, column 1: expected ',' or ']'"),
        (b"experiment: d\xe9mo\n", "not UTF-8 (byte 0xe9 at offset 13)"),
        (b"when: 2024-13-45\n", "not valid YAML: month must be in 1..12"),
        (b"- just\n- a list\n", "expected a mapping at the top level"),
    ],
)
def test_bad_config_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "exp.yaml"
    path.write_bytes(content)
    both_commands_fail(path, tmp_path, message)


def test_config_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    both_commands_fail(folder, tmp_path, f"{folder}: not a file")


def test_config_that_does_not_exist(tmp_path: Path) -> None:
    both_commands_fail(tmp_path / "nope.yaml", tmp_path, "config file not found")


def test_missing_battery_file(tmp_path: Path) -> None:
    battery = tmp_path / "nope.jsonl"
    path = write_config(tmp_path, battery=[{"benchmark": "tais-demo", "path": str(battery)}])
    both_commands_fail(path, tmp_path, f"battery file not found: {battery}")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"item_id": "x",\n', "bad.jsonl:2: line: Invalid JSON"),
        (b'{"item_id": "x\xff"}\n', "bad.jsonl:2: not UTF-8"),
        (b'{"benchmark": "tais-demo"}', "bad.jsonl:2: line is cut short"),
        (b'{"benchmark": "tais-demo"}\n', "bad.jsonl:2: item_id: Field required"),
        (None, "bad.jsonl:2: colour: Extra inputs are not permitted"),
    ],
)
def test_battery_with_a_bad_line(tmp_path: Path, line: bytes | None, message: str) -> None:
    first = (ROOT / "bundle" / "battery" / "demo.jsonl").read_bytes().splitlines(keepends=True)[0]
    if line is None:  # a whole item with one unknown field
        line = json.dumps({**json.loads(first), "colour": 1}).encode() + b"\n"
    battery = tmp_path / "bad.jsonl"
    battery.write_bytes(first + line)
    path = write_config(tmp_path, battery=[{"benchmark": "tais-demo", "path": str(battery)}])
    both_commands_fail(path, tmp_path, message)
