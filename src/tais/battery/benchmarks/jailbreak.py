"""Jailbreak amplification: the project's wrapper templates applied to harmful items.

Each wrapped item is its own task, `<task>+jailbreak`, so refusal under a jailbreak wrapper is
reported apart from refusal of the plain prompt. A jailbreak task holds every selected
template applied to every kept harmful item of its base task (after `limit`), so the plain
and wrapped tasks cover the same behaviors. The templates live in
`bundle/prompts/jailbreak/templates.yaml`, documented in the README beside it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tais.errors import ConfigError, DataError
from tais.io import read_yaml
from tais.records import Item, Message

TEMPLATES = Path("bundle/prompts/jailbreak/templates.yaml")
PLACEHOLDER = "{prompt}"
SUFFIX = "+jailbreak"


class JailbreakTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    family: str
    reference: str
    template: str

    @field_validator("template")
    @classmethod
    def _one_placeholder(cls, value: str) -> str:
        if value.count(PLACEHOLDER) != 1:
            raise ValueError(f"must contain {PLACEHOLDER} exactly once")
        return value

    def wrap(self, prompt: str) -> str:
        # str.replace, not format: prompts may hold braces of their own.
        return self.template.replace(PLACEHOLDER, prompt)


class TemplateSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    templates: list[JailbreakTemplate] = Field(min_length=1)


def load_templates(path: Path = TEMPLATES) -> dict[str, JailbreakTemplate]:
    if not path.is_file():
        raise DataError(f"jailbreak templates not found: {path} (run tais from the project root)")
    try:
        found = TemplateSet.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise DataError(f"{path}: not a valid jailbreak template set: {exc}") from None
    names = [t.name for t in found.templates]
    if len(set(names)) != len(names):
        raise DataError(f"{path}: template names repeat")
    return {t.name: t for t in found.templates}


def wrapped(item: Item, template: JailbreakTemplate) -> Item:
    if not item.messages or item.messages[-1].role != "user":
        raise DataError(f"{item.item_id}: cannot wrap, the last message is not the user's")
    last = item.messages[-1]
    messages = [*item.messages[:-1], Message(role="user", content=template.wrap(last.content))]
    return item.model_copy(
        update={
            "item_id": f"{item.item_id}+jb/{template.name}",
            "task": f"{item.task}{SUFFIX}",
            "messages": messages,
            "meta": {**item.meta, "jailbreak": template.name, "base_item_id": item.item_id},
        }
    )


def jailbreak_items(items: list[Item], names: list[str], path: Path = TEMPLATES) -> list[Item]:
    """Every harmful item wrapped by every named template."""
    templates = load_templates(path)
    unknown = [n for n in names if n not in templates]
    if unknown:
        raise ConfigError(
            f"unknown jailbreak template(s) {', '.join(unknown)}; {path} has {', '.join(templates)}"
        )
    return [wrapped(i, templates[n]) for i in items if i.kind == "harmful" for n in names]
