"""The int8 (compressed-tensors W8A8) tiny draft: its checkpoint, and vLLM running it as a draft."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from .conftest import MODELS, ROOT

SCRIPT = ROOT / "scripts" / "quantize_tiny_draft.py"
BUNDLED = MODELS / "tiny-draft-w8a8"
SOURCE = MODELS / "tiny-draft"
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quantize_tiny_draft", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def projection_weights() -> dict[str, torch.Tensor]:
    source = load_file(SOURCE / "model.safetensors")
    return {
        name.removesuffix(".weight"): value
        for name, value in source.items()
        if name.removesuffix(".weight").endswith(PROJECTIONS)
    }


def test_rerun_writes_the_bundled_bytes(tmp_path: Path) -> None:
    out = load_script().quantise(SOURCE, tmp_path / "w8a8", "w8a8")
    bundled = sorted(p.name for p in BUNDLED.iterdir())
    assert sorted(p.name for p in out.iterdir()) == bundled
    for name in bundled:
        assert (out / name).read_bytes() == (BUNDLED / name).read_bytes(), name


def test_bundled_draft_holds_int8_weights_within_half_a_step() -> None:
    quantised = load_file(BUNDLED / "model.safetensors")
    source = load_file(SOURCE / "model.safetensors")
    layers = projection_weights()
    assert len(layers) == 7
    for layer, weight in layers.items():
        assert f"{layer}.weight" in quantised
        levels, scale = quantised[f"{layer}.weight"], quantised[f"{layer}.weight_scale"]
        assert levels.dtype == torch.int8 and scale.shape == (weight.shape[0], 1)
        error = (levels.float() * scale - weight).abs()
        # float32 rounding: the clamped row maximum sits a hair past half a step.
        assert bool((error <= scale / 2 * (1 + 1e-4)).all()), layer
        assert bool((error > 0).any()), f"{layer}: stored exactly, so nothing was quantised"
        # The scale spans each row: its largest weight lands on the outermost level.
        assert set(levels.int().abs().amax(dim=1).tolist()) <= {127, 128}, layer
    kept = set(source) - {f"{layer}.weight" for layer in layers}
    assert {"lm_head.weight", "model.embed_tokens.weight"} <= kept
    for name in kept:
        assert torch.equal(quantised[name], source[name]), name
    config = json.loads((BUNDLED / "config.json").read_text(encoding="utf-8"))
    assert config["quantization_config"]["quant_method"] == "compressed-tensors"
    assert config["quantization_config"]["format"] == "int-quantized"


@pytest.mark.parametrize("fmt", ["w4a16", "gptq", "awq"])
def test_4bit_layouts_match_vllms_reference_packers(fmt: str, tmp_path: Path) -> None:
    """The formats vLLM's CPU build cannot run here are still laid out as vLLM reads them."""
    from vllm.model_executor.layers.quantization.utils.quant_utils import (
        awq_pack,
        gptq_pack,
        pack_quantized_values_into_int32,
    )
    from vllm.scalar_type import scalar_types

    script = load_script()
    out = load_file(script.quantise(SOURCE, tmp_path / fmt, fmt) / "model.safetensors")
    for layer, weight in projection_weights().items():
        rows, cols = weight.shape
        groups = torch.arange(cols) // script.GROUP_SIZE
        if fmt == "awq":
            levels, scale, zero = script.asymmetric(weight, 4, script.GROUP_SIZE)
            packed = awq_pack(levels.t().contiguous(), 4, cols, rows)
            assert torch.equal(out[f"{layer}.qweight"], packed), layer
            assert torch.equal(
                out[f"{layer}.qzeros"], awq_pack(zero.t().contiguous(), 4, zero.shape[1], rows)
            )
            signed = levels - zero[:, groups]
        else:
            levels, scale = script.symmetric(weight, 4, script.GROUP_SIZE)
            unsigned = levels.to(torch.int32) + 8
            if fmt == "w4a16":
                packed = pack_quantized_values_into_int32(unsigned, scalar_types.uint4b8, 1)
                assert torch.equal(out[f"{layer}.weight_packed"], packed), layer
                assert out[f"{layer}.weight_shape"].tolist() == [rows, cols]
            else:
                packed = gptq_pack(unsigned.t().contiguous(), 4, cols, rows)
                assert torch.equal(out[f"{layer}.qweight"], packed), layer
                assert torch.equal(out[f"{layer}.g_idx"], groups.to(torch.int32))
            signed = levels.to(torch.int32)
        step = scale[:, groups]
        error = (signed.float() * step - weight).abs()
        assert bool((error <= step / 2 * (1 + 1e-4)).all()), layer


