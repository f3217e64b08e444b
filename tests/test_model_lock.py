"""`tais models` and the model lock, against a Hugging Face cache laid out in a tmp dir.

huggingface_hub resolves from that cache for real (HF_HUB_OFFLINE=1, set by conftest before
the library is imported, which reads it once): refs/<branch> names a commit, snapshots/<commit>/
links into blobs/. Nothing of the library is replaced.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from huggingface_hub import constants

from tais.cli import main
from tais.config.config import Arm
from tais.config.model_lock import LOCK_NAME, UsedModel, read_lock
from tais.config.profiles import load_experiment
from tais.errors import ConfigError, HubError
from tais.models.hub import fetch_models
from tais.publish.provenance import SourceState
from tais.publish.publish import environment

from .conftest import DEMO_CONFIG

TARGET = "acme/target-3b"
DRAFT = "acme/draft-1b"
SHA_A = "a" * 40
SHA_B = "b" * 40
SHA_D = "d" * 40


@pytest.fixture(autouse=True)
def _offline() -> None:
    # Without it the library would try the network before the cache.
    assert constants.is_offline_mode(), "run the tests with HF_HUB_OFFLINE=1"


def put_snapshot(cache: Path, model: str, commit: str, files: dict[str, str]) -> Path:
    """A snapshot as the hub library stores it: file links into content-addressed blobs."""
    repo = cache / ("models--" + model.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    for name, text in files.items():
        blob = repo / "blobs" / hashlib.sha256(text.encode()).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_text(text)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../..") / "blobs" / blob.name)
    return snapshot


def point(cache: Path, model: str, branch: str, commit: str) -> None:
    ref = cache / ("models--" + model.replace("/", "--")) / "refs" / branch
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text(commit)  # the library reads the ref as is: no newline


def hub_config(
    folder: Path, draft_revision: str | None = SHA_D, target_revision: str = "main"
) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text())
    data["arms"] = [
        {"name": "target_only", "pair": "p", "target": TARGET, "revision": target_revision},
        {
            "name": "draft_k3",
            "pair": "p",
            "target": TARGET,
            "revision": target_revision,
            "speculative": {
                "method": "draft_model",
                "model": DRAFT,
                "num_speculative_tokens": 3,
                **({"revision": draft_revision} if draft_revision else {}),
            },
        },
        {"name": "local", "pair": "p", "target": "bundle/models/tiny-target"},
    ]
    data["contrasts"] = [{"a": "target_only", "b": "draft_k3"}]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    cache = tmp_path / "hub"
    put_snapshot(cache, TARGET, SHA_A, {"config.json": '{"v": "a"}', "model.safetensors": "A"})
    point(cache, TARGET, "main", SHA_A)
    put_snapshot(cache, DRAFT, SHA_D, {"config.json": '{"v": "d"}'})
    return cache


def arm(config_path: Path, name: str, use_lock: bool = True) -> Arm:
    config = load_experiment(config_path, use_lock=use_lock).config
    return next(a for a in config.arms if a.name == name)


def test_models_locks_the_commit_each_revision_resolves_to(tmp_path: Path, cache: Path) -> None:
    config = hub_config(tmp_path / "configs")
    seen: list[tuple[str, str]] = []
    result = fetch_models(config, cache_dir=cache, announce=lambda m, r: seen.append((m, r)))
    assert seen == [(DRAFT, SHA_D), (TARGET, "main")]
    lock = read_lock(config.parent / LOCK_NAME)
    assert lock is not None
    assert {m: (e.revision, e.commit) for m, e in lock.models.items()} == {
        TARGET: ("main", SHA_A),
        DRAFT: (SHA_D, SHA_D),
    }
    target = next(f for f in result.fetched if f.model == TARGET)
    assert (target.folder / "model.safetensors").read_text() == "A"
    assert not target.from_lock
    # A local folder is hashed by the run, not locked.
    assert result.local == {"bundle/models/tiny-target": True}
    assert "bundle/models" not in (config.parent / LOCK_NAME).read_text()


def test_a_run_loads_the_locked_commits_and_records_them(tmp_path: Path, cache: Path) -> None:
    config = hub_config(tmp_path / "configs")
    assert arm(config, "target_only").revision == "main"
    fetch_models(config, cache_dir=cache)
    loaded = load_experiment(config)
    arms = {a.name: a for a in loaded.config.arms}
    assert arms["target_only"].revision == SHA_A
    assert arms["draft_k3"].revision == SHA_A
    assert arms["draft_k3"].speculative is not None
    assert arms["draft_k3"].speculative.revision == SHA_D
    assert arms["local"].revision is None
    # The published config.yaml names the commits the run used.
    assert f"revision: {SHA_A}" in loaded.text
    lock_file = (config.parent / LOCK_NAME).as_posix()
    assert loaded.hub_models[TARGET] == UsedModel(revision="main", commit=SHA_A, lock=lock_file)
    env = environment(loaded.config, [], {}, [], SourceState(None, ()), loaded.hub_models)
    assert env["hub_models"][TARGET] == {"revision": "main", "commit": SHA_A, "lock": lock_file}
    assert json.dumps(env)


def test_without_a_lock_revisions_go_as_written(tmp_path: Path) -> None:
    loaded = load_experiment(hub_config(tmp_path / "configs"))
    assert arm(hub_config(tmp_path / "configs"), "target_only").revision == "main"
    assert loaded.hub_models[TARGET] == UsedModel(revision="main", commit=None, lock=None)


def test_a_rerun_keeps_the_locked_commit_until_update(tmp_path: Path, cache: Path) -> None:
    config = hub_config(tmp_path / "configs")
    fetch_models(config, cache_dir=cache)
    # main moves on: the lock still holds the commit the first download resolved.
    put_snapshot(cache, TARGET, SHA_B, {"config.json": '{"v": "b"}'})
    point(cache, TARGET, "main", SHA_B)
    again = fetch_models(config, cache_dir=cache)
    target = next(f for f in again.fetched if f.model == TARGET)
    assert (target.commit, target.from_lock) == (SHA_A, True)
    assert arm(config, "target_only").revision == SHA_A
    updated = fetch_models(config, cache_dir=cache, update=True)
    assert next(f.commit for f in updated.fetched if f.model == TARGET) == SHA_B
    assert arm(config, "target_only").revision == SHA_B


def test_other_entries_of_a_shared_lock_are_kept(tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "configs"
    fetch_models(hub_config(folder), cache_dir=cache)
    # A second config of the same folder names only the target.
    data = yaml.safe_load((folder / "exp.yaml").read_text())
    data["arms"] = data["arms"][:1]
    data["contrasts"] = []
    other = folder / "other.yaml"
    other.write_text(yaml.safe_dump(data))
    fetch_models(other, cache_dir=cache)
    lock = read_lock(folder / LOCK_NAME)
    assert lock is not None
    assert set(lock.models) == {TARGET, DRAFT}


def test_a_lock_that_disagrees_with_the_config_fails_naming_the_model(
    tmp_path: Path, cache: Path
) -> None:
    folder = tmp_path / "configs"
    fetch_models(hub_config(folder), cache_dir=cache)
    changed = hub_config(folder, target_revision="v2.0")
    with pytest.raises(ConfigError, match=rf"model {TARGET}: the config asks for revision 'v2.0'"):
        load_experiment(changed)
    # The config pinning the locked commit itself agrees with the lock.
    assert arm(hub_config(folder, target_revision=SHA_A), "target_only").revision == SHA_A
    # `tais models` reads the config as written, so it can lock the new revision.
    point(cache, TARGET, "v2.0", SHA_A)
    fetch_models(hub_config(folder, target_revision="v2.0"), cache_dir=cache)
    assert arm(folder / "exp.yaml", "target_only").revision == SHA_A


def test_a_model_the_lock_lacks_fails_naming_it(tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "configs"
    (folder).mkdir()
    (folder / LOCK_NAME).write_text(
        yaml.safe_dump({"models": {TARGET: {"revision": "main", "commit": SHA_A}}})
    )
    with pytest.raises(ConfigError, match=rf"model {DRAFT}: not in the model lock"):
        load_experiment(hub_config(folder))


def test_a_damaged_lock_fails_naming_the_key(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / LOCK_NAME).write_text(
        yaml.safe_dump({"models": {TARGET: {"revision": "main", "commit": "abc", "x": 1}}})
    )
    with pytest.raises(ConfigError, match=LOCK_NAME):
        load_experiment(hub_config(folder))


def test_a_model_missing_from_the_cache_offline_is_one_clear_error(
    tmp_path: Path, cache: Path
) -> None:
    config = hub_config(tmp_path / "configs", draft_revision=None)  # draft: main, never cached
    with pytest.raises(HubError, match=rf"model {DRAFT} \(revision main\): .*HF_HUB_OFFLINE"):
        fetch_models(config, cache_dir=cache)
    assert not (config.parent / LOCK_NAME).exists()


def test_cli_models_prints_the_lock_and_fails_in_one_line(tmp_path: Path, cache: Path) -> None:
    config = hub_config(tmp_path / "configs")
    runner = CliRunner()
    ok = runner.invoke(main, ["models", str(config), "--cache-dir", str(cache)])
    assert ok.exit_code == 0, ok.output
    assert SHA_A in ok.output and "not locked" in ok.output
    missing = hub_config(tmp_path / "other", draft_revision=None)
    failed = runner.invoke(main, ["models", str(missing), "--cache-dir", str(cache)])
    assert failed.exit_code == 1
    assert isinstance(failed.exception, SystemExit)
    error = [line for line in failed.output.splitlines() if line.startswith("error:")]
    assert error == [
        f"error: model {DRAFT} (revision main): not in the local Hugging Face cache, and "
        "HF_HUB_OFFLINE is set; run with HF_HUB_OFFLINE=0 to download it"
    ]
    assert "Traceback" not in failed.output
