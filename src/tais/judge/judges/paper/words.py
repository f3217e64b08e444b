"""Word sets for the paper's overlap scores: lower-case words minus the bundled stop words."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from tais.errors import DataError

STOPWORDS = Path("bundle/scoring/stopwords.txt")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


@lru_cache(maxsize=4)
def load_stopwords(path: Path = STOPWORDS) -> frozenset[str]:
    if not path.is_file():
        raise DataError(f"stop-word list not found: {path} (run tais from the project root)")
    words = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    bad = [w for w in words if not _WORD.fullmatch(w)]
    if bad:
        raise DataError(f"{path}: not lower-case words: {', '.join(bad[:5])}")
    return frozenset(words)


def words(text: str, stopwords: frozenset[str]) -> set[str]:
    """The distinct lower-case words of `text` that are not stop words."""
    return set(_WORD.findall(text.lower().replace("’", "'"))) - stopwords


def jaccard(a: set[str], b: set[str]) -> float:
    """|a & b| / |a | b|; 0 when both are empty."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0
