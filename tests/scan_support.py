"""Find raw output text in published files: what `runs/` holds must never reach validation/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tais.publish.manifest import MANIFEST

# Shorter strings ("I cannot help with that.") are stock replies anyone can guess; from 24
# characters on, a match in a released file means text leaked.
WINDOW = 24


def raw_texts(generations: Path) -> dict[str, str]:
    """Every output text of the arms' generation files, by 'arm/item_id'."""
    texts = {}
    for path in sorted(generations.glob("*.jsonl")):
        if path.name.endswith(".chunks.jsonl"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            gen = json.loads(line)
            texts[f"{gen['arm']}/{gen['item_id']}"] = gen["text"]
    return texts


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def published_texts(root: Path) -> dict[str, str]:
    """Each released file (hidden ones included) as text; JSON files also by their decoded
    strings, so text escaped inside JSON ("\\n", "\\u00e9") is found too."""
    paths = [p for p in (root / "validation").rglob("*") if p.is_file()] + [root / MANIFEST]
    texts = {}
    for path in paths:
        text = path.read_bytes().decode("utf-8", errors="replace")
        documents = {".json": [text], ".jsonl": text.splitlines()}.get(path.suffix, [])
        decoded = []
        for document in documents:
            try:
                decoded += _strings(json.loads(document))
            except ValueError:
                continue
        texts[path.relative_to(root).as_posix()] = "\n".join([text, *decoded])
    return texts


def leaks(raw: dict[str, str], published: dict[str, str]) -> list[str]:
    """'output -> file: window' for each raw output sharing WINDOW characters with a file."""
    windows: dict[str, str] = {}
    for name, text in published.items():
        for i in range(len(text) - WINDOW + 1):
            windows.setdefault(text[i : i + WINDOW], name)
    found = []
    for output, text in raw.items():
        for i in range(len(text) - WINDOW + 1):
            name = windows.get(text[i : i + WINDOW])
            if name is not None:
                found.append(f"{output} -> {name}: {text[i : i + WINDOW]!r}")
                break
    return found
