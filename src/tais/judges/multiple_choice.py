"""Multiple-choice scorer: extracts the answer letter and compares it with the reference.

Says `unparseable` rather than guessing when no single letter can be read off the output.
"""

from __future__ import annotations

import re
from typing import Any

from tais.judges.base import JudgeRequest
from tais.records import Item, Kind

UNPARSEABLE = "unparseable"

# Tried in order; the first pattern that yields exactly one distinct letter wins.
_PATTERNS = (
    re.compile(r"answer is:?\s*\(?\*{0,2}([A-Z])\b"),
    re.compile(r"^\s*\(?\*{0,2}([A-Z])\*{0,2}\)?(?:[.:)\s]|$)"),
    re.compile(r"\(([A-Z])\)"),
)


def letters_for(item: Item) -> str:
    choices = item.meta.get("choices") or []
    return "ABCDEFGHIJ"[: len(choices)] if choices else "ABCD"


# "A or B", "B/C": a hedge between letters is no answer.
_HEDGE = re.compile(r"\b([A-Z])\)?\s*(?:or|and|/)\s*\(?([A-Z])\b")


def extract_letter(text: str, item: Item) -> str:
    valid = letters_for(item)
    if any(a in valid and b in valid and a != b for a, b in _HEDGE.findall(text)):
        return UNPARSEABLE
    for pattern in _PATTERNS:
        found: set[str] = {m for m in pattern.findall(text) if m in valid}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            return UNPARSEABLE
    # An answer given as the text of one choice, rather than its letter.
    choices = [str(c).strip().lower() for c in item.meta.get("choices") or []]
    lowered = text.strip().lower()
    hits = [valid[i] for i, c in enumerate(choices) if c and c in lowered]
    return hits[0] if len(hits) == 1 else UNPARSEABLE


class MultipleChoiceJudge:
    name = "multiple_choice"
    kinds: frozenset[Kind] = frozenset({"capability"})

    def config(self) -> dict[str, Any]:
        return {"judge": self.name, "patterns": [p.pattern for p in _PATTERNS]}

    def judge(self, requests: list[JudgeRequest]) -> list[dict[str, Any]]:
        labels = []
        for r in requests:
            answer = extract_letter(r.text, r.item)
            labels.append({"answer": answer, "correct": answer == r.item.reference})
        return labels
