"""A real Ray cluster on this machine for the executor tests: `ray start --head --block`.

It runs in its own session, so that stopping it ends its processes (GCS, raylet, the workers
it starts and their engines) by that session's process group, and no other Ray on the machine.
It listens on the loopback address only, so it goes without Ray's token authentication (which
would tie the tests to whatever token the machine's user has in ~/.ray).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTED = "Ray runtime started"
START_TIMEOUT_S = 180
AUTH_MODE = "RAY_AUTH_MODE"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(name="ray_address", scope="session")
def ray_address_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Read by the head, this process's driver and the drivers it starts alike.
    saved = os.environ.get(AUTH_MODE)
    os.environ[AUTH_MODE] = "disabled"
    port = _free_port()
    log = tmp_path_factory.mktemp("ray") / "head.log"
    ray = Path(sys.executable).parent / "ray"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [
                str(ray),
                "start",
                "--head",
                "--block",
                "--node-ip-address=127.0.0.1",
                f"--port={port}",
                "--num-cpus=2",
                "--num-gpus=0",
                "--include-dashboard=false",
                "--disable-usage-stats",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while STARTED not in log.read_text(encoding="utf-8", errors="replace"):
            assert proc.poll() is None, f"ray start exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no Ray head within {START_TIMEOUT_S} s"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        _stop(proc)
        if saved is None:
            os.environ.pop(AUTH_MODE, None)
        else:
            os.environ[AUTH_MODE] = saved


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # SIGKILL to the whole session: SIGTERM would have the head drain for 30 s first.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
