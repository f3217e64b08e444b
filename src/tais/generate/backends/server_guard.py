"""Keeps a server's lifetime inside its arm's: `python -m tais.generate.backends.server_guard
CMD...`.

The guard runs in a session of its own and starts the server in another, so that killing the
run's process group (Ctrl-C, kill -9 of `tais run`) cannot take the guard down before it has
stopped the server. It stops the server's process group, and nothing else, when told to
(SIGTERM or SIGINT), when the process that started it dies, or when the server exits by
itself; its exit code is then the server's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from types import FrameType

POLL_S = 0.25
GRACE_S = 20.0


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = GRACE_S) -> None:
    """SIGTERM the server's group, then SIGKILL whatever of it is left after `grace_s`."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)
    # The server's own children (vLLM's engine core) may outlive it by a moment.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tais.generate.backends.server_guard CMD [ARG...]", file=sys.stderr)
        return 2
    parent = os.getppid()
    told: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        told.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    proc = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        while proc.poll() is None and not told and os.getppid() == parent:
            time.sleep(POLL_S)
    finally:
        stop_group(proc)
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
