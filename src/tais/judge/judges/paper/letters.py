"""The paper's letter extractor for MMLU and ARC: the first rule that finds a letter wins.

1. "answer is X" or "answer: X", optionally "correct answer", the letter optionally in
   parentheses;
2. else a reply that starts with "(X)" or "X)";
3. else a reply whose first character is a letter not followed by another letter ("B. Paris",
   "B", and also "A cat ...": the article reads as a letter by this rule, as in the paper).

Words match in any case, letters only in upper case (a lower-case "a" is an article). The
paper accepts A-D; here the item's own letters are accepted (ARC has a few 3- and 5-option
questions), which is A-D for every MMLU item. No letter found counts as wrong.
"""

from __future__ import annotations

import re

_NOT_LETTER = r"(?![A-Za-z])"


def extract(text: str, letters: str) -> str | None:
    valid = f"[{letters}]"
    stated = re.search(
        r"(?i:\b(?:correct\s+)?answer\s*(?:is\s*:?|:))\s*\(?(" + valid + r")\)?" + _NOT_LETTER,
        text,
    )
    if stated:
        return stated.group(1)
    leading = re.match(r"\s*(?:\((" + valid + r")\)|(" + valid + r")\))", text)
    if leading:
        return leading.group(1) or leading.group(2)
    first = re.match(r"\s*(" + valid + r")" + _NOT_LETTER, text)
    return first.group(1) if first else None
