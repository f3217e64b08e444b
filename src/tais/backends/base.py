"""The interface every generation backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tais.config import Arm, Engine
from tais.records import Item, Message, SpecCounters


@dataclass(frozen=True)
class RawOutput:
    text: str
    token_ids: list[int]
    finish_reason: str | None


@dataclass(frozen=True)
class ChoiceRequest:
    """Options to score as the assistant's whole reply to `conversation`."""

    conversation: list[Message]
    choices: list[str]


class Backend(Protocol):
    """One engine process serving one arm. Heavy imports happen inside `start`."""

    def start(self, arm: Arm, engine: Engine) -> None: ...

    def context_need(self, items: list[Item]) -> list[int]:
        """Per item, the context positions its longest request fills (see tais.fit)."""
        ...

    def generate(self, conversations: list[list[Message]]) -> list[RawOutput]: ...

    def score_choices(self, requests: list[ChoiceRequest]) -> list[list[float]] | None:
        """Summed log-probability of each option after the templated prompt, in option order.

        None when the engine cannot return prompt log-probabilities; callers then fall back
        to the generated letter and say so.
        """
        ...

    def counters(self) -> SpecCounters:
        """Cumulative speculative counters of this process."""
        ...

    def versions(self) -> dict[str, str]: ...
