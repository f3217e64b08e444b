"""Reading an experiment file: `extends`, `profiles`, a design, and `--limit`.

A file may name a base file (`extends: base.yaml`, relative to the file) and carry a mapping
`profiles: {gpu: {...}, cpu: {...}}`. The file resolved for profile P is, from lowest to
highest precedence: the base file, the base's `profiles.P`, the file itself, the file's
`profiles.P`. Mappings merge key by key; a list or a value replaces what was there. A file
with `groups` is a design (tais.config.design), expanded into arms and contrasts; any other is a
plain ExperimentConfig. Either way the result is one ExperimentConfig, and its YAML (written
by `resolved_yaml`) is what a run publishes as config.yaml, so `verify` never needs profiles.

A profile or a limit renames the experiment (`e0` as `e0-cpu`, with `--limit 5` as
`e0-cpu-limit5`), so runs of different sizes never share a runs/ or validation/ folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tais.config.config import ExperimentConfig, describe_validation, parse_config
from tais.config.design import Design, Expanded, expand
from tais.config.model_lock import UsedModel, apply_lock, lock_path
from tais.errors import ConfigError
from tais.io import read_yaml

EXTENDS = "extends"
PROFILES = "profiles"


@dataclass(frozen=True)
class Loaded:
    config: ExperimentConfig
    # The text published as config.yaml: the file itself when it needed no resolving.
    text: str
    expanded: Expanded | None = None
    profile: str | None = None
    # Hub id -> the revision asked for and the commit locked for it (tais.config.model_lock).
    hub_models: dict[str, UsedModel] = field(default_factory=dict)


def merge(base: Any, over: Any) -> Any:
    """`over` on top of `base`: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return over


def _mapping(value: Any, where: str, place: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping{place}")
    return value


def _layers(path: Path, profile: str | None, chain: tuple[Path, ...]) -> tuple[Any, set[str]]:
    """The file's data resolved for `profile`, and every profile name the chain defines."""
    if path.resolve() in chain:
        raise ConfigError(f"{path}: `extends` loops back to a file that extends it")
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    data = _mapping(read_yaml(path, ConfigError), str(path), " at the top level")
    own = {k: v for k, v in data.items() if k not in (EXTENDS, PROFILES)}
    profiles = _mapping(data.get(PROFILES, {}), f"{path}: {PROFILES}")
    for name, overlay in profiles.items():
        _mapping(overlay, f"{path}: {PROFILES}.{name}")
        for key in overlay:
            if key in (EXTENDS, PROFILES, "experiment"):
                raise ConfigError(f"{path}: {PROFILES}.{name}: key {key!r} cannot vary by profile")
    if profile is not None and profile in profiles:
        own = merge(own, profiles[profile])
    names = set(profiles)
    if EXTENDS in data:
        base_name = data[EXTENDS]
        if not isinstance(base_name, str):
            raise ConfigError(f"{path}: {EXTENDS}: expected a file name")
        base, base_names = _layers(path.parent / base_name, profile, (*chain, path.resolve()))
        return merge(base, own), names | base_names
    return own, names


def resolve(path: Path, profile: str | None) -> dict[str, Any]:
    """The file's data after `extends` and `profiles`, for `profile`."""
    data, names = _layers(path, profile, ())
    if profile is None and names:
        raise ConfigError(f"{path}: choose a profile ({', '.join(sorted(names))}), e.g. --profile")
    if profile is not None and profile not in names:
        known = ", ".join(sorted(names)) or "none"
        raise ConfigError(f"{path}: no profile {profile!r}; its profiles: {known}")
    return _mapping(data, str(path), " at the top level")


def with_limit(config: ExperimentConfig, limit: int) -> ExperimentConfig:
    """Every battery source at most `limit` items per task, under a name that says so."""
    data = config.model_dump(mode="json")
    for source in data["battery"]:
        source["limit"] = min(source.get("limit") or limit, limit)
    data["experiment"] = f"{config.experiment}-limit{limit}"
    return parse_config(data, f"experiment {config.experiment} with limit {limit}")


def resolved_yaml(config: ExperimentConfig, source: Path, profile: str | None) -> str:
    origin = f"{source}" + (f", profile {profile}" if profile else "")
    header = (
        f"# Resolved from {origin}: the arms, contrasts and settings this run used.\n"
        "# Edit the source file, not this one.\n"
    )
    # Unset keys left out: every one of them defaults to None, so the file parses back to
    # the same config (and config hash).
    data = config.model_dump(mode="json", exclude_none=True)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return header + body


def load_experiment(
    path: Path, profile: str | None = None, limit: int | None = None, use_lock: bool = True
) -> Loaded:
    """The ExperimentConfig a run of `path` uses, with the text it publishes.

    With `use_lock`, hub models are put at the commits of the model lock beside `path`, if
    there is one (`tais models` reads the config as written, to resolve it).
    """
    data = resolve(path, profile)
    expanded = None
    if "groups" in data:
        try:
            design = Design.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{path}: {describe_validation(exc)}") from None
        name = design.experiment + (f"-{profile}" if profile else "")
        expanded = expand(design, name)
        config = expanded.config
    else:
        config = parse_config(data, str(path))
        if profile is not None:
            config = parse_config(
                {**config.model_dump(mode="json"), "experiment": f"{config.experiment}-{profile}"},
                str(path),
            )
    if limit is not None:
        config = with_limit(config, limit)
    unlocked = config
    hub: dict[str, UsedModel] = {}
    if use_lock:
        config, hub = apply_lock(config, lock_path(path))
    if expanded is None and profile is None and limit is None and config == unlocked:
        text = path.read_text(encoding="utf-8")
    else:
        text = resolved_yaml(config, path, profile)
    return Loaded(config=config, text=text, expanded=expanded, profile=profile, hub_models=hub)
