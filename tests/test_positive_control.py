"""The published positive control stays flagged: re-derived from validation/control-small's
stored records with the library's own analysis, the accepted-but-wrong Gemma 3 draft must FAIL
the identity verdict at the top of the report, whatever the rates do, and the honest n-gram arm
on the same target must stay within the numerics floor."""

from __future__ import annotations

from pathlib import Path

from tais.analysis.analyse import analyse
from tais.analysis.floor import ALL_TASKS
from tais.config.config import load_config
from tais.config.places import PublishPlaces
from tais.io import read_jsonl
from tais.records import Divergence, PublishedArm, SampleRecord
from tais.report.files import REPORT_MD, report_files

RUN = Path(__file__).resolve().parents[1] / "validation" / "control-small"
CONTROL = "gemma-alone~gemma-control-draft-k5"
NGRAM = "gemma-alone~gemma-ngram-k5"


def test_the_accepted_but_wrong_draft_fails_identity_at_the_top_of_the_report() -> None:
    places = PublishPlaces(RUN)
    config = load_config(places.config)
    divergences = read_jsonl(places.divergences, Divergence)
    summary = analyse(
        config,
        read_jsonl(places.records, SampleRecord),
        divergences,
        read_jsonl(places.arms, PublishedArm),
    )
    rows = {cell.contrast: cell for cell in summary.floor if cell.task == ALL_TASKS}
    control, ngram = rows[CONTROL], rows[NGRAM]
    # Most of the control's outputs change where no floor arm changes anything.
    assert control.excess >= 0.9 * control.n and control.floor_changed <= 0.05 * control.n
    assert control.verdict == "FAIL" and control.holm_p is not None and control.holm_p < 1e-6
    assert ngram.verdict == "PASS"
    assert summary.identity_verdict is not None
    assert summary.identity_verdict.verdict == "FAIL"
    assert summary.identity_verdict.worst == CONTROL
    # A rate-only screen would not fail it: no gated cell of the control fails on rates.
    control_cells = [c for c in summary.contrasts if c.contrast == CONTROL]
    assert control_cells and all(c.verdict != "FAIL" for c in control_cells)
    report = report_files(config, summary, divergences)[REPORT_MD]
    head = report.splitlines()[:6]
    assert any(line.startswith("**Identity verdict: FAIL") for line in head)
