"""A GGUF checkpoint converted to a Hugging Face folder that vLLM loads, and its provenance.

transformers reads a GGUF file (with the `gguf` package) and dequantises it into a float32
model. `save_pretrained` refuses a model loaded that way ("quantized with
QuantizationMethod.GGUF and is not serializable"), so the folder is written by hand:
`model.safetensors` from the state dict (without `lm_head.weight` when the head is tied to the
embedding: the two share memory, which safetensors refuses, and vLLM ties them itself),
`config.json` with `architectures` set and the GGUF quantization section dropped (the weights
are plain floats now), `generation_config.json`, and the tokenizer as transformers saves it
(with `chat_template.jinja` when the GGUF has a template). Every write is a pure function of
the GGUF's bytes and the library versions, so a second conversion gives the same bytes.

Two small JSON files beside the weights say what the folder is (hidden from nothing: vLLM
ignores them, and tais.model_hash hashes them with the rest, so they are part of the model's
identity and hold nothing that changes between conversions):
- `tais.json` (ModelNote): how to prompt the model (its chat template, or raw text with a
  prefix such as Gemma's `<bos>`), its licence and terms, and notes such as "positive control".
- `tais-source.json` (ModelSource): the PyPI packages and their sha256, the GGUF's sha256, the
  steps that made the folder from it, the library versions, and every other file's sha256.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError

from tais.errors import DataError
from tais.io import atomic_write_text, sha256_file
from tais.records import Record

if TYPE_CHECKING:
    import torch

WEIGHTS = "model.safetensors"
NOTE_FILE = "tais.json"
SOURCE_FILE = "tais-source.json"
# The libraries whose versions decide the converted bytes.
TOOLS = ("gguf", "safetensors", "torch", "transformers")
# Keys of a config that name where it was read from, not what the model is.
_LOCAL_KEYS = ("_name_or_path", "quantization_config")


class SourcePackage(Record):
    name: str
    version: str
    filename: str
    sha256: str


class SourceGguf(Record):
    name: str
    sha256: str


class ModelSource(Record):
    """`tais-source.json`: where a converted or derived model folder came from."""

    model: str  # the folder's name
    packages: list[SourcePackage]
    gguf: SourceGguf
    # From the GGUF to this folder, in order: each step's kind and settings ("convert",
    # "self-draft", "quantise", "fine-tune"), with the sha256 of what it started from.
    steps: list[dict[str, Any]]
    tools: dict[str, str]
    files: dict[str, str]  # every other file of the folder (relative path -> sha256)


class ModelNote(Record):
    """`tais.json`: what a config needs to know to use the model."""

    family: str
    role: Literal["target", "draft", "positive-control-draft"]
    prompt_format: Literal["chat", "raw"]
    draft_of: str | None = None
    licence: str
    terms_file: str | None = None  # a file in this folder
    terms_url: str | None = None
    notes: list[str] = Field(default_factory=list)


def tool_versions() -> dict[str, str]:
    found = {}
    for name in TOOLS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: cannot read JSON: {exc}") from None


def folder_files(folder: Path) -> dict[str, str]:
    """sha256 of every file of the folder except tais-source.json, by sorted relative path."""
    return {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix())
        if path.is_file() and path.name != SOURCE_FILE
    }


def write_note(folder: Path, note: ModelNote) -> None:
    atomic_write_text(folder / NOTE_FILE, dump_json(note.model_dump(mode="json")))


def write_source(folder: Path, source: ModelSource) -> ModelSource:
    """`source` with the folder's file hashes filled in, written as tais-source.json."""
    done = source.model_copy(update={"files": folder_files(folder)})
    atomic_write_text(folder / SOURCE_FILE, dump_json(done.model_dump(mode="json")))
    return done


def read_source(folder: Path) -> ModelSource | None:
    """The folder's tais-source.json, None when it has none or it does not parse."""
    path = folder / SOURCE_FILE
    if not path.is_file():
        return None
    try:
        return ModelSource.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def is_current(folder: Path, wanted: ModelSource) -> bool:
    """The folder holds what `wanted` describes (same sources, steps and tools), unchanged."""
    found = read_source(folder)
    if found is None or found.model_copy(update={"files": {}}) != wanted.model_copy(
        update={"files": {}}
    ):
        return False
    return folder_files(folder) == found.files


@contextmanager
def building(out: Path) -> Iterator[Path]:
    """A fresh folder beside `out` to write into; it replaces `out` only when the block ends
    without error, so `out` never holds half a model."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield work
        work.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)


def save_weights(tensors: Mapping[str, torch.Tensor], folder: Path, tied: bool) -> None:
    """model.safetensors from a state dict; a tied head is left to the embedding."""
    from safetensors.torch import save_file

    kept = {
        name: value.detach().contiguous()
        for name, value in sorted(tensors.items())
        if not (tied and name == "lm_head.weight")
    }
    save_file(kept, folder / WEIGHTS, metadata={"format": "pt"})
    (folder / WEIGHTS).chmod(0o644)  # safetensors writes 0600


def save_config(folder: Path, config: Mapping[str, Any]) -> None:
    atomic_write_text(folder / "config.json", dump_json(dict(config)))


def hf_config(config: Any, architecture: str) -> dict[str, Any]:
    """A transformers config as config.json holds it: what differs from the defaults, with the
    architecture named and the GGUF-specific keys dropped."""
    data: dict[str, Any] = config.to_diff_dict()
    for key in _LOCAL_KEYS:
        data.pop(key, None)
    data["architectures"] = [architecture]
    data["dtype"] = "float32"
    return data


def convert_gguf(
    gguf: Path,
    out: Path,
    announce: Callable[[str], None] | None = None,
    chat_template: str | None = None,
) -> Path:
    """Convert the GGUF file to a float32 Hugging Face folder at `out` (replacing it).

    Writes model.safetensors, config.json, generation_config.json and the tokenizer files;
    the caller adds tais.json and tais-source.json. `chat_template` is given to a tokenizer
    whose GGUF has none (a base model), so that it takes the same chat-format prompts as the
    other family of a run.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not gguf.is_file():
        raise DataError(f"{gguf}: GGUF file not found")
    if announce is not None:
        announce(f"converting {gguf.name} (dequantising to float32)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
    except (OSError, ValueError, KeyError, ImportError) as exc:
        raise DataError(f"{gguf}: transformers cannot read it: {exc}") from None
    with building(out) as work:
        tied = bool(getattr(model.config, "tie_word_embeddings", False))
        save_weights(model.state_dict(), work, tied)
        save_config(work, hf_config(model.config, type(model).__name__))
        generation = json.loads(model.generation_config.to_json_string())
        atomic_write_text(work / "generation_config.json", dump_json(generation))
        if chat_template is not None and not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = chat_template
        tokenizer.save_pretrained(work)
    return out


def copy_files(source: Path, out: Path, names: tuple[str, ...]) -> None:
    """Copy those of `names` that `source` has."""
    for name in names:
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