# --- vLLM runs the int8 draft (engine) -----------------------------------------------------

N_ITEMS = 20


def demo_conversations() -> list[list[dict[str, str]]]:
    lines = (ROOT / "bundle" / "battery" / "demo.jsonl").read_text(encoding="utf-8").splitlines()
    step = len(lines) // N_ITEMS  # spread over the battery's three tasks
    return [json.loads(line)["messages"] for line in lines[::step][:N_ITEMS]]


class Run:
    def __init__(self, speculative: dict[str, Any] | None) -> None:
        from vllm import LLM, SamplingParams

        self.llm = LLM(
            model=str(MODELS / "tiny-target"),
            dtype="float32",
            enforce_eager=True,
            seed=0,
            max_model_len=512,
            speculative_config=speculative,
            disable_log_stats=False,
        )
        params = SamplingParams(temperature=0.0, max_tokens=48, seed=0)
        outputs = self.llm.chat(demo_conversations(), params, use_tqdm=False)
        self.tokens = [list(out.outputs[0].token_ids) for out in outputs]

    def counter(self, name: str) -> int:
        return sum(int(m.value) for m in self.llm.get_metrics() if m.name == name)


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, Run]]:
    # Lets the test send a function to the worker process to look at the loaded draft.
    os.environ["VLLM_ALLOW_INSECURE_SERIALIZATION"] = "1"
    try:
        yield {
            "target_only": Run(None),
            "w8a8": Run(
                {"method": "draft_model", "model": str(BUNDLED), "num_speculative_tokens": 3}
            ),
        }
    finally:
        del os.environ["VLLM_ALLOW_INSECURE_SERIALIZATION"]


@pytest.mark.engine
def test_vllm_loads_the_draft_as_int8_compressed_tensors(runs: dict[str, Run]) -> None:
    config = runs["w8a8"].llm.llm_engine.vllm_config
    assert config.model_config.quantization is None
    draft = config.speculative_config.draft_model_config
    assert draft.quantization == "compressed-tensors"
    assert draft.dtype == torch.float32  # the draft computes in the target's dtype

    # Defined here so that it is pickled by value and runs inside the vLLM worker process.
    def draft_linear_layers(worker: Any) -> dict[str, tuple[str, str, str]]:
        found = {}
        for name, module in worker.model_runner.drafter.model.named_modules():
            scheme = getattr(module, "scheme", None)  # where compressed-tensors keeps it
            if scheme is not None:
                # The CPU kernel may prepack the int8 weight and drop the parameter, so the
                # matmul kernel it chose is what shows that the layer computes in int8.
                kernel = type(getattr(scheme, "kernel", None)).__name__
                found[name] = (type(module.quant_method).__name__, type(scheme).__name__, kernel)
        return found

    (layers,) = runs["w8a8"].llm.collective_rpc(draft_linear_layers)
    # vLLM fuses q/k/v and gate/up: four int8 linear layers in the one decoder layer.
    assert sorted(name.rsplit(".", 1)[-1] for name in layers) == [
        "down_proj",
        "gate_up_proj",
        "o_proj",
        "qkv_proj",
    ]
    for method, scheme, kernel in layers.values():
        assert (method, scheme) == ("CompressedTensorsLinearMethod", "CompressedTensorsW8A8Int8")
        assert kernel.endswith("Int8ScaledMMLinearKernel"), kernel


@pytest.mark.engine
def test_int8_draft_is_accepted_and_changes_no_token(runs: dict[str, Run]) -> None:
    run = runs["w8a8"]
    drafted = run.counter("vllm:spec_decode_num_draft_tokens")
    accepted = run.counter("vllm:spec_decode_num_accepted_tokens")
    assert 0 < accepted < drafted
    assert run.tokens == runs["target_only"].tokens
