"""Backends registered by name; each lives in its own module and is imported on demand."""

from __future__ import annotations

import importlib

from tais.errors import ConfigError
from tais.generate.backends.base import Backend, RawOutput

_REGISTRY = {
    "vllm": "tais.generate.backends.vllm_offline:VllmOfflineBackend",
    "openai": "tais.generate.backends.openai_http:OpenAIBackend",
}


def available() -> list[str]:
    return sorted(_REGISTRY)


def get_backend(name: str) -> Backend:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown backend {name!r}; available: {', '.join(available())}")
    module_name, _, attr = _REGISTRY[name].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    backend: Backend = cls()
    return backend


__all__ = ["Backend", "RawOutput", "available", "get_backend"]
