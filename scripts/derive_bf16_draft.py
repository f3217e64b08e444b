"""Write a copy of a model folder with its weights rounded to bfloat16.

    python scripts/derive_bf16_draft.py bundle/models/tiny-draft bundle/models/tiny-draft-bf16

The CPU profile's stand-in for the paper's quantised draft (E3): the same draft, its weights
at reduced precision, while the target stays as it is (vLLM loads a draft in the target's
dtype, so the float32 engine computes with the bfloat16-rounded weights). It is not a 4-bit
GPTQ model and is named for what it is. Rounding is deterministic, so the bytes are too.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

WEIGHTS = "model.safetensors"


def derive(source: Path, out: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    (out / WEIGHTS).chmod(0o644)  # safetensors writes 0600; bundle files are world-readable
    written = {p.name for p in out.iterdir()}
    for path in sorted(source.iterdir()):
        if path.is_file() and path.name not in written:
            shutil.copyfile(path, out / path.name)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: derive_bf16_draft.py SOURCE_FOLDER OUT_FOLDER")
    derive(Path(sys.argv[1]), Path(sys.argv[2]))
