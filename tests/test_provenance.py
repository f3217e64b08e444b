"""A published run names the commit that produced it; uncommitted code is refused unless forced."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tais.errors import DirtyTreeError
from tais.publish.provenance import require_clean, source_state


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.invalid")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "code.py").write_text("x = 1\n")
    (tmp_path / "validation" / "demo").mkdir(parents=True)
    (tmp_path / "validation" / "demo" / "summary.json").write_text("{}\n")
    (tmp_path / "manifest.yaml").write_text("files: []\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def test_clean_checkout_names_its_commit(repo: Path) -> None:
    state = source_state(repo)
    assert state.commit == git(repo, "rev-parse", "HEAD").strip()
    assert not state.dirty
    require_clean(state, allow_dirty=False)


def test_changed_outputs_do_not_make_the_code_dirty(repo: Path) -> None:
    (repo / "validation" / "demo" / "summary.json").write_text('{"changed": 1}\n')
    (repo / "validation" / "other").mkdir()
    (repo / "validation" / "other" / "report.md").write_text("new\n")
    (repo / "manifest.yaml").write_text("files: [changed]\n")
    assert not source_state(repo).dirty


@pytest.mark.parametrize("change", ["modify", "untracked"])
def test_uncommitted_code_is_refused_unless_forced(repo: Path, change: str) -> None:
    if change == "modify":
        (repo / "src" / "code.py").write_text("x = 2\n")
    else:
        (repo / "src" / "new.py").write_text("y = 1\n")
    state = source_state(repo)
    assert state.dirty
    assert any(path.startswith("src/") for path in state.changed)
    with pytest.raises(DirtyTreeError, match="--allow-dirty"):
        require_clean(state, allow_dirty=False)
    require_clean(state, allow_dirty=True)


def test_root_in_a_subfolder_of_the_checkout(repo: Path) -> None:
    sub = repo / "project"
    (sub / "validation").mkdir(parents=True)
    (sub / "validation" / "x.json").write_text("{}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "sub")
    (sub / "validation" / "x.json").write_text('{"a": 1}\n')
    assert not source_state(sub).dirty
    (repo / "src" / "code.py").write_text("x = 3\n")
    assert source_state(sub).dirty


def test_outside_a_checkout_nothing_is_refused(tmp_path: Path) -> None:
    state = source_state(tmp_path)
    assert state.commit is None and not state.dirty


def test_outside_a_checkout_the_image_names_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The image carries no .git; `make image` passes the commit it was built from.
    monkeypatch.setenv("TAIS_GIT_COMMIT", "0123abcd" * 5)
    state = source_state(tmp_path)
    assert state.commit == "0123abcd" * 5 and not state.dirty


def test_a_checkout_names_its_own_commit_even_in_the_image(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAIS_GIT_COMMIT", "f" * 40)
    assert source_state(repo).commit == git(repo, "rev-parse", "HEAD").strip()
