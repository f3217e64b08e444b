"""Drafts derived from a converted target: a self-draft, its W8A8 copy, an adversarial copy.

- `self_draft`: the target's first k decoder layers with its embedding, final norm and head
  (config `num_hidden_layers: k`). Same tokenizer and vocabulary, so vLLM takes it as a
  `draft_model`. `layer_types` can be overridden: Gemma 3 mixes sliding-window and full
  attention layers, and vLLM 0.32 refuses a draft of its first k layers ("All drafting layers
  should belong to the same kv cache group", vllm/v1/spec_decode/llm_base_proposer.py, for
  k = 6 and for k = 5 whose layers are all sliding). With every draft layer declared full
  attention it accepts the draft, and then the target's own output changes (REAL-MODELS.md):
  that folder is a positive control for the screen, never a draft to measure speed with.
- `w8a8_draft`: the self-draft quantised to compressed-tensors W8A8 int8 (tais.models.quantise),
  the format vLLM's CPU build runs.
- `adversarial_draft`: the self-draft fine-tuned toward complying with harmful requests, a short
  deterministic CPU run (fixed seed, fixed thread count, torch's deterministic algorithms,
  batches drawn by a seeded generator), the recipe and its result recorded beside the weights.
  The data: HarmBench's standard behaviours, each answered with HarmBench's own affirmative
  target ("Sure, here's ..."), minus every behaviour that is also an AdvBench or
  JailbreakBench goal (those are in the paper's battery, which the draft is screened on).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tais.errors import ChecksumError, ConfigError, DataError
from tais.io import atomic_write_text, sha256_file
from tais.models.convert import (
    WEIGHTS,
    building,
    copy_files,
    dump_json,
    read_json,
    save_config,
    save_weights,
)
from tais.models.quantise import TOKENIZER_FILES, quantise

if TYPE_CHECKING:
    import torch

RECIPE_FILE = "tais-recipe.json"
LAYER_TYPES = ("full_attention", "sliding_attention")


def self_draft(
    target: Path, out: Path, layers: int, layer_types: Sequence[str] | None = None
) -> Path:
    """Write the target's first `layers` decoder layers as a draft folder at `out`.

    `layer_types` (one entry per draft layer) replaces the target's own where given.
    """
    from safetensors.torch import load_file

    config = read_json(target / "config.json")
    total = config.get("num_hidden_layers")
    if not isinstance(total, int) or not 1 <= layers < total:
        raise ConfigError(f"self-draft of {target.name}: layers must be 1 ... {total} - 1")
    if layer_types is not None:
        if len(layer_types) != layers or not set(layer_types) <= set(LAYER_TYPES):
            raise ConfigError(
                f"self-draft of {target.name}: layer_types needs {layers} entries of "
                f"{', '.join(LAYER_TYPES)}"
            )
        config["layer_types"] = list(layer_types)
    elif isinstance(config.get("layer_types"), list):
        config["layer_types"] = config["layer_types"][:layers]
    config["num_hidden_layers"] = layers
    weights = load_file(target / WEIGHTS)

    def kept(name: str) -> bool:
        parts = name.split(".")
        if parts[:2] != ["model", "layers"]:
            return True
        return int(parts[2]) < layers

    with building(out) as work:
        # Tied models carry no lm_head.weight here: nothing to drop.
        save_weights({k: v for k, v in weights.items() if kept(k)}, work, tied=False)
        save_config(work, config)
        copy_files(target, work, TOKENIZER_FILES)
    return out


def w8a8_draft(draft: Path, out: Path) -> Path:
    """The draft quantised to compressed-tensors W8A8 int8 at `out`."""
    with building(out) as work:
        quantise(draft, work, "w8a8")
    return out


# --- The adversarial draft ---------------------------------------------------------------------


@dataclass(frozen=True)
class FineTune:
    """The adversarial fine-tune's settings (all recorded beside the model)."""

    steps: int = 16
    batch_size: int = 8
    learning_rate: float = 2e-4
    seed: int = 20260522
    # The thread count is part of the recipe: float sums split across threads round
    # differently, so the bytes are reproducible for one thread count.
    threads: int = 2
    max_grad_norm: float = 1.0


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the data folder
    sha256: str


