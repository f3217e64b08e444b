"""The paper's figures file: its schema, the recomputation of each figure, `tais paper-check`.

Expected recomputations are outside values with their producing call beside them
(statsmodels 0.15.0, scipy 1.17.1), or plain arithmetic on the stated inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tais.cli import main
from tais.config.paper_figures import FIGURES, load_figures, parse_figures, parse_number
from tais.errors import ConfigError
from tais.paper.check import check_figures, paper_figure_check

from .conftest import ROOT

SHIPPED = ROOT / FIGURES


def figure(**fields: Any) -> dict[str, Any]:
    base = {"id": "f", "description": "a figure", "source": "paper", "statistic": "rate"}
    return {**base, **fields}


def checks_of(*figures: dict[str, Any]) -> dict[tuple[str, str], Any]:
    result = check_figures(parse_figures({"source": "test", "figures": list(figures)}))
    return {(c.figure, c.quantity): c for c in result.checks}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "figures.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- the shipped file ----------------------------------------------------------------------


def test_shipped_figures_load_and_name_what_they_measure() -> None:
    figures = load_figures(SHIPPED)
    ids = {f.id for f in figures.figures}
    # The P1 table: 5 models alone on 6 tasks.
    assert sum(1 for f in figures.figures if f.phases == ["P1"] and f.statistic == "rate") == 30
    for fid in (
        "e0-p2-identity",
        "e1-advbench-refusal",
        "e2-identity",
        "e3-identity",
        "e4-identity",
        "e5-identity-llama-3b",
        "e0-p5-acceptance-safety",
        "e0-max-abs-h-advbench",
        "e0-tost-passes",
        "all-generations",
    ):
        assert fid in ids
    for f in figures.figures:
        assert f.description and f.statistic


def test_shipped_figures_reproduce_the_known_discrepancies() -> None:
    result = paper_figure_check(SHIPPED)
    wrong = {(c.figure, c.quantity): c for c in result.mismatches}
    # statsmodels 0.15.0: mcnemar([[0, 0], [3, 0]], exact=True).pvalue -> 0.25
    assert wrong["report-mcnemar-0-vs-3", "value"].recomputed == "0.25000"
    # statsmodels 0.15.0: proportion_confint(587, 700, method="wilson")
    #   -> (0.8094794756630072, 0.8639676395356345)
    assert wrong["e1-advbench-refusal-report", "interval"].recomputed == "[0.80948, 0.86397]"
    every = {(c.figure, c.quantity): c for c in result.checks}
    assert every["e1-advbench-refusal", "interval"].follows is True
    # Every sample total the paper prints follows from its parts.
    totals = [c for c in result.checks if c.figure.endswith("generations")]
    assert totals and all(c.follows for c in totals)
    assert every["all-generations", "value"].recomputed == "64,855"
    assert every["e0-generations", "value"].recomputed == "16,783"


# --- recomputation -------------------------------------------------------------------------


def test_wilson_interval_follows_or_not() -> None:
    # statsmodels 0.15.0: proportion_confint(587, 700, alpha=0.05, method="wilson")
    #   -> (0.8094794756630072, 0.8639676395356345)
    good = figure(
        id="good",
        printed="0.839",
        k=587,
        n=700,
        interval="[0.809, 0.864]",
        interval_method="wilson",
    )
    bad = figure(
        id="bad", printed="0.839", k=587, n=700, interval="[0.783, 0.884]", interval_method="wilson"
    )
    rows = checks_of(good, bad)
    assert rows["good", "value"].follows and rows["good", "interval"].follows
    assert rows["bad", "value"].follows
    assert rows["bad", "interval"].follows is False
    assert rows["bad", "interval"].printed == "[0.783, 0.884]"


def test_exact_mcnemar_against_statsmodels() -> None:
    # statsmodels 0.15.0: mcnemar([[0, 0], [3, 0]], exact=True).pvalue -> 0.25
    # statsmodels 0.15.0: mcnemar([[0, 2], [9, 0]], exact=True).pvalue -> 0.0654296875
    rows = checks_of(
        figure(id="p-right", statistic="mcnemar_p", printed="0.250", only_a=0, only_b=3),
        figure(id="p-wrong", statistic="mcnemar_p", printed="1.000", only_a=0, only_b=3),
        figure(id="p-other", statistic="mcnemar_p", printed="0.065", only_a=9, only_b=2),
    )
    assert rows["p-right", "value"].follows is True
    assert rows["p-wrong", "value"].follows is False
    assert rows["p-wrong", "value"].recomputed == "0.25000"
    assert rows["p-other", "value"].follows is True


def test_percentages_follow_at_their_printed_precision() -> None:
    rows = checks_of(
        figure(id="e5", statistic="identity_share", printed="39.92%", k=1599, n=4006),
        figure(id="off", statistic="identity_share", printed="39.90%", k=1599, n=4006),
    )
    # 1599 / 4006 = 0.399151..., which rounds to 39.92% and not to 39.90%.
    assert rows["e5", "value"].follows is True
    assert rows["e5", "value"].recomputed == "39.9151%"
    assert rows["off", "value"].follows is False


def test_a_rate_must_be_reachable_from_its_item_count() -> None:
    rows = checks_of(
        figure(id="ok", printed=".519", n=285, score_step=1),
        figure(id="unreachable", printed=".583", n=285, score_step=1),
        figure(id="half-points", printed=".510", n=50, score_step=0.5),
    )
    assert rows["ok", "value"].recomputed == "148/285 = 0.51930"
    assert rows["unreachable", "value"].follows is False
    # 166/285 = 0.58246 and 167/285 = 0.58596 straddle .583 without rounding to it.
    assert rows["unreachable", "value"].recomputed == "166/285 = 0.58246 or 167/285 = 0.58596"
    assert rows["half-points", "value"].recomputed == "25.5/50 = 0.51000"


def test_pooled_counts_and_sums() -> None:
    parts = [
        figure(id=f"part-{i}", statistic="identity_share", printed=f"{k}/953")
        for i, k in enumerate((881, 836, 875))
    ]
    pooled = figure(
        id="pooled",
        statistic="identity_share",
        printed="90.66%",
        k=2592,
        n=2859,
        pooled_from=["part-0", "part-1", "part-2"],
    )
    misstated = figure(
        id="misstated",
        statistic="identity_share",
        printed="90.66%",
        k=2591,
        n=2859,
        pooled_from=["part-0", "part-1", "part-2"],
    )
    rows = checks_of(*parts, pooled, misstated)
    assert rows["pooled", "counts"].follows and rows["pooled", "value"].follows
    assert rows["misstated", "counts"].follows is False
    assert rows["misstated", "counts"].recomputed == "2,592/2,859"
    assert rows["part-0", "value"].follows is None


def test_arithmetic_of_sample_counts() -> None:
    rows = checks_of(
        figure(id="battery", statistic="generations", printed="953", sum_of=[468, 485]),
        figure(id="p1", statistic="generations", printed="4,765", product_of=[5, "battery"]),
        figure(
            id="core", statistic="generations", printed="16,783", sum_of=["p1", 2859, 2859, 6300]
        ),
        figure(
            id="wrong", statistic="generations", printed="16,793", sum_of=["p1", 2859, 2859, 6300]
        ),
    )
    assert rows["p1", "value"].follows and rows["core", "value"].follows
    assert rows["wrong", "value"].follows is False
    assert rows["wrong", "value"].recomputed == "16,783"


def test_range_of_complements() -> None:
    shares = [
        figure(id=f"s{k}", statistic="identity_share", printed="x", k=k, n=4006)
        for k in (1599, 1448, 2111)
    ]
    for share in shares:
        share["printed"] = f"{100 * share['k'] / 4006:.2f}%"
    changed = figure(
        id="changed",
        statistic="changed_share_range",
        printed="[47%, 64%]",
        range_of=["s1599", "s1448", "s2111"],
        complement=True,
    )
    rows = checks_of(*shares, changed)
    # 1 - 2111/4006 = 0.47304..., 1 - 1448/4006 = 0.63854...
    assert rows["changed", "range"].follows is True
    assert rows["changed", "range"].recomputed == "[47.30%, 63.85%]"


def test_figures_without_inputs_are_stated_only() -> None:
    rows = checks_of(figure(id="acc", statistic="acceptance_rate", printed="0.478"))
    assert rows["acc", "value"].follows is None and rows["acc", "value"].recomputed is None


def test_parse_number_keeps_the_printed_precision() -> None:
    assert parse_number(".790").half_unit == pytest.approx(0.0005)
    assert parse_number("90.66%").value == pytest.approx(0.9066)
    assert parse_number("90.66%").half_unit == pytest.approx(0.00005)
    assert parse_number("16,783").value == 16783.0
    with pytest.raises(ValueError):
        parse_number("about 5")


# --- schema errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (figure(id="x", printed="0.5", colour="red"), "unknown key 'figures[x].colour'"),
        (figure(id="x", printed="0.5", statistic="median"), "figures[x].statistic"),
        (figure(id="x", printed="0.5", k=3), "`k` and `n` go together"),
        (figure(id="x", printed="0.5", k=1, n=2, only_a=0, only_b=1), "one kind of inputs"),
        (figure(id="x", printed="0.5", only_a=1), "`only_a` and `only_b` go together"),
        (
            figure(id="x", printed="0.5", interval="[0.4, 0.6]", interval_method="wilson"),
            "an interval needs counts",
        ),
        (
            figure(id="x", printed="0.5", k=1, n=2, interval="0.4-0.6", interval_method="wilson"),
            "is not of the form [low, high]",
        ),
        (figure(id="x", printed="about half"), "not a printed number"),
        (figure(id="x", statistic="generations", printed="12.5", sum_of=[12]), "an integer"),
        (figure(id="x", printed="0.5", sum_of=["nowhere"]), "unknown figure 'nowhere'"),
        (figure(id="x", printed="0.5", complement=True), "`complement` needs `range_of`"),
    ],
)
def test_bad_figures_fail_naming_the_key(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_figures({"source": "test", "figures": [bad]}, "figures.yaml")
    assert message in str(caught.value)


def test_duplicate_ids_and_cycles_are_refused() -> None:
    twice = [figure(id="a", printed="1"), figure(id="a", printed="2")]
    with pytest.raises(ConfigError, match="used twice"):
        parse_figures({"source": "test", "figures": twice})
    loop = [
        figure(id="a", statistic="generations", printed="1", sum_of=["b"]),
        figure(id="b", statistic="generations", printed="1", sum_of=["a"]),
    ]
    with pytest.raises(ConfigError, match="cycle"):
        parse_figures({"source": "test", "figures": loop})


def test_sums_only_of_counts_and_pools_only_of_counts() -> None:
    rate = figure(id="rate", printed="0.5")
    with pytest.raises(ConfigError, match="not a count of generations"):
        parse_figures(
            {
                "source": "t",
                "figures": [
                    rate,
                    figure(id="s", statistic="generations", printed="1", sum_of=["rate"]),
                ],
            }
        )
    with pytest.raises(ConfigError, match="states no counts"):
        parse_figures(
            {
                "source": "t",
                "figures": [rate, figure(id="p", printed="0.5", pooled_from=["rate", "rate"])],
            }
        )


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_figures(tmp_path / "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("figures: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_figures(broken)
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_figures(write(tmp_path, ["a", "b"]))


# --- the command ---------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_paper_check_reports_mismatches_and_exits_0(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "source": "test",
            "figures": [
                figure(id="p-wrong", statistic="mcnemar_p", printed="1.000", only_a=0, only_b=3),
                figure(id="total", statistic="generations", printed="953", sum_of=[468, 485]),
            ],
        },
    )
    code, out = run_cli("paper-check", "--figures", str(path))
    assert code == 0
    assert "2 printed quantities, 2 recomputed from stated inputs, 1 do not follow" in out
    assert "p-wrong (value): printed 1.000, recomputed 0.25000" in out


def test_paper_check_runs_on_the_shipped_file() -> None:
    code, out = run_cli("paper-check")
    assert code == 0 and "report-mcnemar-0-vs-3" in out


def test_paper_check_bad_file_is_one_message(tmp_path: Path) -> None:
    path = write(tmp_path, {"source": "test", "figures": [figure(id="x", printed="1", hue=2)]})
    code, out = run_cli("paper-check", "--figures", str(path))
    assert code == 1 and "unknown key 'figures[x].hue'" in out
