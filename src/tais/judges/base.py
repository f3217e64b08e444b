"""The interface every judge implements.

A judge sees what a blinded rater would: the item (prompt, kind, reference) and the output
text. Never the arm, the model or the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tais.records import Item, Kind


@dataclass(frozen=True)
class JudgeRequest:
    item: Item
    text: str


class Judge(Protocol):
    name: str
    kinds: frozenset[Kind]

    def config(self) -> dict[str, Any]:
        """Everything that changes a verdict; its hash keys the cache."""
        ...

    def judge(self, requests: list[JudgeRequest]) -> list[dict[str, Any]]: ...
