"""Judges registered by name; each lives in its own module."""

from __future__ import annotations

import importlib
import inspect
import sys
from types import ModuleType
from typing import Any

from tais.errors import ConfigError
from tais.io import canonical_json, sha256_text
from tais.judge.judges.base import Judge, JudgeRequest

_REGISTRY = {
    "keyword": "tais.judge.judges.keyword:KeywordJudge",
    "multiple_choice": "tais.judge.judges.multiple_choice:MultipleChoiceJudge",
    "ollama": "tais.judge.judges.ollama:OllamaJudge",
    "paper": "tais.judge.judges.paper:PaperJudge",
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


def _tais_imports(module: ModuleType) -> set[str]:
    """The tais modules whose names `module` imports at its top level."""
    found = set()
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        if isinstance(name, str) and (name == "tais" or name.startswith("tais.")):
            found.add(name)
    return found


def judge_sources(judge: object) -> dict[str, str]:
    """Source of the judge's module and of every tais module it imports, transitively."""
    sources: dict[str, str] = {}
    todo = [type(judge).__module__]
    while todo:
        name = todo.pop()
        if name in sources:
            continue
        module = sys.modules[name]
        sources[name] = inspect.getsource(module)
        todo += sorted(_tais_imports(module) - sources.keys())
    return sources


def code_sha256(judge: object) -> str:
    """Hash of `judge_sources`: part of the judgement cache key, so that editing the scoring
    logic (a pattern, a parser, tais.judge.scoring) re-judges on the next run.

    A hash cannot be forgotten the way a version constant to bump by hand can; the price is
    that any edit of those files, even of a comment, re-judges once.
    """
    return sha256_text(canonical_json(judge_sources(judge)))


__all__ = ["Judge", "JudgeRequest", "available", "code_sha256", "get_judge", "judge_sources"]
