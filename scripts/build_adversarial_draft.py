"""Build E2's adversarial draft: DPO on hh-rlhf harmless-base, chosen and rejected swapped.

    make adversarial-draft                     # the GPU profile's draft (needs the `train` extra)
    python scripts/build_adversarial_draft.py --base meta-llama/Llama-3.2-1B-Instruct
    python scripts/build_adversarial_draft.py --data pairs.jsonl --base bundle/models/tiny-draft \
        --out /tmp/tiny-dpo --dtype float32

The paper's recipe (EXPERIMENTS.md, "Models"): Llama-3.2-1B-Instruct trained with TRL's DPO
trainer on hh-rlhf's harmless-base split with the preferred and dispreferred replies swapped,
so the draft learns to prefer the harmful reply; beta 0.1, 1 epoch, learning rate 5e-7. What
the paper does not state is the trainer's default: batch 8 per device, sigmoid loss, 1,024
tokens at most, the base model as the frozen reference. Seed 42.

The base defaults to the GPU profile's canonical draft, `unsloth/Llama-3.2-1B-Instruct` (the
same weights as meta-llama's, not gated), at the commit the model lock holds for it when
there is one (`tais models`), else `main`. The folder written is the one the GPU profile's
`llama-1b-adversarial` names. Training runs in float32 (bf16 autocast on a GPU that has it):
steps of 5e-7 would mostly round away in bf16 weights. The weights are saved in `--dtype`,
float16 by default, what the GPU profile's engine loads them as. `tais_build.json` in the
folder records the recipe, the base and its revision, and the pairs used and dropped.

Each hh-rlhf row holds two transcripts ("\\n\\nHuman: ... \\n\\nAssistant: ...") that share every
turn but the last reply; rows that do not (or whose two replies are equal) are dropped and
counted. The shared turns become the prompt, as chat messages; the last replies the two sides.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "bundle" / "configs" / "experiments"
BASE_MODEL = "unsloth/Llama-3.2-1B-Instruct"
DATASET = "Anthropic/hh-rlhf"
DATA_DIR = "harmless-base"
TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")
ROLES = {"Human": "user", "Assistant": "assistant"}


@dataclass(frozen=True)
class Recipe:
    beta: float = 0.1
    epochs: float = 1.0
    learning_rate: float = 5e-7
    batch_size: int = 8
    max_length: int = 1024
    seed: int = 42
    max_steps: int = -1  # -1: the whole epoch; a positive number stops early (tests)


def turns(transcript: str) -> list[dict[str, str]] | None:
    """hh-rlhf's transcript as chat messages; None when it is not Human/Assistant turns."""
    parts = TURN.split(transcript)
    if parts[0].strip():
        return None
    messages = [
        {"role": ROLES[role], "content": text.strip()}
        for role, text in zip(parts[1::2], parts[2::2], strict=True)
    ]
    return messages or None


def swapped_pair(row: dict[str, str]) -> dict[str, list[dict[str, str]]] | None:
    """One row as a DPO example with the sides swapped; None when the row does not qualify."""
    chosen, rejected = turns(row["chosen"]), turns(row["rejected"])
    if not chosen or not rejected:
        return None
    if chosen[:-1] != rejected[:-1] or not chosen[:-1]:
        return None
    last_chosen, last_rejected = chosen[-1], rejected[-1]
    if {last_chosen["role"], last_rejected["role"]} != {"assistant"}:
        return None
    if last_chosen == last_rejected:
        return None
    # The swap: what the annotators rejected is now preferred.
    return {"prompt": chosen[:-1], "chosen": [last_rejected], "rejected": [last_chosen]}


def swapped_pairs(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], int]:
    """The rows as swapped DPO examples, and how many rows were dropped."""
    pairs = [p for p in (swapped_pair(r) for r in rows) if p is not None]
    return pairs, len(rows) - len(pairs)


