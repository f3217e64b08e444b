"""The guard that keeps a started server's lifetime inside its arm's, with real processes.

The "server" is a Python process that starts a child of its own (as vLLM's server starts its
engine core) and records both ids; the guard must stop both, and nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SERVER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(sys.argv[1], "w") as fh:
    fh.write(f"{child.pid} {__import__('os').getpid()}")
time.sleep(float(sys.argv[2]))
sys.exit(int(sys.argv[3]))
"""

# Starts the guard as the worker does, then waits to be killed.
PARENT = """
import subprocess, sys, time
guard = subprocess.Popen(
    [sys.executable, "-m", "tais.generate.backends.server_guard", *sys.argv[1:]],
    start_new_session=True,
)
print(guard.pid, flush=True)
time.sleep(300)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def server_args(tmp_path: Path, runs_s: float = 300, code: int = 0) -> tuple[list[str], Path]:
    ids = tmp_path / "ids"
    return [sys.executable, "-c", SERVER, str(ids), str(runs_s), str(code)], ids


def read_ids(ids: Path) -> list[int]:
    assert wait_for(lambda: ids.exists() and ids.read_text().strip()), "server never started"
    return [int(x) for x in ids.read_text().split()]


def test_guard_stops_the_server_group_when_its_starter_is_killed(tmp_path: Path) -> None:
    command, ids = server_args(tmp_path)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *command], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    guard = int(parent.stdout.readline())
    pids = read_ids(ids)
    assert all(alive(p) for p in [guard, *pids])
    parent.send_signal(signal.SIGKILL)  # as `kill -9` of the run would
    parent.wait()
    assert wait_for(lambda: not any(alive(p) for p in [guard, *pids])), "left running"


def test_guard_stops_the_group_when_told_and_passes_on_an_exit_code(tmp_path: Path) -> None:
    command, ids = server_args(tmp_path)
    guard = subprocess.Popen(
        [sys.executable, "-m", "tais.generate.backends.server_guard", *command]
    )
    pids = read_ids(ids)
    guard.send_signal(signal.SIGTERM)
    guard.wait(timeout=30)
    assert not any(alive(p) for p in pids)

    (tmp_path / "again").mkdir()
    command, ids = server_args(tmp_path / "again", runs_s=0.5, code=3)
    guard = subprocess.Popen(
        [sys.executable, "-m", "tais.generate.backends.server_guard", *command]
    )
    assert guard.wait(timeout=30) == 3
    # The server's own child went with it.
    assert not alive(read_ids(ids)[0])
