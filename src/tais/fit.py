"""How many context positions an item needs, as the engine will template and tokenise it.

One implementation serves the worker's up-front refusal (with the engine's own tokenizer) and
the battery's `engine.too_long: skip` (with the targets' tokenizers, loaded without a model).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from tais.backends.base import ChoiceRequest
from tais.config import ExperimentConfig
from tais.errors import ConfigError, DataError
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


def option_ids(tokenizer: Any, choices: list[str]) -> list[list[int]]:
    # Options are tokenised apart from the prompt and appended, so every option is scored
    # after exactly the same prompt tokens (joint tokenisation could merge across the seam).
    return [tokenizer.encode(c, add_special_tokens=False) for c in choices]


def context_need(tokenizer: Any, item: Item) -> int:
    """Positions the item's longest request fills before the engine generates a token."""
    need = len(template_ids(tokenizer, item.messages))
    request = choice_request(item)
    if request is not None:
        prompt = len(template_ids(tokenizer, request.conversation))
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
    if config.engine.too_long != "skip":
        return Fitted(items=items, dropped={})
    limit = config.engine.max_model_len
    tokenizers = [_load_tokenizer(t) for t in sorted({arm.target for arm in config.arms})]
    kept, dropped = [], Counter[str]()
    for item in items:
        if all(context_need(tok, item) < limit for tok in tokenizers):
            kept.append(item)
        else:
            dropped[item.task] += 1
    return Fitted(items=kept, dropped=dict(sorted(dropped.items())))
