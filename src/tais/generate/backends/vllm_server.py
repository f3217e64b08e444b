"""vLLM's OpenAI-compatible server, started for one arm on a free local port and stopped after.

The module form (`python -m vllm.entrypoints.openai.api_server`) is used because the `vllm
serve` command fails on the CPU build. The server runs under tais.generate.backends.server_guard,
which
stops the server's process group however the arm ends, even if this process is killed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tais.config.config import Arm, Engine, Serve, arm_tensor_parallel
from tais.errors import EngineError

HOST = "127.0.0.1"
POLL_S = 1.0
TAIL_LINES = 20
STOP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def speculative_json(arm: Arm) -> str | None:
    if arm.speculative is None:
        return None
    return json.dumps(arm.speculative.model_dump(exclude_none=True), sort_keys=True)


def server_command(arm: Arm, engine: Engine, serve: Serve, port: int) -> list[str]:
    """The arm's settings as server flags, matching what the offline backend gives `vllm.LLM`.

    `--generation-config vllm`: the server would otherwise take default sampling settings
    (e.g. a repetition penalty) from the model's generation_config.json, which the offline
    backend's explicit SamplingParams never do.
    """
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        arm.target,
        "--tokenizer",
        arm.target,
        "--dtype",
        arm.dtype or engine.dtype,
        "--seed",
        str(arm.seed if arm.seed is not None else engine.seed),
        "--max-model-len",
        str(engine.max_model_len),
        "--generation-config",
        "vllm",
        "--host",
        HOST,
        "--port",
        str(port),
        "--disable-uvicorn-access-log",
    ]
    if engine.enforce_eager:
        command.append("--enforce-eager")
    if (size := arm_tensor_parallel(arm, engine)) != 1:
        command += ["--tensor-parallel-size", str(size)]
    spec = speculative_json(arm)
    if spec is not None:
        # Each answer then carries its own counters (metrics.speculative_decoding).
        command += ["--speculative-config", spec, "--per-request-spec-decode-metrics", "summary"]
    return command + list(serve.extra_args)


def log_tail(log: Path, lines: int = TAIL_LINES) -> str:
    if not log.exists():
        return "(no log written)"
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(log is empty)"


class ServerProcess:
    """One vLLM server: started, checked for health, and stopped with its process group."""

    def __init__(self, arm: Arm, engine: Engine, serve: Serve, log: Path) -> None:
        self.arm, self.engine, self.serve, self.log = arm, engine, serve, log
        self.port = 0
        self._guard: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        command = server_command(self.arm, self.engine, self.serve, self.port)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(f"\n=== tais: {' '.join(command)}\n")
            fh.flush()
            self._guard = subprocess.Popen(
                [sys.executable, "-m", "tais.generate.backends.server_guard", *command],
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.serve.startup_timeout_s
        with httpx.Client(timeout=5.0) as client:
            while True:
                self.require_alive()
                try:
                    if client.get(f"{self.origin}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"arm {self.arm.name}: the vLLM server did not become healthy within "
                        f"{self.serve.startup_timeout_s:.0f} s (serve.startup_timeout_s); "
                        f"last lines of {self.log}:\n{log_tail(self.log)}"
                    )
                time.sleep(POLL_S)

    def exit_code(self) -> int | None:
        return None if self._guard is None else self._guard.poll()

    def require_alive(self) -> None:
        code = self.exit_code()
        if code is not None:
            raise EngineError(
                f"arm {self.arm.name}: the vLLM server exited (code {code}); "
                f"last lines of {self.log}:\n{log_tail(self.log)}"
            )

    def stop(self) -> None:
        guard, self._guard = self._guard, None
        if guard is None or guard.poll() is not None:
            return
        guard.send_signal(signal.SIGTERM)
        try:
            guard.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            # The guard's own session: nothing outside what this process started.
            os.killpg(guard.pid, signal.SIGKILL)
            guard.wait()
