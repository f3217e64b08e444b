"""The paper's battery: 953 prompts in six tasks, drawn from the built-in benchmarks.

The design (EXPERIMENTS.md, "The battery") names the tasks, their sizes and the seed 42, but
not the rows drawn; this module fixes the draw and the item ids.

| task | kind | n | drawn from | draw (by rank) |
|---|---|---:|---|---|
| advbench | harmful | 100 | advbench (520) | first 100 |
| jailbreak_amplification | harmful | 120 | jbb harmful (100, 10 categories) | 3 per category x 4 |
| bbq | scored | 198 | bbq (6 of 11 category files) | 200, repeats dropped, 198 kept |
| truthfulqa | scored | 50 | truthfulqa generation (790) | first 50 |
| mmlu | capability | 285 | mmlu test (57 subjects) | first 5 per subject |
| arc_challenge | capability | 200 | arc challenge test (1172) | first 200 |

A source item's rank is sha256("42:<source item id>"): a seeded order that depends neither on
row positions nor on `engine.seed`, so adding rows elsewhere or changing the engine's seed
leaves the draw alone.

BBQ: a drawn item whose prompt text (context, question and options, as the model sees them)
repeats one kept earlier in rank order is a duplicate: at temperature 0 it can only repeat its
twin's output. The paper kept 198 of its 200; the mirror's first 200 hold no repeat, so the
battery keeps the first 198 distinct prompts, which gives the paper's task size (and its
953 = 468 + 485).

jailbreak_amplification: the design's ten harm categories are JailbreakBench's, whose
behaviours the paper does not list, so 3 per category are drawn from `behaviors.csv`; each
appears `direct` (unwrapped) and in the three framings of `bundle/prompts/jailbreak/paper.yaml`.

Kinds: advbench and jailbreak_amplification expect a refusal (`harmful`); bbq and truthfulqa
are `scored` by a judge's score (the paper's "unbiased" and word-overlap scorers); mmlu and
arc_challenge are `capability`. Prompts are the source loaders' own (a capability or BBQ prompt
lists lettered options and asks for the letter).

Item ids are `paper/<task>/<source item id without its benchmark>`, e.g.
`paper/bbq/Age/1234`; `meta["source_id"]` is the source id. The N-sweep subset `sweep`
(advbench 100, jailbreak_amplification 120, the first 150 bbq items kept in rank order,
truthfulqa 50: 420) is named in `meta["subsets"]`, so a config's `subset: sweep` keeps the
same items under the same ids.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from tais.battery.benchmarks import advbench, arc, bbq, jbb, mmlu, truthfulqa
from tais.battery.benchmarks.base import Benchmark
from tais.battery.benchmarks.jailbreak import load_templates
from tais.errors import DataError
from tais.io import canonical_json
from tais.records import Item, Kind

NAME = "paper"
SEED = 42
TEMPLATES = Path("bundle/prompts/jailbreak/paper.yaml")
FRAMINGS = ("direct", "dan_persona", "prefix_absolutely", "thriller_fiction")
SWEEP = "sweep"

ADVBENCH_N = 100
JBB_PER_CATEGORY = 3
JBB_CATEGORIES = 10
BBQ_DRAWN = 200
BBQ_KEPT = 198
BBQ_SWEEP = 150
TRUTHFULQA_N = 50
MMLU_PER_SUBJECT = 5
MMLU_SUBJECTS = 57
ARC_N = 200

TASKS: dict[str, Kind] = {
    "advbench": "harmful",
    "jailbreak_amplification": "harmful",
    "bbq": "scored",
    "truthfulqa": "scored",
    "mmlu": "capability",
    "arc_challenge": "capability",
}
# The scorer a `scored` task's items name in meta["scorer"].
SCORERS = {"bbq": "bbq_unbiased", "truthfulqa": "truthfulqa_overlap"}


def rank(source_id: str) -> str:
    return hashlib.sha256(f"{SEED}:{source_id}".encode()).hexdigest()


def ranked(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda item: rank(item.item_id))


def first_per(items: list[Item], key: Callable[[Item], str], n: int) -> list[Item]:
    """The first n items by rank within each group of `key`."""
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in ranked(items):
        groups[key(item)].append(item)
    short = {k: len(v) for k, v in groups.items() if len(v) < n}
    if short:
        raise DataError(f"paper battery: fewer than {n} items in {short}")
    return [item for k in sorted(groups) for item in groups[k][:n]]


def _folder(root: Path | None, source: Benchmark) -> Path | None:
    if root is None:
        return None
    folder = root / source.dataset
    if not folder.is_dir():
        raise DataError(
            f"benchmark {NAME!r} draws from {source.name!r}: data folder {folder} not found; "
            f"expected a folder laid out like ../shared/data/{source.dataset}/"
        )
    return folder


def _load(root: Path | None, source: Benchmark, *tasks: str) -> list[Item]:
    items = [i for i in source.load(_folder(root, source)) if i.task in tasks]
    if not items:
        raise DataError(f"paper battery: {source.name!r} has no items of {', '.join(tasks)}")
    return items


def _paper_item(
    source: Item, task: str, *, suffix: str = "", sweep: bool = False, **changes: object
) -> Item:
    key = source.item_id.partition("/")[2]
    meta = {**source.meta, "source_id": source.item_id, "subsets": [SWEEP] if sweep else []}
    if task in SCORERS:
        meta["scorer"] = SCORERS[task]
    return source.model_copy(
        update={
            "item_id": f"{NAME}/{task}/{key}{suffix}",
            "benchmark": NAME,
            "task": task,
            "kind": TASKS[task],
            "meta": meta,
            **changes,
        }
    )


def prompt_text(item: Item) -> str:
    return canonical_json([m.model_dump() for m in item.messages])


def bbq_draw(items: list[Item]) -> list[Item]:
    """The first BBQ_DRAWN by rank, each prompt text once, at most BBQ_KEPT of them."""
    seen: set[str] = set()
    kept = []
    for item in ranked(items)[:BBQ_DRAWN]:
        text = prompt_text(item)
        if text not in seen:
            seen.add(text)
            kept.append(item)
    return kept[:BBQ_KEPT]


def jailbreak_items(behaviours: list[Item]) -> list[Item]:
    categories = {str(i.meta["category"]) for i in behaviours}
    if len(categories) != JBB_CATEGORIES:
        raise DataError(
            f"paper battery: expected {JBB_CATEGORIES} JailbreakBench categories, "
            f"found {len(categories)}"
        )
    templates = load_templates(TEMPLATES)
    missing = [f for f in FRAMINGS[1:] if f not in templates]
    if missing:
        raise DataError(f"{TEMPLATES}: framing(s) {', '.join(missing)} not found")
    out = []
    for behaviour in first_per(behaviours, lambda i: str(i.meta["category"]), JBB_PER_CATEGORY):
        goal = behaviour.messages[-1].content
        for framing in FRAMINGS:
            text = goal if framing == "direct" else templates[framing].wrap(goal)
            last = behaviour.messages[-1].model_copy(update={"content": text})
            item = _paper_item(
                behaviour,
                "jailbreak_amplification",
                suffix=f"/{framing}",
                sweep=True,
                messages=[*behaviour.messages[:-1], last],
            )
            out.append(item.model_copy(update={"meta": {**item.meta, "framing": framing}}))
    return out


def load(root: Path | None) -> list[Item]:
    """Every item of the full battery; `root` holds the benchmarks' folders (None: the hub)."""
    advbench_items = ranked(_load(root, advbench.BENCHMARK, "advbench"))[:ADVBENCH_N]
    bbq_items = bbq_draw(_load(root, bbq.BENCHMARK, "bbq_ambig", "bbq_disambig"))
    truthful = ranked(_load(root, truthfulqa.BENCHMARK, "truthfulqa_gen"))[:TRUTHFULQA_N]
    mmlu_items = first_per(
        _load(root, mmlu.BENCHMARK, "mmlu"), lambda i: str(i.meta["category"]), MMLU_PER_SUBJECT
    )
    if len(mmlu_items) != MMLU_PER_SUBJECT * MMLU_SUBJECTS:
        raise DataError(
            f"paper battery: expected {MMLU_SUBJECTS} MMLU subjects, "
            f"found {len(mmlu_items) // MMLU_PER_SUBJECT}"
        )
    arc_items = ranked(_load(root, arc.BENCHMARK, "arc_challenge"))[:ARC_N]
    return [
        *(_paper_item(i, "advbench", sweep=True) for i in advbench_items),
        *jailbreak_items(_load(root, jbb.BENCHMARK, "jbb_harmful")),
        *(_paper_item(i, "bbq", sweep=n < BBQ_SWEEP) for n, i in enumerate(bbq_items)),
        *(_paper_item(i, "truthfulqa", sweep=True) for i in truthful),
        *(_paper_item(i, "mmlu") for i in mmlu_items),
        *(_paper_item(i, "arc_challenge") for i in arc_items),
    ]


# The battery's fixed sizes: what `load` yields from a complete mirror (tested against it).
SIZES = {
    "advbench": ADVBENCH_N,
    "jailbreak_amplification": JBB_PER_CATEGORY * JBB_CATEGORIES * len(FRAMINGS),
    "bbq": BBQ_KEPT,
    "truthfulqa": TRUTHFULQA_N,
    "mmlu": MMLU_PER_SUBJECT * MMLU_SUBJECTS,
    "arc_challenge": ARC_N,
}
SWEEP_SIZES = {
    "advbench": ADVBENCH_N,
    "jailbreak_amplification": SIZES["jailbreak_amplification"],
    "bbq": BBQ_SWEEP,
    "truthfulqa": TRUTHFULQA_N,
}

# `dataset` "": the loader reads several benchmarks' folders under the data root itself.
BENCHMARK = Benchmark(
    name=NAME,
    dataset="",
    tasks=dict(TASKS),
    load=load,
    sizes=SIZES,
    subset_sizes={SWEEP: SWEEP_SIZES},
)
