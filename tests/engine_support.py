"""Shared helpers for tests that run the real vLLM engine on the bundled tiny models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .conftest import DEMO_CONFIG


class QuietProgress:
    def arm_started(self, arm: str, total: int, done: int) -> None:
        pass

    def arm_advanced(self, arm: str, done: int) -> None:
        pass

    def arm_finished(self, arm: str, skipped: bool) -> None:
        pass


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text())
    return data


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
