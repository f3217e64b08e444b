"""`tais models`: download a config's hub models and lock the commit each revision resolved to.

Every hub model of the config (targets and drafts) is fetched whole with huggingface_hub's
`snapshot_download` into the Hugging Face cache, where vLLM looks for it: its own progress
bars, resumable (an interrupted download continues), HF_TOKEN from the environment for gated
models, and under HF_HUB_OFFLINE=1 only what the cache already holds. The folder it returns is
`snapshots/<commit>`, so the commit is read from where the files are, not from a second call.

A model already in the lock (tais.config.model_lock) at the revision the config asks for is fetched
at its locked commit; `update` re-resolves the revision instead (a moved branch). The lock
beside the config is then rewritten: these models' entries replaced, other entries kept (the
configs of one folder share the lock). Local folders are listed, neither fetched nor locked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tais.config.config import ExperimentConfig
from tais.config.model_lock import (
    COMMIT,
    LockedModel,
    ModelLock,
    hub_models,
    is_hub_id,
    lock_path,
    read_lock,
    write_lock,
)
from tais.config.profiles import load_experiment
from tais.errors import ConfigError, HubError


@dataclass(frozen=True)
class Fetched:
    model: str
    revision: str
    commit: str
    folder: Path
    from_lock: bool  # fetched at the commit the lock already held


@dataclass(frozen=True)
class ModelsResult:
    lock: Path
    fetched: list[Fetched]
    local: dict[str, bool]  # local folder -> present


def _local_models(config: ExperimentConfig) -> dict[str, bool]:
    found: dict[str, bool] = {}
    for arm in config.arms:
        for model in (arm.target, arm.speculative.model if arm.speculative else None):
            if model and not is_hub_id(model):
                found[model] = (Path(model) / "config.json").is_file()
    return found


def _hub_failure(model: str, revision: str, exc: Exception) -> HubError:
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        IncompleteSnapshotError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    what = f"model {model} (revision {revision})"
    detail = " ".join(str(exc).split())
    if isinstance(exc, GatedRepoError):
        return HubError(
            f"{what}: gated on the hub; accept its licence on the model's page and set "
            "HF_TOKEN to a token of that account"
        )
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(f"{what}: no such model on the hub (or private: set HF_TOKEN)")
    if isinstance(exc, RevisionNotFoundError):
        return HubError(f"{what}: the hub has no such revision")
    if isinstance(exc, IncompleteSnapshotError):
        return HubError(f"{what}: only partly in the local cache; download it again online")
    if isinstance(exc, LocalEntryNotFoundError):
        if constants.is_offline_mode():
            return HubError(
                f"{what}: not in the local Hugging Face cache, and HF_HUB_OFFLINE is set; "
                "run with HF_HUB_OFFLINE=0 to download it"
            )
        return HubError(f"{what}: the hub cannot be reached and the model is not in the cache")
    return HubError(f"{what}: download failed: {detail}")


def fetch(model: str, revision: str, cache_dir: Path | None) -> tuple[str, Path]:
    """The model at `revision` in the cache (downloaded if needed): its commit and folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    what = f"model {model} (revision {revision})"
    try:
        folder = Path(snapshot_download(model, revision=revision, cache_dir=cache_dir))
    except (HfHubHTTPError, LocalEntryNotFoundError) as exc:
        raise _hub_failure(model, revision, exc) from None
    except OSError as exc:  # disk full, permissions: the cache folder's own trouble
        raise HubError(f"{what}: cannot write the cache: {exc}") from None
    except Exception as exc:  # a transfer cut mid-file surfaces as the HTTP client's own error
        raise HubError(f"{what}: download failed ({type(exc).__name__}: {exc})") from None
    if not re.fullmatch(COMMIT, folder.name):
        raise HubError(f"model {model}: the hub returned {folder}, not a snapshot of a commit")
    return folder.name, folder


def fetch_models(
    config_path: Path,
    profile: str | None = None,
    cache_dir: Path | None = None,
    update: bool = False,
    announce: Callable[[str, str], None] | None = None,
) -> ModelsResult:
    """Download every hub model of the config and write its commit into the model lock."""
    # The config as written: the lock is what this updates, so it must not stand in the way.
    config = load_experiment(config_path, profile, use_lock=False).config
    wanted = hub_models(config)
    where = lock_path(config_path)
    lock = read_lock(where) or ModelLock(models={})
    entries = dict(lock.models)
    fetched: list[Fetched] = []
    for model, revision in sorted(wanted.items()):
        known = entries.get(model)
        reuse = not update and known is not None and revision in (known.revision, known.commit)
        asked = known.commit if reuse and known is not None else revision
        if announce is not None:
            announce(model, asked)
        commit, folder = fetch(model, asked, cache_dir)
        entries[model] = LockedModel(revision=revision, commit=commit)
        fetched.append(Fetched(model, revision, commit, folder, from_lock=reuse))
    local = _local_models(config)
    if not wanted and not local:
        raise ConfigError(f"{config_path}: names no model")
    if wanted:
        write_lock(where, ModelLock(models=entries))
    return ModelsResult(lock=where, fetched=fetched, local=local)
