"""The interface every generation backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tais.config.config import Arm, Engine
from tais.records import Item, Message, SpecCounters


@dataclass(frozen=True)
class RawOutput:
    """One completion. `token_ids` is None where the engine does not return them (a server
    that sends text only); `n_tokens` is then the server's own count of generated tokens.
    `counters`: this request's own speculative counters (zero without speculation), None
    where the engine does not report them per request."""

    text: str
    token_ids: list[int] | None
    n_tokens: int
    finish_reason: str | None
    counters: SpecCounters | None = None


@dataclass(frozen=True)
class ChoiceRequest:
    """Options to score as the assistant's whole reply to `conversation`."""

    conversation: list[Message]
    choices: list[str]


class Backend(Protocol):
    """One engine process serving one arm. Heavy imports happen inside `start`.

    `logs` is the run's log folder (a backend that starts a server writes its log there);
    `stop` releases whatever `start` took and is called however the arm ends.
    """

    def start(self, arm: Arm, engine: Engine, logs: Path) -> None: ...

    def stop(self) -> None: ...

    def context_need(self, items: list[Item]) -> list[int] | None:
        """Per item, the context positions its longest request fills (see tais.generate.fit); None
        when the backend has no tokenizer to count with (the server then refuses)."""
        ...

    def generate(self, conversations: list[list[Message]]) -> list[RawOutput]: ...

    def score_choices(self, requests: list[ChoiceRequest]) -> list[list[float]] | None:
        """Summed log-probability of each option after the templated prompt, in option order.

        None when the engine cannot return prompt log-probabilities; callers then fall back
        to the generated letter and say so.
        """
        ...

    def counters(self) -> SpecCounters | None:
        """Cumulative speculative counters of this arm's requests; None when not reported."""
        ...

    def versions(self) -> dict[str, str]: ...

    def reusable(self) -> bool:
        """After `stop`: whether this process may run another arm's backend, its engine having
        been freed without a trace that could change the next arm's outputs."""
        ...