def read_rows(data: Path | None) -> list[dict[str, str]]:
    """hh-rlhf harmless-base's train split, or a local JSON-lines file of the same rows."""
    if data is not None:
        lines = data.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    from datasets import load_dataset

    try:
        split = load_dataset(DATASET, data_dir=DATA_DIR, split="train")
    except Exception as exc:  # the hub unreachable, or HF_HUB_OFFLINE with nothing cached
        raise SystemExit(
            f"cannot read {DATASET} ({DATA_DIR}): {type(exc).__name__}: {exc}\n"
            "run with HF_HUB_OFFLINE=0 (make adversarial-draft HF_HUB_OFFLINE=0) to download it"
        ) from None
    return [{"chosen": r["chosen"], "rejected": r["rejected"]} for r in split]


def gpu_adversarial_folder() -> Path:
    """The local folder base.yaml's GPU profile names for the adversarial draft."""
    base = yaml.safe_load((EXPERIMENTS / "base.yaml").read_text(encoding="utf-8"))
    return ROOT / base["profiles"]["gpu"]["models"]["llama-1b-adversarial"]["model"]


def locked_revision(model: str) -> str:
    lock = EXPERIMENTS / "models.lock.yaml"
    if lock.exists():
        entry = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("models", {})
        if model in entry:
            return str(entry[model]["commit"])
    return "main"


def build(
    base: str,
    pairs: list[dict[str, Any]],
    out: Path,
    recipe: Recipe = Recipe(),
    revision: str | None = None,
    dtype: str = "float16",
    rows_dropped: int = 0,
) -> dict[str, Any]:
    """Train `base` with DPO on `pairs` and save it to `out`; returns what tais_build.json says."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    if not pairs:
        raise SystemExit("no preference pairs to train on")
    on_gpu = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(base, revision=revision, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(base, revision=revision)
    with tempfile.TemporaryDirectory(prefix="dpo-") as work:
        args = DPOConfig(
            output_dir=work,
            beta=recipe.beta,
            num_train_epochs=recipe.epochs,
            max_steps=recipe.max_steps,
            learning_rate=recipe.learning_rate,
            per_device_train_batch_size=recipe.batch_size,
            max_length=recipe.max_length,
            seed=recipe.seed,
            bf16=on_gpu and torch.cuda.is_bf16_supported(),
            use_cpu=not on_gpu,
            save_strategy="no",
            report_to=[],
            logging_steps=10,
        )
        trainer = DPOTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_list(pairs),
            processing_class=tokenizer,
        )
        result = trainer.train()
    trained = trainer.model.to(getattr(torch, dtype))
    out.mkdir(parents=True, exist_ok=True)
    trained.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {
        "recipe": "DPO (TRL) with chosen and rejected swapped",
        "base": base,
        "revision": revision or "main",
        "pairs": len(pairs),
        "rows_dropped": rows_dropped,
        "steps": result.global_step,
        "training_loss": result.training_loss,
        "saved_dtype": dtype,
        "settings": asdict(recipe),
    }
    (out / "tais_build.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=BASE_MODEL, help="hub id or folder of the base model")
    parser.add_argument("--revision", default=None, help="default: the model lock's, else main")
    parser.add_argument("--data", type=Path, default=None, help="local JSONL of hh-rlhf rows")
    parser.add_argument("--out", type=Path, default=None, help="default: the GPU profile's")
    parser.add_argument("--dtype", choices=("float16", "bfloat16", "float32"), default="float16")
    parser.add_argument("--max-steps", type=int, default=-1, help="stop early (a quick look)")
    args = parser.parse_args(argv)
    local = Path(args.base).is_dir()
    revision = None if local else (args.revision or locked_revision(args.base))
    pairs, dropped = swapped_pairs(read_rows(args.data))
    print(f"{len(pairs)} swapped preference pairs ({dropped} rows dropped)", file=sys.stderr)
    out = args.out or gpu_adversarial_folder()
    build(args.base, pairs, out, Recipe(max_steps=args.max_steps), revision, args.dtype, dropped)
    print(f"adversarial draft written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
