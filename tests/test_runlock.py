"""One run per experiment: a second process stops at once, naming the holder's PID."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tais.cli import main
from tais.config.places import RunPlaces
from tais.errors import RunLockedError
from tais.generate.runlock import run_lock

from .conftest import DEMO_CONFIG, ROOT

HOLD = """
import sys
from pathlib import Path
from tais.config.places import RunPlaces
from tais.generate.runlock import run_lock
with run_lock(RunPlaces(Path(sys.argv[1]))):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], RunPlaces]]:
    """Another process holding the lock of runs/demo until its stdin closes."""
    places = RunPlaces.for_experiment(tmp_path / "runs", "demo")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(places.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc, places
    finally:
        proc.kill()
        proc.wait()


def test_second_holder_fails_at_once_naming_the_pid(
    holder: tuple[subprocess.Popen[str], RunPlaces],
) -> None:
    proc, places = holder
    start = time.monotonic()
    held = rf"in use by another `tais run` \(PID {proc.pid}\)"
    with pytest.raises(RunLockedError, match=held), run_lock(places):
        pass
    assert time.monotonic() - start < 1.0
    assert proc.stdin is not None
    proc.stdin.close()  # the holder finishes and releases
    assert proc.wait(timeout=30) == 0
    assert not places.lock_holder.exists()
    with run_lock(places):
        assert places.lock_holder.read_text() == f"{os.getpid()}\n"


def test_killed_holder_leaves_no_stale_lock(
    holder: tuple[subprocess.Popen[str], RunPlaces],
) -> None:
    proc, places = holder
    proc.kill()
    proc.wait()
    assert places.lock_holder.read_text() == f"{proc.pid}\n"  # a dead holder's note stays...
    with run_lock(places):  # ...but the kernel released its lock
        assert places.lock_holder.read_text() == f"{os.getpid()}\n"


def test_second_tais_run_stops_with_one_message(
    holder: tuple[subprocess.Popen[str], RunPlaces], tmp_path: Path
) -> None:
    proc, places = holder
    result = CliRunner().invoke(
        main,
        ["run", str(DEMO_CONFIG), "--runs-dir", str(tmp_path / "runs"), "--root", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"PID {proc.pid}" in result.output and str(places.root) in result.output
    assert not (tmp_path / "validation").exists()
    assert sorted(p.name for p in places.root.iterdir()) == ["run.lock", "run.lock.pid"]
