"""verify lists each problem once, naming file and line, record or field, and never crashes;
floats agree within a stated relative tolerance, everything else exactly."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tais.analysis.analyse import analyse
from tais.analysis.compare import FLOAT_REL_TOL, same_value
from tais.cli import main
from tais.config.config import load_config
from tais.errors import DataError, VerifyError
from tais.io import canonical_json, read_jsonl
from tais.publish.manifest import MANIFEST, write_manifest
from tais.records import PublishedArm, SampleRecord
from tais.verify.verify import verify

from .bundle_support import published_copy

RUN = "demo"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    return published_copy(RUN, tmp_path / "copy")


def run_dir(root: Path) -> Path:
    return root / "validation" / RUN


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


def problems_of(root: Path) -> list[str]:
    with pytest.raises(VerifyError) as caught:
        verify(root)
    return caught.value.problems


def edit_record(
    root: Path, match: Callable[[dict[str, Any]], bool], edit: Callable[[dict[str, Any]], Any]
) -> str:
    """Edit the first matching record of records.jsonl in place; returns its item id."""
    path = run_dir(root) / "records.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        record = json.loads(line)
        if match(record):
            edit(record)
            lines[i] = canonical_json(record) + "\n"
            path.write_text("".join(lines), encoding="utf-8")
            return str(record["item_id"])
    raise AssertionError("no record matched")


def edit_summary(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit summary.json, then re-write the manifest so only the re-derivation can object."""
    path = run_dir(root) / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    edit(summary)
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    write_manifest(root)


def test_the_undamaged_copy_passes(copy: Path) -> None:
    assert verify(copy) == [RUN]


def test_non_utf8_byte_in_records_names_file_and_line(copy: Path) -> None:
    path = run_dir(copy) / "records.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"arm"', b'"a\xffrm"', 1)
    path.write_bytes(b"".join(lines))
    code, out = cli("verify", "--root", str(copy))
    assert code == 1
    assert "records.jsonl:3: not UTF-8 (byte 0xff" in out


def test_non_utf8_config_is_a_problem_not_a_crash(copy: Path) -> None:
    path = run_dir(copy) / "config.yaml"
    path.write_bytes(path.read_bytes().replace(b"demo", b"d\xe9mo", 1))
    code, out = cli("verify", "--root", str(copy))
    assert code == 1 and "config.yaml: not UTF-8" in out


def test_no_validation_folder(copy: Path) -> None:
    shutil.rmtree(copy / "validation")
    code, out = cli("verify", "--root", str(copy))
    assert code == 1
    assert "validation: no such folder" in out
    assert "validation/demo/records.jsonl: listed in manifest.yaml but missing" in out


def test_verify_root_that_does_not_exist(tmp_path: Path) -> None:
    code, out = cli("verify", "--root", str(tmp_path / "nowhere"))
    assert code == 1 and f"{tmp_path / 'nowhere'}: no such folder" in out


def test_run_folder_renamed(copy: Path) -> None:
    run_dir(copy).rename(copy / "validation" / "demo2")
    write_manifest(copy)
    config = copy / "validation" / "demo2" / "config.yaml"
    assert problems_of(copy) == [f"{config}: experiment 'demo' published as 'demo2'"]


def test_no_manifest_is_one_listed_problem(copy: Path) -> None:
    (copy / MANIFEST).unlink()
    assert problems_of(copy) == [
        f"{copy / MANIFEST}: not found; run `tais manifest` after publishing"
    ]


def test_differing_tokens_without_a_divergence_line(copy: Path) -> None:
    item = edit_record(
        copy,
        lambda r: r["arm"] == "draft_k3",
        lambda r: r.update(token_ids_sha256="0" * 64),
    )
    write_manifest(copy)
    found = problems_of(copy)
    assert found == [
        f"{run_dir(copy) / 'divergences.jsonl'}: no line for contrast target_only~draft_k3 "
        f"item {item}, whose two records' token ids differ"
    ]
    # analyse on its own says the same as a named error, not a KeyError.
    places = run_dir(copy)
    with pytest.raises(DataError, match="token ids differ but no divergence names it"):
        analyse(
            load_config(places / "config.yaml"),
            read_jsonl(places / "records.jsonl", SampleRecord),
            [],
            read_jsonl(places / "arms.jsonl", PublishedArm),
        )


def test_divergence_line_for_identical_outputs(copy: Path) -> None:
    item = json.loads((run_dir(copy) / "records.jsonl").read_text().splitlines()[0])["item_id"]
    line = {
        "contrast": "target_only~draft_k3",
        "item_id": item,
        "first_diverging_token": 0,
        "bytes_changed_share": 0.5,
    }
    (run_dir(copy) / "divergences.jsonl").write_text(canonical_json(line) + "\n")
    write_manifest(copy)
    found = problems_of(copy)
    assert len(found) == 1 and "token ids are identical" in found[0], found
    assert "divergences.jsonl: contrast target_only~draft_k3 item " + item in found[0]


def test_labels_of_the_wrong_shape_are_a_problem(copy: Path) -> None:
    edit_record(
        copy,
        lambda r: "keyword" in r["labels"],
        lambda r: r["labels"]["keyword"].update(digest="d", prompt_sha256="not a mapping"),
    )
    write_manifest(copy)
    found = problems_of(copy)
    assert len(found) == 1 and "records' labels do not fit the analysis" in found[0], found
    assert found[0].startswith(str(run_dir(copy) / "records.jsonl"))