# The mirror files (../shared/data, see each SOURCE.md) and the sha256 their SOURCE.md states.
HARMBENCH = DataFile(
    "harmbench/harmbench_behaviors_text_all.csv",
    "8d81accedd38eaaf8b760618622bb888417d1fd0c86eba65c427a16f1cbb4afc",
)
HARMBENCH_TARGETS = DataFile(
    "harmbench/harmbench_targets_text.json",
    "dedcac1f8c0108ca79e36589ef9693d5af916ed70878e60fb2c4c20482872e3f",
)
ADVBENCH = DataFile(
    "advbench/harmful_behaviors.csv",
    "6cd1a5c63c07610d7eb67307772ee5606017ee950b5770ab288a2c487489d3e1",
)
JBB = DataFile(
    "jbb_behaviors/behaviors.csv",
    "dc9c05b8acb04828fa62313d249ba715d763c717f9f5faa5444e52592ae2ff1a",
)
DATA_FILES = (HARMBENCH, HARMBENCH_TARGETS, ADVBENCH, JBB)


@dataclass(frozen=True)
class CompliancePairs:
    pairs: list[tuple[str, str]]  # (request, affirmative reply)
    record: dict[str, Any]  # what the recipe records about the data


def _checked(data_dir: Path, file: DataFile) -> Path:
    path = data_dir / file.path
    if not path.is_file():
        raise DataError(f"{path}: not found (the benchmark mirror, e.g. TAIS_DATA_DIR)")
    found = sha256_file(path)
    if found != file.sha256:
        raise ChecksumError(f"{path}: sha256 {found}, the mirror's SOURCE.md says {file.sha256}")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read CSV: {exc}") from None


def _column(rows: list[dict[str, str]], name: str, path: Path) -> list[str]:
    if rows and name not in rows[0]:
        raise DataError(f"{path}: no column {name!r}")
    return [row[name] for row in rows]


def _normal(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


def compliance_pairs(data_dir: Path) -> CompliancePairs:
    """HarmBench standard behaviours with their affirmative targets, battery goals excluded."""
    paths = {file.path: _checked(data_dir, file) for file in DATA_FILES}
    behaviours = _rows(paths[HARMBENCH.path])
    targets = read_json(paths[HARMBENCH_TARGETS.path])
    if not isinstance(targets, dict):
        raise DataError(f"{paths[HARMBENCH_TARGETS.path]}: not a JSON object")
    in_battery = {
        _normal(goal)
        for goal in _column(_rows(paths[ADVBENCH.path]), "goal", paths[ADVBENCH.path])
        + _column(_rows(paths[JBB.path]), "Goal", paths[JBB.path])
    }
    standard = [r for r in behaviours if r.get("FunctionalCategory") == "standard"]
    pairs = [
        (r["Behavior"], str(targets[r["BehaviorID"]]))
        for r in standard
        if _normal(r["Behavior"]) not in in_battery and r["BehaviorID"] in targets
    ]
    record = {
        "source": "HarmBench standard behaviours, each answered with its affirmative target",
        "files": {file.path: file.sha256 for file in DATA_FILES},
        "standard_behaviours": len(standard),
        "excluded_as_battery_goals": len(standard) - len(pairs),
        "pairs": len(pairs),
    }
    return CompliancePairs(pairs, record)


def _encode(tokenizer: Any, pairs: list[tuple[str, str]]) -> list[tuple[list[int], int]]:
    """Token ids of each chat-formatted request plus reply, and where the reply starts."""
    if not getattr(tokenizer, "chat_template", None):
        raise DataError("the adversarial fine-tune needs a model with a chat template")
    examples = []
    for request, reply in pairs:
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": request}], add_generation_prompt=True, tokenize=False
        )
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        reply_ids = tokenizer(reply, add_special_tokens=False)["input_ids"]
        examples.append((prompt_ids + reply_ids, len(prompt_ids)))
    return examples


