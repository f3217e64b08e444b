"""What every benchmark loader shares: reading the mirror's files, and building Items.

A loader reads either a folder laid out like `../shared/data/<dataset>/` or the Hugging Face
hub (see `hub.py`), turns both into rows of the mirror's schema, and builds Items from those
rows with one function, so the two sources cannot drift apart in what they produce.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tais.errors import DataError
from tais.records import Item, Kind, Message

Row = dict[str, Any]
LETTERS = string.ascii_uppercase
ANSWER_INSTRUCTION = "Answer with the letter."


@dataclass(frozen=True)
class HubRef:
    """One split of a Hugging Face dataset repository the loader falls back to."""

    repo: str
    config: str | None
    split: str
    revision: str = "main"


@dataclass(frozen=True)
class Benchmark:
    """A built-in benchmark: its mirror folder, its tasks, and its loader.

    `load(folder)` reads the mirror-shaped folder, or the hub when `folder` is None. A
    benchmark of fixed size may declare its items per task (`sizes`) and per task of each
    subset (`subset_sizes`), which `tais plan` uses when no data is at hand.
    """

    name: str
    dataset: str
    tasks: dict[str, Kind]
    load: Callable[[Path | None], list[Item]]
    sizes: dict[str, int] | None = None
    subset_sizes: dict[str, dict[str, int]] | None = None


def require_file(benchmark: str, folder: Path, relative: str, expected: str) -> Path:
    path = folder / relative
    if not path.is_file():
        raise DataError(
            f"benchmark {benchmark!r}: {path} not found; expected {expected} "
            f"(the layout of ../shared/data/{folder.name}/, see its SOURCE.md)"
        )
    return path


def require_columns(
    benchmark: str, where: object, found: Iterable[str], needed: Sequence[str]
) -> None:
    missing = [c for c in needed if c not in set(found)]
    if missing:
        raise DataError(
            f"benchmark {benchmark!r}: {where}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(needed)}, found {', '.join(sorted(found)) or 'none'}"
        )


def read_csv(benchmark: str, path: Path, needed: Sequence[str]) -> list[Row]:
    # utf-8-sig: TruthfulQA v1 starts with a byte-order mark.
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            require_columns(benchmark, path, reader.fieldnames or [], needed)
            rows = [dict(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"benchmark {benchmark!r}: {path} is not readable CSV: {exc}") from None
    if not rows:
        raise DataError(f"benchmark {benchmark!r}: {path} has a header but no rows")
    return rows


def read_json_lines(benchmark: str, path: Path, needed: Sequence[str]) -> list[Row]:
    rows: list[Row] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except ValueError as exc:  # not UTF-8, or not JSON
                raise DataError(
                    f"benchmark {benchmark!r}: {path} line {number} is not JSON: {exc}"
                ) from None
            if not isinstance(row, dict):
                raise DataError(f"benchmark {benchmark!r}: {path} line {number} is not an object")
            require_columns(benchmark, f"{path} line {number}", row, needed)
            rows.append(row)
    if not rows:
        raise DataError(f"benchmark {benchmark!r}: {path} has no rows")
    return rows


def read_json(benchmark: str, path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # not UTF-8, or not JSON
        raise DataError(f"benchmark {benchmark!r}: {path} is not JSON: {exc}") from None


def short_hash(*parts: str) -> str:
    """A row key from the row's defining text, for datasets without an id column."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]


def deduplicated(keys: list[str]) -> list[str]:
    """Suffix repeats `-2`, `-3`: identical rows are interchangeable, so this stays stable."""
    seen: Counter[str] = Counter()
    out = []
    for key in keys:
        seen[key] += 1
        out.append(key if seen[key] == 1 else f"{key}-{seen[key]}")
    return out


def user(content: str) -> list[Message]:
    return [Message(role="user", content=content)]


def mc_prompt(question: str, choices: Sequence[str], context: str | None = None) -> str:
    lines = [context.strip(), ""] if context else []
    lines.append(question.strip())
    lines.append("")
    lines.extend(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices))
    lines.append("")
    lines.append(ANSWER_INSTRUCTION)
    return "\n".join(lines)


def permutation(n: int, key: str) -> list[int]:
    """A fixed order of n options, seeded by the item id only (not by the experiment seed).

    Used where a source lists the correct option first (TruthfulQA), so the letter carries no
    answer; the order must not depend on `limit` or on which other items were loaded.
    """
    order = list(range(n))
    random.Random(int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16)).shuffle(order)
    return order


def capability_item(
    *,
    item_id: str,
    benchmark: str,
    task: str,
    question: str,
    choices: Sequence[str],
    answer: int,
    meta: Row,
    context: str | None = None,
) -> Item:
    if not 0 <= answer < len(choices) or len(choices) > len(LETTERS):
        raise DataError(f"{item_id}: answer index {answer} outside {len(choices)} choices")
    return Item(
        item_id=item_id,
        benchmark=benchmark,
        task=task,
        kind="capability",
        messages=user(mc_prompt(question, choices, context)),
        reference=LETTERS[answer],
        meta={**meta, "choices": list(choices)},
    )


def prompt_item(
    *, item_id: str, benchmark: str, task: str, kind: Kind, content: str, meta: Row
) -> Item:
    if not content.strip():
        raise DataError(f"{item_id}: empty prompt")
    return Item(
        item_id=item_id,
        benchmark=benchmark,
        task=task,
        kind=kind,
        messages=user(content),
        meta=meta,
    )
