"""The reproduction table: the paper's figures beside what a run measured, on the expanded
e0 CPU config and synthetic records whose outcomes are set by construction (tests.test_sweep).

Expected statistics are hard-coded with the producing call beside them (statsmodels 0.15.0);
none came from tais.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tais.analysis.summary import ReproductionRow
from tais.config.config import parse_config
from tais.config.profiles import load_experiment
from tais.errors import ConfigError
from tais.report.report import render_report

from .test_sweep import EXPERIMENTS, e0_cpu, e0_summary, problems, publish


def rows() -> dict[str, ReproductionRow]:
    table = e0_summary().reproduction
    assert table is not None
    assert table.experiment == "E0" and table.stand_in
    return {row.figure: row for row in table.rows}


def test_every_e0_figure_has_a_row_and_no_other_experiments() -> None:
    found = rows()
    assert "e0-p1-llama-3b-advbench" in found and "e0-generations" in found
    assert not [f for f in found if f.startswith(("e1-", "e5-", "battery"))]


def test_a_p1_rate_with_its_wilson_interval() -> None:
    row = rows()["e0-p1-llama-3b-advbench"]  # the target alone refuses 9 of 12
    assert row.this_run == 0.75 and row.this_run_text == "9/12"
    # statsmodels.stats.proportion.proportion_confint(9, 12, method="wilson")
    assert row.ci_low == pytest.approx(0.46769466506643426, rel=1e-12)
    assert row.ci_high == pytest.approx(0.9110583316059453, rel=1e-12)
    assert row.paper == 0.79 and row.difference == pytest.approx(0.75 - 0.79)
    assert row.inside is True
    # The tiny pair stands in for every paper pair: the same arm, so the same value.
    assert rows()["e0-p1-qwen-3b-advbench"].this_run == 0.75


def test_identity_pools_the_contrast_cells_of_the_figures_phases() -> None:
    row = rows()["e0-p2-identity-llama-3b"]
    # P2 and the target alone give the same outputs on all 12 + 6 + 5 items.
    assert row.this_run_text == "23/23" and row.this_run == 1.0
    # statsmodels.stats.proportion.proportion_confint(23, 23, method="wilson")
    assert row.ci_low == pytest.approx(0.856883381549573, rel=1e-12)
    assert row.paper == pytest.approx(881 / 953) and row.inside is True


def test_largest_cohens_h_over_the_phases() -> None:
    row = rows()["e0-max-abs-h-advbench"]
    # P4 at N=12 refuses 4 of the 10 items the target alone refuses 9 of:
    # statsmodels.stats.proportion.proportion_effectsize(0.9, 0.4)
    assert row.this_run == pytest.approx(1.128653138791943, rel=1e-12)
    assert row.ci_low is None and row.inside is None


def test_generations_count_the_arms_of_the_figure() -> None:
    found = rows()
    assert found["e0-p2-generations"].this_run == 23.0
    assert found["e0-p1-generations"].this_run == 46.0  # target and draft alone
    assert found["e0-p4-generations"].this_run == 5 * 16  # safety tasks of the sweep only


def test_acceptance_points_to_the_volatile_measurements() -> None:
    row = rows()["e0-p5-acceptance-safety"]
    assert row.this_run is None and "volatile/performance.md" in row.note


def test_report_has_the_table_and_says_the_models_stand_in() -> None:
    report = render_report(e0_summary())
    assert "## Reproduction of the paper's figures (E0)" in report
    assert "stand in for the paper's" in report
    assert "| e0-p1-llama-3b-advbench | .790 | 0.750 (9/12) | -0.040 |" in report


def test_verify_rederives_the_this_run_column(tmp_path: Path) -> None:
    run = publish(tmp_path)
    assert problems(run) == []
    summary = json.loads((run / "summary.json").read_text())
    cells = summary["reproduction"]["rows"]
    index = next(i for i, r in enumerate(cells) if r["figure"] == "e0-p1-llama-3b-advbench")
    cells[index]["this_run"] = 0.79
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    found = problems(run)
    where = f"{run / 'summary.json'}.reproduction.rows[{index}].this_run"
    assert found == [f"{where}: stored 0.79, re-derived 0.75"]


def test_a_hand_written_config_has_no_table() -> None:
    config = e0_cpu()
    plain = parse_config(
        {**config.model_dump(mode="json", exclude={"paper"}), "experiment": "plain"}, "plain"
    )
    assert plain.paper is None


def test_a_role_naming_an_unknown_group_fails_loudly(tmp_path: Path) -> None:
    text = (EXPERIMENTS / "e0.yaml").read_text().replace("[drafts]", "[draughts]")
    (tmp_path / "e0.yaml").write_text(text)
    (tmp_path / "base.yaml").write_text((EXPERIMENTS / "base.yaml").read_text())
    with pytest.raises(ConfigError, match=r"paper.roles.draft-only: unknown group 'draughts'"):
        load_experiment(tmp_path / "e0.yaml", "cpu")


def test_a_paper_pair_naming_an_unknown_pair_fails_loudly(tmp_path: Path) -> None:
    base = (EXPERIMENTS / "base.yaml").read_text().replace("llama-70b: tiny}", "llama-70b: big}")
    (tmp_path / "base.yaml").write_text(base)
    (tmp_path / "e0.yaml").write_text((EXPERIMENTS / "e0.yaml").read_text())
    with pytest.raises(ConfigError, match=r"paper.pairs.llama-70b: unknown pair 'big'"):
        load_experiment(tmp_path / "e0.yaml", "cpu")


def test_the_gpu_profile_maps_each_paper_pair_to_its_own_pair() -> None:
    config = load_experiment(EXPERIMENTS / "e0.yaml", "gpu").config
    assert config.paper is not None and not config.paper.stand_in
    assert config.paper.pairs["qwen-1.5b"] == "qwen-1b5"
    probe = load_experiment(EXPERIMENTS / "e1.yaml", "gpu").config
    assert probe.paper is not None and probe.paper.experiment == "E1"
    assert {a.pair for a in probe.arms} == {probe.paper.pairs["llama-70b"]}
