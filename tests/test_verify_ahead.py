"""verify draws the report files ahead from the STORED summary and acceptance report: those
drawings stand in only where the re-derived models are exactly the stored ones, so a tampered
summary.json with figures drawn to match it is still caught."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from tais.analysis.analyse import analyse
from tais.analysis.summary import Summary
from tais.config.config import load_config
from tais.config.places import PublishPlaces
from tais.io import read_jsonl
from tais.publish.manifest import write_manifest
from tais.records import Divergence, PublishedArm, SampleRecord
from tais.report.files import report_files
from tais.verify.ahead import NOTHING, DrawAhead, draw_stored

from .figure_support import draw_run, drawn_copy
from .test_figures import problems_of

RUN = "demo"


def edit_json(path: Path, change: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def test_the_drawing_ahead_stands_in_for_the_re_derived_summary(tmp_path: Path) -> None:
    """Without this the speed-up would silently never apply: the stored summary, parsed,
    must be exactly (by repr) the one the library re-derives from the records."""
    run_dir = drawn_copy(RUN, tmp_path) / "validation" / RUN
    places = PublishPlaces(run_dir)
    config = load_config(places.config)
    divergences = read_jsonl(places.divergences, Divergence)
    derived = analyse(
        config,
        read_jsonl(places.records, SampleRecord),
        divergences,
        read_jsonl(places.arms, PublishedArm),
    )
    with DrawAhead([run_dir]) as ahead:
        early = ahead.get(run_dir)
    assert early.report_for(derived) == report_files(config, derived, divergences)
    assert early.volatile is not None and "volatile/acceptance.svg" in early.volatile
    # One float digit off is no longer the summary drawn from.
    nudged = derived.contrasts[0].model_copy(update={"ci_high": derived.contrasts[0].ci_high * 2})
    assert early.report_for(derived.model_copy(update={"contrasts": [nudged]})) is None


def test_stored_files_that_cannot_be_drawn_give_no_drawing(tmp_path: Path) -> None:
    run_dir = drawn_copy(RUN, tmp_path) / "validation" / RUN
    (run_dir / "summary.json").write_text("{", encoding="utf-8")
    (run_dir / "volatile" / "acceptance.json").unlink()
    drawn = draw_stored(run_dir)
    assert drawn.report is None and drawn.summary is None
    assert drawn.volatile is None and drawn.acceptance is None


def test_figures_drawn_from_a_tampered_summary_are_checked_against_the_re_derived_one(
    tmp_path: Path,
) -> None:
    root = drawn_copy(RUN, tmp_path)
    run_dir = root / "validation" / RUN
    places = PublishPlaces(run_dir)
    derived = Summary.model_validate_json(places.summary.read_text(encoding="utf-8"))
    true_high = derived.contrasts[0].ci_high

    def widen(data: dict[str, list[dict[str, float]]]) -> None:
        data["contrasts"][0]["ci_high"] = 0.25

    def lower(data: dict[str, list[dict[str, dict[str, float]]]]) -> None:
        data["arms"][0]["tasks"]["benign_requests"]["acceptance"] = 0.125

    edit_json(places.summary, widen)
    edit_json(places.acceptance, lower)
    # Every report file now matches the tampered numbers, as a forger would leave them.
    draw_run(run_dir)
    identity_svg = run_dir / "figures" / "identity.svg"
    identity_svg.write_bytes(identity_svg.read_bytes().replace(b"<svg", b"<svg ", 1))
    write_manifest(root)
    text = "\n".join(problems_of(root))
    assert f"{places.summary}.contrasts[0].ci_high: stored 0.25, re-derived {true_high!r}" in text
    assert f"{run_dir / 'figures' / 'forest.svg'}: differs from the one re-drawn" in text
    assert f"{identity_svg}: differs from the one re-drawn" in text
    assert f"{run_dir / 'report.html'}: differs from the one re-drawn" in text
    assert f"{places.acceptance}.arms[0].tasks.benign_requests.acceptance: stored 0.125" in text
    acceptance_svg = run_dir / "volatile" / "acceptance.svg"
    assert f"{acceptance_svg}: differs from the one re-drawn from volatile/acceptance.json" in text


def test_without_fork_verify_draws_inline_and_still_names_a_changed_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    root = drawn_copy(RUN, tmp_path)
    run_dir = root / "validation" / RUN
    with DrawAhead([run_dir]) as ahead:
        assert ahead.get(run_dir) is NOTHING
    forest_svg = run_dir / "figures" / "forest.svg"
    forest_svg.write_bytes(forest_svg.read_bytes().replace(b"<svg", b"<svg ", 1))
    write_manifest(root)
    assert problems_of(root) == [
        f"{forest_svg}: differs from the one re-drawn from "
        "summary.json, divergences.jsonl and config.yaml"
    ]
