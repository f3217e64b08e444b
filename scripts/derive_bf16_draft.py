"""Write a copy of a model folder with its weights rounded to bfloat16.

    python scripts/derive_bf16_draft.py bundle/models/tiny-draft bundle/models/tiny-draft-bf16

The CPU profile's stand-in for the paper's quantised draft (E3): the same draft, its weights
at reduced precision, while the target stays as it is (vLLM loads a draft in the target's
dtype, so the float32 engine computes with the bfloat16-rounded weights). It is not a 4-bit
GPTQ model and is named for what it is. Rounding is deterministic, so the bytes are too.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

WEIGHTS = "model.safetensors"


def derive(source: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tensors = load_file(source / WEIGHTS)
    rounded = {name: t.to(torch.bfloat16).contiguous() for name, t in sorted(tensors.items())}
    save_file(rounded, out / WEIGHTS, metadata={"format": "pt"})
    (out / WEIGHTS).chmod(0o644)  # safetensors writes 0600; bundle files are world-readable
    config = json.loads((source / "config.json").read_text())
    config["dtype"] = "bfloat16"
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    for path in sorted(source.iterdir()):
        if path.name not in (WEIGHTS, "config.json") and path.is_file():
            shutil.copyfile(path, out / path.name)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: derive_bf16_draft.py SOURCE_FOLDER OUT_FOLDER")
    derive(Path(sys.argv[1]), Path(sys.argv[2]))
