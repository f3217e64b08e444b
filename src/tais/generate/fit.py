"""How many context positions an item needs, as the engine will template and tokenise it.

One implementation serves the worker's up-front refusal (with the engine's own tokenizer) and
the battery's `engine.too_long: skip` (with the targets' tokenizers, loaded without a model).
`prompt_ids` is also what the engine is given, so counting and generating cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tais.config.config import ExperimentConfig
from tais.errors import ConfigError, DataError
from tais.generate.backends.base import ChoiceRequest
from tais.records import Item, Message


def choice_request(item: Item) -> ChoiceRequest | None:
    """Items whose options are scored by log-probability carry the bare question to score."""
    question = item.meta.get("scored_question")
    if not question:
        return None
    choices = [str(c) for c in item.meta.get("choices") or []]
    if not choices or not all(c.strip() for c in choices):
        # An empty option would score log-probability 0, the most likely answer of all.
        raise DataError(f"{item.item_id}: options to score must be non-empty texts")
    return ChoiceRequest(conversation=[Message(role="user", content=question)], choices=choices)


def template_ids(tokenizer: Any, conversation: list[Message]) -> list[int]:
    encoded = tokenizer.apply_chat_template(
        [m.model_dump() for m in conversation], add_generation_prompt=True, tokenize=True
    )
    # transformers 5 returns a BatchEncoding, older releases a plain list of ids.
    return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)


PromptFormat = Literal["chat", "raw"]


def raw_text(conversation: list[Message]) -> str:
    """The prompt as plain text, for `prompt_format: raw`: the one user message, untemplated.

    A completion endpoint takes one text; several messages would need a template to join them.
    """
    if len(conversation) != 1 or conversation[0].role != "user":
        roles = ", ".join(m.role for m in conversation) or "none"
        raise ConfigError(
            f"prompt_format raw sends one user message as plain text; got messages: {roles}"
        )
    return conversation[0].content


def prompt_ids(
    tokenizer: Any, conversation: list[Message], prompt_format: PromptFormat
) -> list[int]:
    """The token ids the engine is given: the chat template's, or the raw text's (with the
    tokenizer's own special tokens, e.g. BOS, as a completion endpoint adds them)."""
    if prompt_format == "raw":
        return list(tokenizer.encode(raw_text(conversation)))
    return template_ids(tokenizer, conversation)


def option_ids(tokenizer: Any, choices: list[str]) -> list[list[int]]:
    # Options are tokenised apart from the prompt and appended, so every option is scored
    # after exactly the same prompt tokens (joint tokenisation could merge across the seam).
    return [tokenizer.encode(c, add_special_tokens=False) for c in choices]


def context_need(tokenizer: Any, item: Item, prompt_format: PromptFormat = "chat") -> int:
    """Positions the item's longest request fills before the engine generates a token."""
    need = len(prompt_ids(tokenizer, item.messages, prompt_format))
    request = choice_request(item)
    if request is not None:
        prompt = len(prompt_ids(tokenizer, request.conversation, prompt_format))
        longest = max((len(o) for o in option_ids(tokenizer, request.choices)), default=0)
        need = max(need, prompt + longest)
    return need


@dataclass(frozen=True)
class Fitted:
    items: list[Item]
    dropped: dict[str, int]  # per task, the items no target's context could hold


def _load_tokenizer(target: str) -> Any:
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise ConfigError(
            "engine.too_long: skip counts tokens with the targets' tokenizers, which needs "
            "transformers (installed by `make setup`)"
        ) from None
    try:
        # Lengths are only counted here, so the "longer than the model" warning is noise.
        return AutoTokenizer.from_pretrained(target, model_max_length=2**62)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"target {target!r}: cannot load its tokenizer: {exc}") from None


def fit_battery(config: ExperimentConfig, items: list[Item]) -> Fitted:
    """With `engine.too_long: skip`, leave out items that do not fit every target's context.

    Every target is asked, so all arms keep the same items and stay comparable.
    """
    prompt_format = config.engine.prompt_format
    if prompt_format == "raw":
        for item in items:
            try:
                raw_text(item.messages)
            except ConfigError as exc:
                raise ConfigError(f"{item.item_id}: {exc}") from None
    if config.engine.too_long != "skip":
        return Fitted(items=items, dropped={})
    limit = config.engine.max_model_len
    # An endpoint's model has no tokenizer here unless `target` is a local folder; its server
    # refuses what does not fit.
    targets = {a.target for a in config.arms if a.endpoint is None or Path(a.target).is_dir()}
    tokenizers = [_load_tokenizer(t) for t in sorted(targets)]
    kept, dropped = [], Counter[str]()
    for item in items:
        if all(context_need(tok, item, prompt_format) < limit for tok in tokenizers):
            kept.append(item)
        else:
            dropped[item.task] += 1
    return Fitted(items=kept, dropped=dict(sorted(dropped.items())))
