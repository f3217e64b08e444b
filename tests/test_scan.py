"""The raw-text scan finds a planted leak, however the file spells it."""

from __future__ import annotations

import json
from pathlib import Path

from .scan_support import WINDOW, leaks, published_texts

COMPLETION = 'Step 1: "gather" the tools\nStep 2: caf\u00e9 au lait, then begin.'


def bundle_with(tmp_path: Path, name: str, content: str) -> Path:
    run = tmp_path / "validation" / "demo"
    run.mkdir(parents=True)
    (run / "report.md").write_text("# TAIS report\n\nno text here\n")
    (tmp_path / "manifest.yaml").write_text("files: []\n")
    (run / name).write_text(content, encoding="utf-8")
    return tmp_path


def test_clean_bundle_has_no_leak(tmp_path: Path) -> None:
    root = bundle_with(tmp_path, "summary.json", json.dumps({"rate": 0.5}))
    assert leaks({"arm/item": COMPLETION}, published_texts(root)) == []


def test_leak_in_a_hidden_file_is_found(tmp_path: Path) -> None:
    root = bundle_with(tmp_path, ".raw_outputs.txt", "x" + COMPLETION[5:40] + "x")
    assert leaks({"arm/item": COMPLETION}, published_texts(root)) == [
        f"arm/item -> validation/demo/.raw_outputs.txt: {COMPLETION[5 : 5 + WINDOW]!r}"
    ]


def test_leak_escaped_inside_json_is_found(tmp_path: Path) -> None:
    escaped = json.dumps({"note": COMPLETION}, ensure_ascii=True) + "\n"
    assert COMPLETION[:WINDOW] not in escaped  # the quotes and newline are escaped
    root = bundle_with(tmp_path, "records.jsonl", escaped)
    assert len(leaks({"arm/item": COMPLETION}, published_texts(root))) == 1


def test_shorter_overlap_is_no_leak(tmp_path: Path) -> None:
    root = bundle_with(tmp_path, "notes.txt", COMPLETION[: WINDOW - 1])
    assert leaks({"arm/item": COMPLETION}, published_texts(root)) == []