def test_arm_line_that_contradicts_the_config(copy: Path) -> None:
    path = run_dir(copy) / "arms.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    spec = next(line for line in lines if line["engine"]["speculative"])
    spec["engine"]["speculative"] = {"model": "elsewhere"}
    path.write_text("".join(canonical_json(line) + "\n" for line in lines))
    write_manifest(copy)
    found = problems_of(copy)
    assert found == [f"{path}: arm {spec['arm']}: engine.speculative differs from config.yaml"]


def test_arm_line_dropped_or_doubled(copy: Path) -> None:
    path = run_dir(copy) / "arms.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    dropped, doubled = json.loads(lines[0])["arm"], json.loads(lines[1])["arm"]
    path.write_text("".join([lines[1], *lines[1:]]))
    write_manifest(copy)
    assert problems_of(copy) == [
        f"{path}: arm {doubled}: listed twice",
        f"{path}: no line for arm {dropped}",
    ]


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "derived", "same"),
    [
        (0.1 + 0.2, 0.3, True),  # one ulp apart
        (0.3, 0.3 * (1 + 10 * FLOAT_REL_TOL), False),
        (0.0, 0.0, True),
        (0.0, 1e-300, False),  # zero has no relative neighbourhood
        (-0.0, 0.0, True),
        (math.nan, math.nan, True),
        (1, 1, True),
        (1, 1.0, False),
        (True, 1, False),  # bool is an int subclass; a flag is not a count
        (True, True, True),
        (None, 0.0, False),
        ("PASS", "PASS", True),
        ("PASS", "pass", False),
    ],
)
def test_same_value(stored: Any, derived: Any, same: bool) -> None:
    assert same_value(stored, derived) is same


def test_float_one_ulp_off_passes(copy: Path) -> None:
    def nudge(summary: dict[str, Any]) -> None:
        cell = summary["contrasts"][0]
        cell["ci_high"] = math.nextafter(cell["ci_high"], math.inf)

    edit_summary(copy, nudge)
    assert verify(copy) == [RUN]


def test_float_beyond_tolerance_fails_showing_both_values_in_full(copy: Path) -> None:
    original = json.loads((run_dir(copy) / "summary.json").read_text())["contrasts"][0]["ci_high"]
    changed = original * (1 + 1e-9)

    def nudge(summary: dict[str, Any]) -> None:
        summary["contrasts"][0]["ci_high"] = changed

    edit_summary(copy, nudge)
    assert problems_of(copy) == [
        f"{run_dir(copy) / 'summary.json'}.contrasts[0].ci_high: "
        f"stored {changed!r}, re-derived {original!r}"
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("n", 100.0), ("equivalent", 1), ("verdict", "FAIL"), ("diff", 5e-324)],
)
def test_ints_flags_verdicts_and_zeros_compare_exactly(copy: Path, field: str, value: Any) -> None:
    edit_summary(copy, lambda summary: summary["contrasts"][0].update({field: value}))
    found = problems_of(copy)
    assert any(f".contrasts[0].{field}: stored {json.dumps(value)}" in p for p in found), found


# --- hidden files ----------------------------------------------------------------------------


def test_unlisted_hidden_file_fails_verify(copy: Path) -> None:
    (run_dir(copy) / ".raw_outputs.txt").write_text("Sure, here is how to do it: ...\n")
    code, out = cli("verify", "--root", str(copy))
    assert code == 1
    assert "validation/demo/.raw_outputs.txt: hidden file in validation/" in out


def test_manifest_refuses_a_leftover_staging_folder_and_writes_nothing(copy: Path) -> None:
    staging = copy / "validation" / ".demo.staging"
    staging.mkdir()
    (staging / "records.jsonl").write_text("{}\n")
    before = (copy / MANIFEST).read_bytes()
    code, out = cli("manifest", "--root", str(copy))
    assert code == 1
    assert "validation/.demo.staging: hidden folder" in out and "interrupted publish" in out
    assert (copy / MANIFEST).read_bytes() == before
    assert any(".demo.staging: hidden folder" in p for p in problems_of(copy))


def test_hidden_bundle_file_is_listed_and_checked(copy: Path) -> None:
    hidden = copy / "bundle" / "models" / ".notes"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("kept\n")
    listed = [entry.path for entry in write_manifest(copy).files]
    assert "bundle/models/.notes" in listed
    hidden.write_text("changed\n")
    assert any(p.startswith("bundle/models/.notes: manifest.yaml says") for p in problems_of(copy))


# --- tais manifest --root --------------------------------------------------------------------


def test_manifest_root_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-project"
    code, out = cli("manifest", "--root", str(missing))
    assert code == 1 and "no such folder" in out
    assert not missing.exists()


def test_manifest_root_that_is_no_project(tmp_path: Path) -> None:
    code, out = cli("manifest", "--root", str(tmp_path))
    assert code == 1 and "holds neither bundle/ nor validation/" in out
    assert list(tmp_path.iterdir()) == []


def test_missing_divergence_lines_are_listed_in_item_order(copy: Path) -> None:
    # Records reversed, so item order is not the file's order.
    path = run_dir(copy) / "records.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records.reverse()
    changed = 0
    for record in records:
        if record["arm"] == "draft_k3" and changed < 3:
            record["token_ids_sha256"] = "0" * 64
            changed += 1
    path.write_text("".join(canonical_json(r) + "\n" for r in records), encoding="utf-8")
    write_manifest(copy)
    items = sorted(r["item_id"] for r in records if r["token_ids_sha256"] == "0" * 64)
    assert problems_of(copy) == [
        f"{run_dir(copy) / 'divergences.jsonl'}: no line for contrast target_only~draft_k3 "
        f"item {item}, whose two records' token ids differ"
        for item in items
    ]
