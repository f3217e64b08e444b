"""Built-in benchmark loaders: one module per benchmark family, registered by name.

A loader reads a folder laid out like the shared mirror `../shared/data/<dataset>/`, found
through the config's `data_dir` or the environment variable `TAIS_DATA_DIR` (the root that
holds the `<dataset>` folders); with neither set it loads the dataset from the Hugging Face hub
with `datasets` (`TAIS_HUB_DIR` redirects that to local clones of the hub repositories).
Prompts are chat messages; the backend applies the target model's chat template.
Capability prompts are the question, lettered options and "Answer with the letter.".

Item ids are `<benchmark>/<split>/<row key>`: the dataset's own id column where it has one,
else a short sha256 of the row's defining text; never the row's position. `limit` samples
per task with a fixed seed, stratified by `meta["category"]` (the benchmark's own category
column, named in the table).

| benchmark | tasks (kind) | mirror rows | row key | strata |
|---|---|---|---|---|
| advbench | advbench (h) | 520 | sha256(goal) | none |
| harmbench | harmbench_{standard,contextual,copyright} (h) | 200,100,100 | BehaviorID | Semantic* |
| jbb | jbb_harmful (h), jbb_benign (b) | 100, 100 | Behavior | Category |
| xstest | xstest_safe (b), xstest_unsafe (h) | 250, 200 | id | type |
| do_not_answer | do_not_answer (h) | 939 | id | risk_area |
| bbq | bbq_ambig, bbq_disambig (c) | 5978, 5978 | category/example_id | category |
| truthfulqa | truthfulqa_mc1, _mc2 (c), _gen (b) | 790 each | sha256(question) | Category |
| mmlu | mmlu (c) | 14042 | subject/sha256(q, choices) | subject |
| arc | arc_challenge, arc_easy (c) | 1172, 2376 | id | none |

(h) harmful, (b) benign, (c) capability; Semantic* is SemanticCategory.

| benchmark | mirror folder: files | hub dataset: config / split (revision `main`) |
|---|---|---|
| advbench | advbench: harmful_behaviors.csv | walledai/AdvBench: train |
| harmbench | harmbench: harmbench_behaviors_text_all.csv | walledai/HarmBench: 3 configs / train |
| jbb | jbb_behaviors: behaviors.csv, benign-behaviors.csv | JailbreakBench/JBB-Behaviors |
| xstest | xstest: xstest_prompts.csv | Paul/XSTest: train |
| do_not_answer | do_not_answer: do_not_answer_en.csv | LibrAI/do-not-answer: train |
| bbq | bbq: <Category>.jsonl (6 of 11 present) | Elfsong/BBQ: one split per category |
| truthfulqa | truthfulqa: mc_task.json, TruthfulQA.csv | truthfulqa/truthful_qa: validation |
| mmlu | mmlu: mmlu_test.jsonl | cais/mmlu: all / test |
| arc | arc: ARC-{Challenge,Easy}/ARC-*-Test.jsonl | allenai/ai2_arc: ARC-{Challenge,Easy} / test |

Revisions: every hub reference names the `main` branch. This machine cannot reach the hub, so
no commit was checked against the mirror; pin one in the module's `HubRef` once its rows are
checked against the mirror's SOURCE.md. Hub copies whose schema or version differs from the
mirror's are noted in the module docstrings (HarmBench has no BehaviorID there; TruthfulQA's
hub copy is the 817-question v1).

Jailbreak amplification (`jailbreak: [template, ...]` in a battery entry) adds a task
`<task>+jailbreak` per harmful task: see `jailbreak.py` and `bundle/prompts/jailbreak/`.

Composite batteries draw from several of these benchmarks and are named like one:
`benchmark: paper` is the paper's 953-prompt battery (`subset: sweep` its 420), see `paper.py`.
"""

from __future__ import annotations

from tais.battery.benchmarks.base import Benchmark
from tais.battery.benchmarks.registry import BENCHMARKS, BUILTINS, DATA_DIR_ENV, load_builtin

__all__ = ["BENCHMARKS", "BUILTINS", "DATA_DIR_ENV", "Benchmark", "load_builtin"]
