"""The interface every judge implements.

A judge sees what a blinded rater would: the item (prompt, kind, reference) and the output
text (and, for options scored by log-probability, those numbers). Never the arm, the model
or the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tais.records import Item, Kind


@dataclass(frozen=True)
class JudgeRequest:
    item: Item
    text: str
    # The target's log-probability of each option, where the backend scored them.
    choice_logprobs: list[float] | None = None


class Judge(Protocol):
    """A judge answered by a server (Ollama) also has `server_version() -> str`: the judge
    stage asks it once before fresh calls and keeps it with each label it brings."""

    name: str
    kinds: frozenset[Kind]

    def config(self) -> dict[str, Any]:
        """Everything that changes a verdict; its hash keys the cache."""
        ...

    def judge(self, requests: list[JudgeRequest]) -> list[dict[str, Any]]: ...
