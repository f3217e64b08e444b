"""`tais bench`: synthetic bundles verify passes, the judge-work count, the CLI's table and
JSON; the engine measurement end to end (slow: three engines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tais.bench.bench import arms_by_kind, bench_judging, run_bench
from tais.bench.verify import read_hash_parse, synthetic_bundle
from tais.cli import main
from tais.config.config import JudgeSpec, load_config
from tais.io import read_jsonl, sha256_text
from tais.records import Generation, Item, SampleRecord
from tais.verify.verify import verify

from .conftest import DEMO_CONFIG, ROOT

TEMPLATE = ROOT / "validation" / "demo"


def test_a_synthetic_bundle_grows_by_whole_items_and_passes_verify(tmp_path: Path) -> None:
    base = read_jsonl(TEMPLATE / "records.jsonl", SampleRecord)
    run_dir = synthetic_bundle(TEMPLATE, 3 * len(base), tmp_path / "root")
    grown = read_jsonl(run_dir / "records.jsonl", SampleRecord)
    assert len(grown) == 3 * len(base)
    assert len({(r.arm, r.item_id) for r in grown}) == len(grown)
    assert verify(tmp_path / "root") == ["demo"]
    read_hash_parse(tmp_path / "root")


def _generation(item: Item, arm: str, text: str) -> Generation:
    return Generation(
        item_id=item.item_id,
        pair="tiny",
        arm=arm,
        chunk=0,
        text=text,
        token_ids=None,
        output_sha256=sha256_text(text),
        n_tokens=1,
        finish_reason="stop",
        choice_logprobs=None,
    )


def test_judge_requests_equal_distinct_prompt_output_pairs(tmp_path: Path) -> None:
    config = load_config(DEMO_CONFIG)
    items = [
        i for i in read_jsonl(ROOT / "bundle/battery/demo.jsonl", Item) if i.kind != "capability"
    ]
    items = items[:20]
    # Two arms say the same for every item, a third says something else for every other one.
    gens = [_generation(i, arm, f"answer {i.item_id}") for i in items for arm in ("a", "b")]
    gens += [
        _generation(i, "c", f"other {i.item_id}" if n % 2 else f"answer {i.item_id}")
        for n, i in enumerate(items)
    ]
    (row,) = bench_judging([JudgeSpec(name="keyword")], items, gens, tmp_path)
    assert row.outputs == 60 and row.distinct_pairs == 30
    assert row.requests == 30 and row.ratio == 1.0
    assert [a.name for a in arms_by_kind(config)] == ["target_only", "draft_k3", "ngram_k3"]


def test_bench_cli_prints_ratios_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    small = ["--repeats", "1", "--records", "2400", "--fractions", "0.5,1"]
    result = CliRunner().invoke(main, ["bench", "--no-engine", *small, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "read + hash + parse" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [v["records"] for v in report["verify"]] == [1200, 2400]
    assert all(v["ratio"] > 0 for v in report["verify"])
    assert report["generation"] == [] and report["judging"] == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--fractions", "0,1"], "each fraction must lie in (0, 1]"),
        (["--fractions", "half"], "give fractions such as"),
        (["--template", "nowhere"], "nowhere: not a published run"),
    ],
)
def test_bench_cli_refuses_bad_options_without_a_traceback(args: list[str], said: str) -> None:
    result = CliRunner().invoke(main, ["bench", "--no-engine", *args])
    assert result.exit_code != 0 and said in result.output
    assert "Traceback" not in result.output


@pytest.mark.engine
@pytest.mark.slow
def test_bench_times_each_arm_kind_against_raw_vllm(tmp_path: Path) -> None:
    report = run_bench(DEMO_CONFIG, TEMPLATE, repeats=1, records=1200, fractions=(1.0,))
    assert [g.kind for g in report.generation] == ["target-only", "draft_model", "ngram"]
    for g in report.generation:
        assert g.items == 300 and len(g.raw_s) == len(g.harness_s) == 1
        assert 0 < g.ratio <= g.ratio_generate_only
    assert {j.judge for j in report.judging} == {"keyword", "multiple_choice"}
    assert all(j.requests == j.distinct_pairs for j in report.judging if j.judge == "keyword")
