"""The positive control with raw vLLM, no TAIS in the loop: a Gemma 3 self-draft that vLLM 0.32
accepts and that changes the target's temperature-0 output (docs/models.md, "The positive
control").

    python scripts/gemma_draft_repro.py                  # target alone, then with the draft
    python scripts/gemma_draft_repro.py --fixed          # the same with the runner patched

Needs `make real-models` (the two Gemma folders under .cache/models/). Each arm runs in a
process of its own. `--fixed` gives the draft-model proposer the attention metadata of its own
KV-cache group, as vLLM's runner already does for EAGLE-style proposers
(vllm/v1/worker/gpu_model_runner.py, `_build_attention_metadata`); with it every output
equals target-only again, which locates the cause.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / ".cache" / "models"
TARGET = MODELS / "gemma-3-270m"
DRAFT = MODELS / "gemma-3-270m-control-draft5-full-attention"
PROMPTS = [
    "The capital of France is",
    "Write a short poem about the sea.",
    "def fibonacci(n):",
    "Once upon a time",
    "The three primary colours are",
    "Explain photosynthesis in one sentence.",
    "List three prime numbers:",
    "The best way to learn a language is",
]


def patch_runner() -> None:
    """Route the draft-model proposer to its own KV-cache group's block table and slot mapping.

    The runner hands group 0's metadata to any proposer not in its EAGLE-style tuple; with a
    Gemma 3 target, group 0 holds sliding-window target layers whose cache memory the draft's
    full-attention layers alias, so the draft's cache writes overwrite the target's.
    """
    import vllm.v1.worker.gpu_model_runner as runner
    from vllm.v1.spec_decode.draft_model import DraftModelProposer

    original = runner.ExtractHiddenStatesProposer

    class _Either(type):
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, (original, DraftModelProposer))

    class Either(metaclass=_Either):
        pass

    runner.ExtractHiddenStatesProposer = Either  # type: ignore[misc]


def generate(arm: str, dtype: str, max_tokens: int, fixed: bool) -> list[list[int]]:
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # one process: the patch must apply
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    if fixed:
        patch_runner()
    from vllm import LLM, SamplingParams

    settings: dict[str, object] = {
        "model": str(TARGET),
        "dtype": dtype,
        "max_model_len": 1024,
        "enforce_eager": True,
        "seed": 0,
    }
    if arm == "draft":
        settings["speculative_config"] = {
            "method": "draft_model",
            "model": str(DRAFT),
            "num_speculative_tokens": 5,
        }
    # A base model: the raw text after <bos>, which this tokenizer does not add by itself.
    prompts = [f"<bos>{p}\n" for p in PROMPTS]
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    return [list(o.outputs[0].token_ids) for o in LLM(**settings).generate(prompts, params)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixed", action="store_true", help="patch the runner (see above)")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--arm", choices=["target", "draft"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm is not None:  # the child process of one arm
        print(json.dumps(generate(args.arm, args.dtype, args.max_tokens, args.fixed)))
        return 0
    if not (TARGET / "config.json").is_file() or not (DRAFT / "config.json").is_file():
        print(f"error: {TARGET} or {DRAFT} missing: run `make real-models`", file=sys.stderr)
        return 1
    outputs = {}
    for arm in ("target", "draft"):
        command = [sys.executable, __file__, "--arm", arm, "--dtype", args.dtype]
        command += ["--max-tokens", str(args.max_tokens)] + (["--fixed"] if args.fixed else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        outputs[arm] = json.loads(done.stdout.strip().splitlines()[-1])
    same = 0
    for prompt, alone, drafted in zip(PROMPTS, outputs["target"], outputs["draft"], strict=True):
        first = next(
            (i for i, (a, b) in enumerate(zip(alone, drafted, strict=False)) if a != b), None
        )
        same += alone == drafted
        where = "identical" if alone == drafted else f"differs from token {first}"
        print(f"{prompt!r}: {where}")
    patched = " (runner patched)" if args.fixed else ""
    print(f"{same} of {len(PROMPTS)} outputs equal target-only{patched}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
