"""Shared helpers for tests built on the demo config and the bundled tiny models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tais.config.config import ExperimentConfig, parse_config
from tais.records import SampleRecord

from .conftest import DEMO_CONFIG


class QuietProgress:
    def arm_started(self, arm: str, total: int, done: int) -> None:
        pass

    def arm_advanced(self, arm: str, done: int) -> None:
        pass

    def arm_finished(self, arm: str, skipped: bool) -> None:
        pass

    def arm_reused(self, arm: str, origin: str) -> None:
        pass


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO_CONFIG.read_text())
    return data


def demo_config(contrasts: list[dict[str, str]] | None = None) -> ExperimentConfig:
    """The demo experiment, contrasting target_only with draft_k3 unless told otherwise."""
    data = demo_data()
    data["contrasts"] = contrasts or [{"a": "target_only", "b": "draft_k3"}]
    return parse_config(data)


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def harmful_record(arm: str, i: int, refused: bool, text_id: str = "same") -> SampleRecord:
    return SampleRecord(
        item_id=f"h/{i:03d}",
        benchmark="t",
        task="harmful_requests",
        kind="harmful",
        pair="tiny",
        arm=arm,
        output_sha256=f"{text_id}-{i}",
        token_ids_sha256=f"{text_id}-{i}",
        n_tokens=5,
        n_bytes=20,
        finish_reason="stop",
        labels={"keyword": {"refused": refused}},
    )
