"""Figures and report.html: the same bytes from the same inputs anywhere, each re-drawn and
compared by verify, the page self-contained with the verdict first."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tais.analysis.acceptance import acceptance_report
from tais.analysis.summary import Summary
from tais.config.config import load_config
from tais.publish.manifest import write_manifest
from tais.records import ArmPerformance, Divergence
from tais.report.run_figures import (
    acceptance_figure,
    bytes_changed,
    forest,
    n_sweep,
    run_figures,
    value_contrasts,
)
from tais.verify.verify import verify

from .acceptance_support import arm
from .conftest import DEMO_CONFIG, ROOT
from .figure_support import drawn_copy

RUN = "demo"


def demo_summary() -> Summary:
    path = ROOT / "validation" / RUN / "summary.json"
    return Summary.model_validate_json(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def drawn_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return drawn_copy(RUN, tmp_path_factory.mktemp("drawn"))


def problems_of(root: Path) -> list[str]:
    try:
        verify(root)
    except Exception as exc:  # VerifyError: the problems are what the test reads
        return list(getattr(exc, "problems", [str(exc)]))
    return []


FOREST_IN_FRESH_PROCESS = (
    "import sys, pathlib\n"
    "from tais.analysis.summary import Summary\n"
    "from tais.report.run_figures import forest\n"
    "s = Summary.model_validate_json(pathlib.Path(sys.argv[1]).read_text())\n"
    "sys.stdout.write(forest(s))\n"
)


def test_a_figure_has_the_same_bytes_whatever_the_machines_matplotlibrc(tmp_path: Path) -> None:
    # A reader's own matplotlibrc (other font size, id salt, font) must not move a byte.
    config_dir = tmp_path / "mpl"
    config_dir.mkdir()
    (config_dir / "matplotlibrc").write_text(
        "font.size: 21\nsvg.hashsalt: other\nfont.family: serif\nsvg.fonttype: none\n"
    )
    summary_path = ROOT / "validation" / RUN / "summary.json"
    env = {"MPLCONFIGDIR": str(config_dir), "PATH": "/usr/bin:/bin"}
    env["PYTHONPATH"] = ":".join(sys.path)
    fresh = subprocess.run(
        [sys.executable, "-c", FOREST_IN_FRESH_PROCESS, str(summary_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert fresh == forest(demo_summary())


def test_svg_metadata_holds_no_date_and_text_is_drawn_as_paths() -> None:
    svg = forest(demo_summary())
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert "<text" not in svg  # glyphs are paths: no viewer substitutes a font


def test_forest_plot_colours_each_contrast_by_its_verdict() -> None:
    summary = demo_summary()
    failing = summary.contrasts[0].model_copy(update={"verdict": "FAIL", "diff": 0.05})
    mixed = summary.model_copy(update={"contrasts": [failing, *summary.contrasts[1:]]})
    assert "#b2182b" not in forest(summary)
    assert "#b2182b" in forest(mixed) and "#1b7837" in forest(mixed)


def test_bytes_changed_is_drawn_for_dtype_and_seed_contrasts_only() -> None:
    config = load_config(DEMO_CONFIG)
    assert value_contrasts(config) == []
    seeded = config.arms[1].model_copy(update={"name": "draft_seed1", "seed": 1})
    contrast = config.contrasts[0].model_copy(update={"b": "draft_seed1"})
    varied = config.model_copy(
        update={"arms": [*config.arms, seeded], "contrasts": [*config.contrasts, contrast]}
    )
    assert value_contrasts(varied) == [contrast.name]
    divergences = [
        Divergence(
            contrast=name,
            item_id=f"i{k}",
            first_diverging_token=k,
            bytes_changed_share=k / 10,
        )
        for k in range(1, 4)
        for name in (config.contrasts[0].name, contrast.name)
    ]
    assert bytes_changed(config, divergences) is None
    svg = bytes_changed(varied, divergences)
    # Text is drawn as paths; matplotlib keeps each string beside its glyphs as a comment.
    assert svg is not None and "<!-- target_only vs draft_seed1 (n=3) -->" in svg
    assert "draft_k3 (n=3)" not in svg
    assert [d.path for d in run_figures(varied, demo_summary(), divergences)][-1] == (
        "figures/bytes-changed.svg"
    )


def test_acceptance_figure_draws_each_drafting_arm_by_domain_and_task() -> None:
    arms = [arm("plain", "plain"), arm("served", "unreported"), arm("spec", "spec")]
    lines = [line for a in arms for line in a.lines]
    records = [r for a in arms for r in a.records]
    report = acceptance_report([ArmPerformance.of(a.run) for a in arms], lines, records)
    svg = acceptance_figure(report)
    # Text is drawn as paths; matplotlib keeps each label beside its glyphs as a comment.
    assert svg is not None
    assert "<!-- spec: safety -->" in svg and "<!-- spec: mmlu -->" in svg
    # No drafts (plain) and no counters (served): no rows, rather than a 0% bar.
    assert "plain:" not in svg and "served:" not in svg
    only_plain = acceptance_report([ArmPerformance.of(arms[0].run)], arms[0].lines, arms[0].records)
    assert acceptance_figure(only_plain) is None


def test_the_n_sweep_draws_its_points() -> None:
    sweep = n_sweep([("draft", [(1, 0.9, 0.85, 0.95), (3, 0.7, 0.6, 0.8)])])
    assert "<svg" in sweep


def test_report_md_links_every_figure_and_the_page_inlines_them(drawn_root: Path) -> None:
    run_dir = drawn_root / "validation" / RUN
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.svg)\)", report)
    assert linked == ["figures/forest.svg", "figures/identity.svg"]
    assert all((run_dir / rel).is_file() for rel in linked)
    assert page.count('src="data:image/svg+xml;base64,') == len(linked)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    # The verdict, then its forest plot, then the tables.
    assert page.index("Verdict:") < page.index("<img") < page.index("<table>")


def test_verify_passes_a_drawn_bundle_and_names_each_changed_figure(tmp_path: Path) -> None:
    root = drawn_copy(RUN, tmp_path)
    assert verify(root) == [RUN]
    run_dir = root / "validation" / RUN
    forest_svg = run_dir / "figures" / "forest.svg"
    original = forest_svg.read_bytes()
    forest_svg.write_bytes(original.replace(b"#1b7837", b"#b2182b"))
    (run_dir / "figures" / "extra.svg").write_bytes(original)
    (run_dir / "volatile" / "acceptance.svg").unlink()
    page = run_dir / "report.html"
    page.write_text(page.read_text(encoding="utf-8").replace("PASS", "FAIL"))
    write_manifest(root)
    problems = problems_of(root)
    text = "\n".join(problems)
    assert f"{forest_svg}: differs from the one re-drawn from summary.json" in text
    assert f"{run_dir / 'figures' / 'extra.svg'}: no such figure is drawn" in text
    assert f"{run_dir / 'volatile' / 'acceptance.svg'}: missing" in text
    assert f"{run_dir / 'report.html'}: differs" in text
    assert len(problems) == 4, problems


def test_a_design_with_a_sweep_draws_rate_against_n() -> None:
    from tais.report.run_figures import run_figures

    from .test_sweep import e0_cpu, e0_summary

    summary = e0_summary()
    drawn = {d.path: d for d in run_figures(e0_cpu(), summary, [])}
    svg = drawn["figures/n-sweep.svg"].svg
    again = {d.path: d for d in run_figures(e0_cpu(), summary, [])}
    assert svg.startswith("<?xml") and svg == again["figures/n-sweep.svg"].svg
    # One line per sweep row: advbench and truthfulqa of the tiny pair's canonical group.
    assert len(summary.sweeps) == 2 and svg.count("<path") > 10
