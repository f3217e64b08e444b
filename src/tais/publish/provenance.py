"""Which code produced a published run: the git commit of the project root, and refusal to
publish from uncommitted changes unless forced (and then the run says so)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tais.errors import DirtyTreeError

# What a run writes itself: their changes do not make the code that produced it uncommitted.
OUTPUTS = ("validation", "manifest.yaml")
# The GPU image holds no git metadata; its build records the commit it was built from here
# (`make image` builds only from a clean tree).
IMAGE_COMMIT = "TAIS_GIT_COMMIT"


@dataclass(frozen=True)
class SourceState:
    commit: str | None  # None: the root is not inside a git checkout
    changed: tuple[str, ...]  # paths with uncommitted changes, outputs excepted

    @property
    def dirty(self) -> bool:
        return bool(self.changed)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def source_state(root: Path) -> SourceState:
    try:
        commit = _git(root, "rev-parse", "HEAD").strip()
        top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    except (OSError, subprocess.CalledProcessError):
        return SourceState(commit=os.environ.get(IMAGE_COMMIT) or None, changed=())
    # Outputs are named relative to the root; pathspecs relative to the checkout's top.
    prefix = root.resolve().relative_to(top.resolve()).as_posix()
    excluded = [f":(exclude){'' if prefix == '.' else prefix + '/'}{name}" for name in OUTPUTS]
    status = _git(top, "status", "--porcelain", "--", ".", *excluded)
    changed = tuple(line[3:] for line in status.splitlines() if line.strip())
    return SourceState(commit=commit, changed=changed)


def require_clean(state: SourceState, allow_dirty: bool) -> None:
    """A published run must name the commit that produced it; uncommitted code breaks that."""
    if state.dirty and not allow_dirty:
        shown = ", ".join(state.changed[:5]) + (" ..." if len(state.changed) > 5 else "")
        raise DirtyTreeError(
            f"uncommitted changes outside validation/ ({shown}): commit them first, so the "
            "published run names the code that produced it, or pass --allow-dirty (recorded "
            "in volatile/environment.json)"
        )
