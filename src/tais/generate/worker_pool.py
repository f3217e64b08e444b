"""The engine processes of one generate call (`python -m tais.generate.worker`), one at a time.

An arm is handed to the running worker process when it said it can take another, else to a
fresh one. On CPU the engine runs inside the worker and is freed after each arm, so torch and
vLLM are imported once per run instead of three times per arm (the worker, vLLM's engine core
and its model worker each imported them).

The protocol: the job file's path goes to the worker's stdin, one line per arm; the worker
answers one line on its stdout, `next` (ready for another arm) or `done` (it exits now). A
failure is a process that ends without answering: the arm's log then says why (a line that
starts with ERROR_PREFIX, else the log's tail).
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tais.errors import EngineError

ERROR_PREFIX = "TAIS-ERROR: "
NEXT, DONE = "next", "done"
POLL_S = 0.5


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    env.setdefault("VLLM_CACHE_ROOT", str(Path(".cache/vllm").resolve()))
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def error_from_log(log: Path, arm: str, returncode: int) -> EngineError:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    for line in reversed(lines):
        if line.startswith(ERROR_PREFIX):
            return EngineError(line[len(ERROR_PREFIX) :])
    tail = "\n".join(lines[-15:])
    return EngineError(f"arm {arm}: engine process exited with {returncode}; log {log}:\n{tail}")


class WorkerPool:
    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def run(
        self,
        job: Path,
        log: Path,
        arm: str,
        poll: Callable[[], None],
        env: dict[str, str] | None = None,
    ) -> None:
        """Run one arm's job; `poll` is called while it runs. Raises EngineError if it fails.

        `env`: variables the engine reads once per process (tais.generate.batch_invariance);
        the job then gets a process of its own, started with them.
        """
        if env:
            self.close()
        proc = self._proc or self._start(log, env or {})
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(f"{job}\n")
            proc.stdin.flush()
            answer = _await_line(proc, poll)
        except BrokenPipeError:
            answer = ""
        except BaseException:
            self.close(kill=True)
            raise
        if answer == NEXT:
            return
        self._proc = None
        returncode = proc.wait()
        if answer != DONE:
            raise error_from_log(log, arm, returncode)

    def close(self, kill: bool = False) -> None:
        """End the idle worker (its stdin closes, so it exits), or kill a busy one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if kill:
            proc.kill()
        elif proc.stdin is not None:
            proc.stdin.close()
        proc.wait()

    @staticmethod
    def _start(log: Path, env: dict[str, str]) -> subprocess.Popen[str]:
        # Output before the first arm's redirect (imports) lands in that arm's log.
        with log.open("a", encoding="utf-8") as log_fh:
            return subprocess.Popen(
                [sys.executable, "-m", "tais.generate.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_fh,
                env={**worker_env(), **env},
                text=True,
            )


def _await_line(proc: subprocess.Popen[str], poll: Callable[[], None]) -> str:
    """The worker's answer; "" if it ended without one."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while not selector.select(POLL_S):
            poll()
    return proc.stdout.readline().strip()
