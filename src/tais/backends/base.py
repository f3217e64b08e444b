"""The interface every generation backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tais.config import Arm, Engine
from tais.records import Message, SpecCounters


@dataclass(frozen=True)
class RawOutput:
    text: str
    token_ids: list[int]
    finish_reason: str | None


class Backend(Protocol):
    """One engine process serving one arm. Heavy imports happen inside `start`."""

    def start(self, arm: Arm, engine: Engine) -> None: ...

    def prompt_tokens(self, conversations: list[list[Message]]) -> list[int]:
        """Length in tokens of each conversation as the engine will template it."""
        ...

    def generate(self, conversations: list[list[Message]]) -> list[RawOutput]: ...

    def counters(self) -> SpecCounters:
        """Cumulative speculative counters of this process."""
        ...

    def versions(self) -> dict[str, str]: ...
