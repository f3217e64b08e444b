"""Judges registered by name; each lives in its own module."""

from __future__ import annotations

import importlib
from typing import Any

from tais.errors import ConfigError
from tais.judges.base import Judge, JudgeRequest

_REGISTRY = {
    "keyword": "tais.judges.keyword:KeywordJudge",
    "multiple_choice": "tais.judges.multiple_choice:MultipleChoiceJudge",
    "ollama": "tais.judges.ollama:OllamaJudge",
    "paper": "tais.judges.paper:PaperJudge",
}


def available() -> list[str]:
    return sorted(_REGISTRY)


def get_judge(name: str, options: dict[str, Any] | None = None) -> Judge:
    """The judge registered as `name`, built with `options` (unknown options fail loudly)."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown judge {name!r}; available: {', '.join(available())}")
    module_name, _, attr = _REGISTRY[name].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    try:
        judge: Judge = cls(**(options or {}))
    except TypeError as exc:
        raise ConfigError(f"judge {name!r}: bad options: {exc}") from None
    return judge


__all__ = ["Judge", "JudgeRequest", "available", "get_judge"]
