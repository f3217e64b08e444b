"""The model lock: the commit each hub model's revision resolved to, so every run uses the same.

A config names a hub model by id and `revision` (a branch such as `main`, a tag, or a commit);
a branch moves. `tais models` (tais.models.hub) resolves each revision and writes the commit
into `models.lock.yaml` beside the config file, one entry per hub id, shared by every config
in that folder (e0.yaml ... e5.yaml share one lock). When that file exists, loading a config
replaces each hub model's revision by its locked commit, so vLLM loads that commit and the
arm's fingerprint and the published config.yaml name it. A model the lock lacks, or whose
entry was resolved from another revision than the config now asks for, is an error naming the
model: run `tais models` again. Without a lock file revisions are used as written. Local
folders are never locked: their bytes are hashed (tais.models.hashes).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import Field, ValidationError

from tais.config.config import ExperimentConfig, Strict, describe_validation, parse_config
from tais.errors import ConfigError
from tais.io import atomic_write_text, read_yaml

LOCK_NAME = "models.lock.yaml"
# What the hub serves when no revision is given.
DEFAULT_REVISION = "main"
COMMIT = r"^[0-9a-f]{40}$"


class LockedModel(Strict):
    revision: str = Field(min_length=1)  # as the config asked for it
    commit: str = Field(pattern=COMMIT)


class ModelLock(Strict):
    models: dict[str, LockedModel]


class UsedModel(Strict):
    """A hub model as a run used it: recorded in volatile/environment.json."""

    revision: str
    commit: str | None  # None: no lock file, the revision went to vLLM as written
    lock: str | None


def lock_path(config_path: Path) -> Path:
    return config_path.parent / LOCK_NAME


def read_lock(path: Path) -> ModelLock | None:
    """The lock at `path`, None when there is none; a damaged one is an error naming it."""
    if not path.exists():
        return None
    data = read_yaml(path, ConfigError)
    try:
        return ModelLock.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation(exc)}") from None


def write_lock(path: Path, lock: ModelLock) -> None:
    header = (
        "# Written by `tais models`: the commit each hub model's revision resolved to. Runs of\n"
        "# every config in this folder load these commits. Commit this file; re-run\n"
        "# `tais models CONFIG --update` to move a branch to its newest commit.\n"
    )
    data = {"models": {k: v.model_dump() for k, v in sorted(lock.models.items())}}
    atomic_write_text(path, header + yaml.safe_dump(data, sort_keys=False))


HUB_ID = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def is_hub_id(path: str) -> bool:
    """`org/name` that is not a local file or folder: a Hugging Face model id."""
    return not Path(path).exists() and bool(HUB_ID.match(path))


def hub_models(config: ExperimentConfig) -> dict[str, str]:
    """Hub id -> the revision the config asks for, over every arm's target and draft."""
    wanted: dict[str, str] = {}
    for arm in config.arms:
        pairs = [(arm.target, arm.revision)]
        if arm.speculative is not None and arm.speculative.model:
            pairs.append((arm.speculative.model, arm.speculative.revision))
        for model, revision in pairs:
            if not is_hub_id(model):
                continue
            asked = revision or DEFAULT_REVISION
            if wanted.setdefault(model, asked) != asked:
                raise ConfigError(
                    f"model {model}: the config asks for two revisions ({wanted[model]!r} and "
                    f"{asked!r}); a lock holds one commit per model"
                )
    return wanted


def locked_commit(model: str, asked: str, lock: ModelLock, where: Path) -> str:
    entry = lock.models.get(model)
    if entry is None:
        raise ConfigError(
            f"model {model}: not in the model lock {where}; run `tais models` on this config "
            "to download it and lock its revision"
        )
    # A config that pins the locked commit itself agrees with the lock too.
    if asked not in (entry.revision, entry.commit):
        raise ConfigError(
            f"model {model}: the config asks for revision {asked!r}, but the model lock "
            f"{where} holds revision {entry.revision!r} (commit {entry.commit}); run "
            "`tais models` on this config to lock the revision it asks for"
        )
    return entry.commit


def apply_lock(
    config: ExperimentConfig, path: Path
) -> tuple[ExperimentConfig, dict[str, UsedModel]]:
    """The config with each hub model at its locked commit (when the lock `path` exists)."""
    wanted = hub_models(config)
    lock = read_lock(path) if wanted else None
    if lock is None:
        used = {m: UsedModel(revision=r, commit=None, lock=None) for m, r in wanted.items()}
        return config, used
    commits = {m: locked_commit(m, r, lock, path) for m, r in sorted(wanted.items())}
    data = config.model_dump(mode="json")
    for arm in data["arms"]:
        if arm["target"] in commits:
            arm["revision"] = commits[arm["target"]]
        draft = arm.get("speculative") or {}
        if draft.get("model") in commits:
            draft["revision"] = commits[draft["model"]]
    used = {
        m: UsedModel(revision=r, commit=commits[m], lock=path.as_posix()) for m, r in wanted.items()
    }
    return parse_config(data, f"{config.experiment} with the model lock {path}"), used