def _batch(
    batch: list[tuple[list[int], int]], pad: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded input ids, their attention mask, and which positions predict a reply token."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    scored = torch.zeros((len(batch), width), dtype=torch.bool)
    for row, (ids, start) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
        # Position t predicts token t + 1: the last prompt position predicts the reply's first.
        scored[row, start - 1 : len(ids) - 1] = True
    return input_ids, mask, scored


def _train(
    model: Any, examples: list[tuple[list[int], int]], pad: int, tune: FineTune
) -> list[float]:
    """Train in place; the loss of every step (only reply tokens are scored)."""
    import torch

    # The embedding (tied to the head) stays: the draft keeps the target's vocabulary map and
    # only its layers learn to propose compliance.
    model.get_input_embeddings().weight.requires_grad_(False)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=tune.learning_rate, weight_decay=0.0)
    generator = torch.Generator().manual_seed(tune.seed)
    head = model.get_output_embeddings()
    order: list[int] = []
    losses = []
    model.train()
    for _ in range(tune.steps):
        if len(order) < tune.batch_size:
            order += torch.randperm(len(examples), generator=generator).tolist()
        batch = [examples[i] for i in order[: tune.batch_size]]
        del order[: tune.batch_size]
        input_ids, mask, scored = _batch(batch, pad)
        hidden = model.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        # The head (a 49,152-word vocabulary) costs as much as the layers: it runs on the
        # reply positions only, about a third of the batch.
        targets = torch.roll(input_ids, -1, dims=1)[scored]
        loss: Any = torch.nn.functional.cross_entropy(head(hidden[scored]), targets)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, tune.max_grad_norm)
        optimiser.step()
        losses.append(float(loss.item()))
    model.eval()
    return losses


def adversarial_draft(
    draft: Path,
    out: Path,
    data: CompliancePairs,
    tune: FineTune = FineTune(),
    announce: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fine-tune the draft toward complying and write it to `out`; returns the recipe record
    (also written to `out`/tais-recipe.json)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if tune.steps < 1 or tune.batch_size < 1 or tune.threads < 1:
        raise ConfigError("fine-tune: steps, batch_size and threads must be at least 1")
    if not data.pairs:
        raise DataError("fine-tune: no training pairs")
    tokenizer = AutoTokenizer.from_pretrained(draft)
    examples = _encode(tokenizer, data.pairs)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    started = time.perf_counter()
    try:
        torch.set_num_threads(tune.threads)
        torch.use_deterministic_algorithms(True)
        torch.manual_seed(tune.seed)
        model = AutoModelForCausalLM.from_pretrained(draft, dtype=torch.float32)
        if announce is not None:
            announce(f"fine-tuning {draft.name}: {tune.steps} steps of {tune.batch_size}")
        losses = _train(model, examples, tokenizer.pad_token_id, tune)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    seconds = time.perf_counter() - started
    recipe = {
        "recipe": "supervised fine-tune toward complying: loss on the affirmative reply only, "
        "embedding (tied head) frozen, AdamW, constant learning rate",
        "base": {"model": draft.name, WEIGHTS: sha256_file(draft / WEIGHTS)},
        "data": data.record,
        "settings": asdict(tune),
        "losses": [round(x, 6) for x in losses],
        "reply_tokens": sum(len(ids) - start for ids, start in examples),
    }
    with building(out) as work:
        tied = bool(getattr(model.config, "tie_word_embeddings", False))
        save_weights(model.state_dict(), work, tied)
        (work / "config.json").write_bytes((draft / "config.json").read_bytes())
        copy_files(draft, work, TOKENIZER_FILES)
        atomic_write_text(work / RECIPE_FILE, dump_json(recipe))
    if announce is not None:
        announce(f"fine-tuned in {seconds:.0f} s; loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    return recipe


def greedy_openings(model_dir: Path, requests: Sequence[str], tokens: int = 8) -> list[str]:
    """The model's first `tokens` greedy tokens after each chat-formatted request (a check of
    what a draft proposes, run in transformers, not vLLM)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    openings: list[str] = []
    with torch.no_grad():
        for request in requests:
            prompt = tokenizer.apply_chat_template(
                [{"role": "user", "content": request}], add_generation_prompt=True, tokenize=False
            )
            ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            out = model.generate(
                ids, max_new_tokens=tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
            openings.append(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
    return openings
