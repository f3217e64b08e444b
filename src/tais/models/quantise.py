"""Quantised copies of a draft in the checkpoint layouts vLLM loads as quantised.

Moved here from scripts/quantize_tiny_draft.py (which keeps its command line and describes the
formats): the real models' W8A8 draft is written by the same code as the tiny one.

The seven projections of each decoder layer are quantised; the embedding, the norms and the
output head stay as they are, as GPTQ and llm-compressor leave them by default. Quantisation
is round-to-nearest (no calibration data, no GPTQ error feedback): every value is a pure
function of the source weights, so a rerun writes the same bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from tais.errors import DataError

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
# GPTQ's usual group; divides the tiny draft's input widths (128, 256), not SmolLM2's 576.
GROUP_SIZE = 128
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


WRITERS: dict[str, Callable[[torch.Tensor], dict[str, torch.Tensor]]] = {
    "w4a16": w4a16_tensors,
    "w8a8": w8a8_tensors,
    "gptq": gptq_tensors,
    "awq": awq_tensors,
}


# Files of a draft folder that are neither weights nor config and are copied as they are.
TOKENIZER_FILES = (
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
)


def quantise(source: Path, out: Path, fmt: str, copied: Sequence[str] = TOKENIZER_FILES) -> Path:
    """Write `source` (a float checkpoint folder) quantised in `fmt` to `out`, replacing it.

    Files named in `copied` are copied when the source has them.
    """
    if fmt not in WRITERS:
        raise DataError(f"unknown quantisation format {fmt!r} (one of {', '.join(FORMATS)})")
    weights_file = source / "model.safetensors"
    if not weights_file.is_file() or not (source / "config.json").is_file():
        raise DataError(f"{source}: not a model folder (model.safetensors and config.json)")
    weights = load_file(weights_file)
    tensors: dict[str, torch.Tensor] = {}
    layers = set(quantised_names(weights))
    writer = WRITERS[fmt]
    for name, value in weights.items():
        layer = name.removesuffix(".weight")
        if layer not in layers:
            tensors[name] = value.contiguous()
            continue
        if fmt != "w8a8" and value.shape[1] % GROUP_SIZE:
            raise DataError(
                f"{source}: {name} has {value.shape[1]} input channels, not a multiple of "
                f"the {fmt} group size {GROUP_SIZE}"
            )
        for suffix, packed in writer(value.to(torch.float32)).items():
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
    for name in copied:
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    return out
