"""A published bundle with its report files drawn from its own records, whatever code
published it, so figure and page tests do not wait for a re-publish."""

from __future__ import annotations

from pathlib import Path

from tais.analysis.acceptance import AcceptanceReport
from tais.analysis.summary import Summary
from tais.config.config import load_config
from tais.config.places import PublishPlaces
from tais.io import atomic_write_text, read_jsonl
from tais.publish.manifest import write_manifest
from tais.records import Divergence
from tais.report.files import report_files, volatile_files

from .bundle_support import published_copy


def draw_run(run_dir: Path) -> dict[str, str]:
    """Write report.md, report.html and every figure of run_dir from its summary and records."""
    places = PublishPlaces(run_dir)
    summary = Summary.model_validate_json(places.summary.read_text(encoding="utf-8"))
    files = {
        **report_files(
            load_config(places.config), summary, read_jsonl(places.divergences, Divergence)
        ),
        **volatile_files(
            AcceptanceReport.model_validate_json(places.acceptance.read_text(encoding="utf-8"))
        ),
    }
    for rel, text in files.items():
        atomic_write_text(run_dir / rel, text)
    return files


def drawn_copy(run: str, dest: Path) -> Path:
    """published_copy of `run` with its report files drawn and the manifest re-written."""
    root = published_copy(run, dest)
    draw_run(root / "validation" / run)
    write_manifest(root)
    return root
