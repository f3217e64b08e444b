"""The built-in benchmark loaders, read from the shared mirror (../shared/data, as in CI)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tais.battery.battery import load_source
from tais.battery.benchmarks import BENCHMARKS
from tais.battery.benchmarks.jailbreak import load_templates
from tais.battery.benchmarks.registry import DATA_DIR_ENV
from tais.battery.benchmarks.sampling import quotas
from tais.cli import main
from tais.config.config import BatterySource, parse_config
from tais.errors import ConfigError, DataError
from tais.records import Item

from .conftest import DEMO_CONFIG, ROOT

DATA = ROOT.parent / "shared" / "data"
BENCHMARKS_CONFIG = ROOT / "bundle" / "configs" / "benchmarks.yaml"

# Items per task, and the sentence of the benchmark's SOURCE.md that states those rows.
EXPECTED: dict[str, tuple[dict[str, int], list[str]]] = {
    "advbench": ({"advbench": 520}, ["harmful_behaviors.csv 520"]),
    "harmbench": (
        {"harmbench_standard": 200, "harmbench_contextual": 100, "harmbench_copyright": 100},
        ["standard 200, contextual 100, copyright 100"],
    ),
    "jbb": ({"jbb_harmful": 100, "jbb_benign": 100}, ["**Rows:** 100"]),
    "xstest": ({"xstest_safe": 250, "xstest_unsafe": 200}, ["450 = 250 `safe` + 200 `unsafe`"]),
    "do_not_answer": ({"do_not_answer": 939}, ["**Rows:** 939"]),
    # 11,956 examples, half ambiguous and half disambiguated.
    "bbq": ({"bbq_ambig": 5978, "bbq_disambig": 5978}, ["→ 11,956"]),
    "truthfulqa": (
        {"truthfulqa_mc1": 790, "truthfulqa_mc2": 790, "truthfulqa_gen": 790},
        ["790 questions", "current MC set, 790 items"],
    ),
    "mmlu": ({"mmlu": 14042}, ["14,042 test questions"]),
    "arc": (
        {"arc_challenge": 1172, "arc_easy": 2376},
        ["ARC-Challenge test 1172; ARC-Easy test 2376"],
    ),
}
BBQ_CATEGORIES = {
    "Age": 3680,
    "Disability_status": 1556,
    "Nationality": 3080,
    "Physical_appearance": 1576,
    "Religion": 1200,
    "Sexual_orientation": 864,
}


@pytest.fixture(autouse=True)
def _mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DATA.is_dir(), f"the benchmark mirror is expected at {DATA}"
    monkeypatch.setenv(DATA_DIR_ENV, str(DATA))
    monkeypatch.delenv("TAIS_HUB_DIR", raising=False)


_LOADED: dict[str, list[Item]] = {}


def loaded(name: str) -> list[Item]:
    """One load per benchmark for the whole module (the big ones take a second)."""
    if name not in _LOADED:
        _LOADED[name] = BENCHMARKS[name].load(DATA / BENCHMARKS[name].dataset)
    return _LOADED[name]


def source(benchmark: str, **options: object) -> BatterySource:
    return BatterySource.model_validate({"benchmark": benchmark, **options})


def test_every_benchmark_of_the_issue_is_registered() -> None:
    assert set(BENCHMARKS) == set(EXPECTED)
    for name, (counts, _) in EXPECTED.items():
        assert set(BENCHMARKS[name].tasks) == set(counts)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_row_counts_match_source_md(name: str) -> None:
    counts, statements = EXPECTED[name]
    items = loaded(name)
    assert Counter(i.task for i in items) == counts
    kinds = {i.task: i.kind for i in items}
    assert kinds == BENCHMARKS[name].tasks
    source_md = (DATA / BENCHMARKS[name].dataset / "SOURCE.md").read_text(encoding="utf-8")
    for statement in statements:
        assert statement in source_md, f"{name}: SOURCE.md no longer says {statement!r}"


def test_bbq_counts_per_category_match_source_md() -> None:
    found = Counter(i.meta["category"] for i in loaded("bbq"))
    assert found == BBQ_CATEGORIES
    source_md = (DATA / "bbq" / "SOURCE.md").read_text(encoding="utf-8")
    for category, n in BBQ_CATEGORIES.items():
        assert f"{category} {n}" in source_md


def _source_table(folder: Path) -> dict[str, str]:
    text = (folder / "SOURCE.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([^`]+)` \| \d+ \| `([0-9a-f]{64})` \|$", text, re.M))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mirror_files_match_source_md_checksums(name: str) -> None:
    folder = DATA / BENCHMARKS[name].dataset
    table = _source_table(folder)
    assert table, f"{folder}/SOURCE.md lists no checksums"
    read = [f for f in table if not f.startswith("hails_") and not f.startswith("LICENSE")]
    for file in read:
        digest = hashlib.sha256((folder / file).read_bytes()).hexdigest()
        assert digest == table[file], f"{folder / file} differs from its SOURCE.md checksum"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ids_are_unique_shaped_and_stable_across_loads(name: str) -> None:
    first = loaded(name)
    again = BENCHMARKS[name].load(DATA / BENCHMARKS[name].dataset)
    assert [i.model_dump() for i in again] == [i.model_dump() for i in first]
    ids = [i.item_id for i in first]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(rf"{name}/[^/]+/.+", i) for i in ids)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_limit_keeps_ids_and_items_unchanged(name: str) -> None:
    full = {i.item_id: i for i in loaded(name)}
    small = load_source(source(name, limit=5), seed=0)
    large = load_source(source(name, limit=40), seed=0)
    for items, limit in ((small, 5), (large, 40)):
        assert all(n == min(limit, c) for n, c in _per_task(items, name))
        assert all(full[i.item_id] == i for i in items)


def _per_task(items: list[Item], name: str) -> list[tuple[int, int]]:
    counts = Counter(i.task for i in items)
    return [(counts[t], n) for t, n in EXPECTED[name][0].items()]


def test_sampling_is_deterministic_and_seeded() -> None:
    def ids(seed: int) -> list[str]:
        return [i.item_id for i in load_source(source("do_not_answer", limit=60), seed=seed)]

    assert ids(0) == ids(0)
    assert ids(0) != ids(1)


def test_sampling_is_stratified_by_category() -> None:
    # Do-Not-Answer risk areas 248, 243, 176, 155, 117 of 939; 100 items by largest remainder:
    # exact 26.41, 25.88, 18.74, 16.51, 12.46 -> floors 26, 25, 18, 16, 12 (97), and the
    # 3 left go to the largest remainders .88, .74, .51 -> 26, 26, 19, 17, 12.
    items = load_source(source("do_not_answer", limit=100), seed=0)
    assert Counter(i.meta["category"] for i in items) == {
        "Information Hazards": 26,
        "Malicious Uses": 26,
        "Discrimination, Exclusion, Toxicity, Hateful, Offensive": 19,
        "Misinformation Harms": 17,
        "Human-Chatbot Interaction Harms": 12,
    }
    # JBB: 10 categories of 10 behaviors; 20 items take 2 from each.
    jbb = load_source(source("jbb", tasks=["jbb_harmful"], limit=20), seed=3)
    assert set(Counter(i.meta["category"] for i in jbb).values()) == {2}


def test_quotas_by_largest_remainder() -> None:
    assert quotas({"a": 5, "b": 3, "c": 2}, 5) == {"a": 3, "b": 1, "c": 1}  # 2.5, 1.5, 1.0
    assert quotas({"a": 2, "b": 2}, 10) == {"a": 2, "b": 2}
    assert sum(quotas({str(k): k + 1 for k in range(20)}, 37).values()) == 37


def test_harmbench_contextual_prompt_puts_context_before_behavior() -> None:
    items = {i.item_id: i for i in loaded("harmbench")}
    item = items["harmbench/all/carroll_method_isotonitazene"]
    content = item.messages[0].content
    assert content.startswith("Although there is no information")
    assert content.endswith("including the specific synthesis steps")
    assert "\n\n---\n\n" in content
    assert item.task == "harmbench_contextual" and item.meta["category"] == "chemical_biological"


def test_capability_prompts_are_lettered_with_the_reference_letter() -> None:
    item = next(i for i in loaded("mmlu") if i.meta["category"] == "abstract_algebra")
    assert item.messages[0].content == (
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q."
        "\n\nA. 0\nB. 4\nC. 2\nD. 6\n\nAnswer with the letter."
    )
    assert item.reference == "B" and item.meta["choices"] == ["0", "4", "2", "6"]
    numeric = next(i for i in loaded("arc") if i.meta["original_labels"] == ["1", "2", "3", "4"])
    assert "\nA. " in numeric.messages[0].content and numeric.reference in "ABCD"


def test_bbq_meta_carries_what_the_bias_score_needs() -> None:
    item = next(i for i in loaded("bbq") if i.item_id == "bbq/Age/0")
    assert item.task == "bbq_ambig" and item.reference == "C"
    assert item.messages[0].content.startswith("I saw a grandson and their grandfather")
    assert item.meta["question_polarity"] == "neg"
    assert (item.meta["target_idx"], item.meta["unknown_idx"]) == (0, 2)  # grandfather: "old"
    assert all(i.meta["target_idx"] is not None for i in loaded("bbq"))


def test_truthfulqa_options_are_shuffled_and_labelled() -> None:
    items = loaded("truthfulqa")
    mc1 = [i for i in items if i.task == "truthfulqa_mc1"]
    # The source lists the true answer first; shown order must not give it away.
    assert max(Counter(i.reference for i in mc1).values()) < 0.5 * len(mc1)
    for item in items:
        if item.task == "truthfulqa_mc2":
            labels = item.meta["mc_labels"]
            letters = [chr(65 + k) for k, label in enumerate(labels) if label]
            assert item.meta["true_letters"] == letters
            assert item.reference == ",".join(letters)
    gen = next(i for i in items if i.task == "truthfulqa_gen")
    assert gen.kind == "benign" and gen.meta["correct_answers"] and gen.meta["category"]


def test_truthfulqa_drops_the_mirrors_empty_options() -> None:
    source = json.loads((DATA / "truthfulqa" / "mc_task.json").read_text())
    with_empty = {
        field: {r["question"] for r in source if "" in r[field]}
        for field in ("mc1_targets", "mc2_targets")
    }
    assert (len(with_empty["mc1_targets"]), len(with_empty["mc2_targets"])) == (17, 22)
    by_question = {r["question"]: r for r in source}
    items = [i for i in loaded("truthfulqa") if i.task != "truthfulqa_gen"]
    assert all(str(c).strip() for i in items for c in i.meta["choices"])
    for item in items:
        field = f"{item.meta['mc']}_targets"
        question = item.meta["scored_question"]
        if question in with_empty[field]:
            kept = {k: v for k, v in by_question[question][field].items() if k}
            assert sorted(item.meta["choices"]) == sorted(kept)
            assert sum(item.meta["mc_labels"]) == sum(kept.values()) >= 1


def test_jailbreak_wraps_every_kept_harmful_item_with_every_template() -> None:
    templates = load_templates()
    assert len(templates) >= 5
    names = sorted(templates)[:2]
    items = load_source(source("jbb", limit=4, jailbreak=names), seed=0)
    counts = Counter(i.task for i in items)
    assert counts == {"jbb_harmful": 4, "jbb_benign": 4, "jbb_harmful+jailbreak": 8}
    plain = {i.item_id: i for i in items if i.task == "jbb_harmful"}
    for item in items:
        if item.task.endswith("+jailbreak"):
            base = plain[item.meta["base_item_id"]]
            assert item.item_id == f"{base.item_id}+jb/{item.meta['jailbreak']}"
            assert base.messages[0].content in item.messages[0].content
            assert item.kind == "harmful"


def test_jailbreak_substitutes_braces_literally() -> None:
    template = next(iter(load_templates().values()))
    assert template.wrap("use {x} and {prompt}").count("{x}") == 1


def test_unknown_jailbreak_template_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown jailbreak template"):
        load_source(source("advbench", limit=1, jailbreak=["dan_9000"]), seed=0)


def test_unknown_task_of_a_builtin_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="its tasks are jbb_harmful, jbb_benign"):
        load_source(source("jbb", tasks=["jbb_harmless"]), seed=0)


def test_path_and_data_dir_together_are_refused() -> None:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["battery"] = [{"benchmark": "x", "path": "a.jsonl", "data_dir": "d"}]
    with pytest.raises(ConfigError, match="not both"):
        parse_config(data)


def _copy_of(dataset: str, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(DATA / dataset, root / dataset)
    for path in (root / dataset).rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return root


def test_missing_file_names_dataset_path_and_expectation(tmp_path: Path) -> None:
    root = _copy_of("xstest", tmp_path)
    (root / "xstest" / "xstest_prompts.csv").unlink()
    with pytest.raises(DataError) as caught:
        load_source(source("xstest", data_dir=str(root)), seed=0)
    message = str(caught.value)
    assert "'xstest'" in message and str(root / "xstest" / "xstest_prompts.csv") in message
    assert "id,prompt,type,label,focus,note" in message


def test_wrong_columns_name_what_is_missing(tmp_path: Path) -> None:
    root = _copy_of("advbench", tmp_path)
    (root / "advbench" / "harmful_behaviors.csv").write_text("prompt,target\nx,y\n")
    with pytest.raises(DataError, match=r"missing column\(s\) goal; expected goal, target"):
        load_source(source("advbench", data_dir=str(root)), seed=0)


@pytest.mark.parametrize(
    ("dataset", "relative", "message"),
    [
        ("advbench", "harmful_behaviors.csv", "is not readable CSV: 'utf-8' codec"),
        ("bbq", "Age.jsonl", "line 2 is not JSON: 'utf-8' codec"),
    ],
)
def test_mirror_file_with_a_byte_that_is_not_utf8(
    tmp_path: Path, dataset: str, relative: str, message: str
) -> None:
    root = _copy_of(dataset, tmp_path)
    path = root / dataset / relative
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = b"\xff" + lines[1]
    path.write_bytes(b"".join(lines))
    with pytest.raises(DataError, match=message):
        load_source(source(dataset, data_dir=str(root)), seed=0)


def test_missing_dataset_folder_is_an_error_not_a_silent_hub_load(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data folder .*mmlu not found"):
        load_source(source("mmlu", data_dir=str(tmp_path)), seed=0)


def test_bbq_folder_without_category_files(tmp_path: Path) -> None:
    (tmp_path / "bbq").mkdir()
    with pytest.raises(DataError, match=r"no category file .* Age\.jsonl"):
        load_source(source("bbq", data_dir=str(tmp_path)), seed=0)


def test_tais_battery_lists_every_task_with_source_md_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(main, ["battery", str(BENCHMARKS_CONFIG)])
    assert result.exit_code == 0, result.output
    rows = {
        cells[1]: int(cells[3])
        for line in result.output.splitlines()
        if len(cells := [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]) == 4
        and cells[3].isdigit()
    }
    for counts, _ in EXPECTED.values():
        for task, n in counts.items():
            assert rows[task] == n, task
    n_templates = len(load_templates())
    assert rows["advbench+jailbreak"] == 520 * n_templates
    assert rows["jbb_harmful+jailbreak"] == 100 * n_templates


def test_benchmarks_config_names_every_benchmark() -> None:
    config = parse_config(yaml.safe_load(BENCHMARKS_CONFIG.read_text()))
    assert {s.benchmark for s in config.battery} == set(BENCHMARKS)


# The hub fallback, on local clones laid out like the hub repositories (no network).


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _card(repo: Path, configs: dict[str, dict[str, str]]) -> None:
    """The README.md front matter that tells `datasets` which file is which config and split."""
    listing = [
        {"config_name": name, "data_files": [{"split": s, "path": p} for s, p in splits.items()]}
        for name, splits in configs.items()
    ]
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "README.md").write_text("---\n" + yaml.safe_dump({"configs": listing}) + "---\n")


@pytest.fixture
def hub_clones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.delenv(DATA_DIR_ENV)
    root = tmp_path / "hub"
    monkeypatch.setenv("TAIS_HUB_DIR", str(root))
    # walledai/AdvBench: prompt,target
    rows = list(csv.DictReader((DATA / "advbench" / "harmful_behaviors.csv").open()))
    repo = root / "walledai" / "AdvBench"
    _write_csv(
        repo / "data" / "train.csv", ["prompt", "target"], [[r["goal"], r["target"]] for r in rows]
    )
    _card(repo, {"default": {"train": "data/train.csv"}})
    # JailbreakBench/JBB-Behaviors: config behaviors, splits harmful and benign, 1-based Index.
    repo = root / "JailbreakBench" / "JBB-Behaviors"
    header = ["Index", "Goal", "Target", "Behavior", "Category", "Source"]
    harmful = list(csv.reader((DATA / "jbb_behaviors" / "behaviors.csv").open()))[1:]
    benign = list(csv.reader((DATA / "jbb_behaviors" / "benign-behaviors.csv").open()))[1:]
    _write_csv(
        repo / "data" / "harmful-behaviors.csv",
        header,
        [[str(int(r[0]) + 1), *r[1:], "x"] for r in harmful],
    )
    _write_csv(
        repo / "data" / "benign-behaviors.csv",
        header,
        [[str(int(r[0]) + 1), *r[1:]] for r in benign],
    )
    _card(
        repo,
        {
            "behaviors": {
                "harmful": "data/harmful-behaviors.csv",
                "benign": "data/benign-behaviors.csv",
            }
        },
    )
    # truthfulqa/truthful_qa: targets as {choices, labels}, answers as lists.
    repo = root / "truthfulqa" / "truthful_qa"
    mc = json.loads((DATA / "truthfulqa" / "mc_task.json").read_text())
    _write_jsonl(
        repo / "multiple_choice" / "validation.jsonl",
        [
            {
                "question": r["question"],
                **{
                    f: {"choices": list(r[f]), "labels": list(r[f].values())}
                    for f in ("mc1_targets", "mc2_targets")
                },
            }
            for r in mc
        ],
    )
    gen = list(csv.DictReader((DATA / "truthfulqa" / "TruthfulQA.csv").open(encoding="utf-8")))
    split = lambda cell: [a.strip() for a in cell.split(";") if a.strip()]  # noqa: E731
    _write_jsonl(
        repo / "generation" / "validation.jsonl",
        [
            {
                "type": r["Type"],
                "category": r["Category"],
                "question": r["Question"],
                "best_answer": r["Best Answer"],
                "correct_answers": split(r["Correct Answers"]),
                "incorrect_answers": split(r["Incorrect Answers"]),
                "source": r["Source"],
            }
            for r in gen
        ],
    )
    _card(
        repo,
        {
            "multiple_choice": {"validation": "multiple_choice/validation.jsonl"},
            "generation": {"validation": "generation/validation.jsonl"},
        },
    )
    return root


@pytest.mark.parametrize("name", ["advbench", "jbb", "truthfulqa"])
def test_hub_fallback_gives_the_mirrors_items(name: str, hub_clones: Path) -> None:
    from_hub = BENCHMARKS[name].load(None)
    assert [i.model_dump() for i in from_hub] == [i.model_dump() for i in loaded(name)]


def test_hub_fallback_without_the_clone_names_where_it_looked(hub_clones: Path) -> None:
    with pytest.raises(DataError, match=r"hub.Paul.XSTest not found; TAIS_HUB_DIR is set"):
        BENCHMARKS["xstest"].load(None)
