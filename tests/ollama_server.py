"""A real Ollama server for the judge tests, and small local servers in front of it.

`ollama_server` (session fixture): when OLLAMA_HOST is set (CI starts a server in .ci/run), that
server is used; otherwise one is started with the shared start script
(../shared/tools/ollama-cpu/start PORT, a free port) and stopped by its PID at session end.
If no server can be had the tests FAIL, never skip: the judge must be tested for real.
`gemma_server` (session fixture) is the same with a real model, Gemma 3 270M, found through
TAIS_OLLAMA_GEMMA_HOST or started likewise.

`RecordingProxy` forwards to the real server and records every request (to check blinding and
count calls); it can also answer errors for a while or hold chat requests unanswered.
`silent_server` accepts connections and never answers (a server that hangs).

Import the fixtures into a test module with
`from tests.ollama_server import ollama_server_fixture, proxy_fixture, silent_server_fixture`;
they are used under the names `ollama_server`, `proxy` and `silent_server`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = Path(os.environ.get("TAIS_OLLAMA_CPU", ROOT.parent / "shared" / "tools" / "ollama-cpu"))
MODEL = "tiny-judge"
GEMMA = "gemma3:270m"
START_TIMEOUT_S = 900  # first use installs the server (~1-2 min); later starts take ~2 s


@dataclass
class OllamaServer:
    host: str
    pid: int | None  # set only when this session started the server (and so stops it)
    model: str = MODEL

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.host if "://" in self.host else f"http://{self.host}")
        return parts.hostname or "127.0.0.1", parts.port or 11434


def get_json(host: str, path: str, timeout: float = 5.0) -> Any:
    base = host if "://" in host else f"http://{host}"
    with urllib.request.urlopen(base.rstrip("/") + path, timeout=timeout) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(model: str = MODEL, host_env: str = "OLLAMA_HOST") -> OllamaServer:
    existing = os.environ.get(host_env)
    if existing:
        try:
            get_json(existing, "/api/version")
        except OSError as exc:
            pytest.fail(f"{host_env}={existing} is set but no Ollama server answers there: {exc}")
        return OllamaServer(host=existing, pid=None, model=model)
    script = TOOL / "start"
    if not script.is_file():
        pytest.fail(f"cannot start an Ollama server: {script} not found (set OLLAMA_HOST)")
    port = int(os.environ.get("TAIS_OLLAMA_TEST_PORT") or free_port())
    try:
        done = subprocess.run(
            [str(script), str(port), model],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script} {port} did not finish within {START_TIMEOUT_S} s")
    host = re.search(r"export OLLAMA_HOST=(\S+)", done.stdout)
    pid = re.search(r"export TAIS_OLLAMA_PID=(\d+)", done.stdout)
    if done.returncode != 0 or not host or not pid:
        pytest.fail(
            f"{script} {port} failed (exit {done.returncode}):\n"
            f"{done.stdout}\n{done.stderr[-2000:]}"
        )
    return OllamaServer(host=host.group(1), pid=int(pid.group(1)), model=model)


def stop_server(server: OllamaServer) -> None:
    if server.pid is not None:
        subprocess.run([str(TOOL / "stop"), str(server.pid)], check=False, timeout=60)


def serving(model: str, host_env: str) -> Iterator[OllamaServer]:
    server = start_server(model, host_env)
    try:
        tags = get_json(server.host, "/api/tags")
        names = [m.get("model") or m.get("name") for m in tags.get("models", [])]
        if f"{model}:latest" not in names and model not in names:
            pytest.fail(f"the Ollama server at {server.host} has no model {model!r}: {names}")
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session", name="ollama_server")
def ollama_server_fixture() -> Iterator[OllamaServer]:
    yield from serving(MODEL, "OLLAMA_HOST")


@pytest.fixture(scope="session", name="gemma_server")
def gemma_server_fixture() -> Iterator[OllamaServer]:
    """A second server with a real model, Gemma 3 270M (TAIS_OLLAMA_GEMMA_HOST if set)."""
    yield from serving(GEMMA, "TAIS_OLLAMA_GEMMA_HOST")


# -- local servers in front of (or instead of) the real one --------------------------------------


# Requests that generate: Ollama's own chat, and the OpenAI-compatible chat and completions.
CHAT_PATHS = ("/api/chat", "/v1/chat/completions", "/v1/completions")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class ProxyState:
    upstream: tuple[str, int]
    requests: list[Recorded] = field(default_factory=list)
    fail_chat: int = 0  # answer this many more chat requests with `fail_status`
    pass_chat: int | None = None  # if set: forward this many more chats, then fail every one
    fail_status: int = 503
    fail_body: bytes = b'{"error":"server busy"}'
    stall_chat: bool = False
    stall_from: int | None = None  # if set: hold the chat of this number (1-based) and later
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = Recorded(self.command, self.path, dict(self.headers.items()), body)
        is_chat = self.path.startswith(CHAT_PATHS)
        with state.lock:
            state.requests.append(record)
            failing = is_chat and state.fail_chat > 0
            if failing:
                state.fail_chat -= 1
            if is_chat and state.pass_chat is not None:
                failing = failing or state.pass_chat <= 0
                state.pass_chat -= 1
            stalling = is_chat and (
                state.stall_chat
                or (
                    state.stall_from is not None
                    and sum(r.path.startswith(CHAT_PATHS) for r in state.requests)
                    >= state.stall_from
                )
            )
            if is_chat:
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
        counted = is_chat
        try:
            if stalling:
                state.release.wait(120)
                return
            if failing:
                status, payload = state.fail_status, state.fail_body
            else:
                conn = http.client.HTTPConnection(*state.upstream, timeout=300)
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                upstream = conn.getresponse()
                status, payload = upstream.status, upstream.read()
                conn.close()
            record.status, record.response = status, payload
            # No longer in flight once answered: the client may send its next request as
            # soon as it reads this response.
            with state.lock:
                if counted:
                    state.in_flight -= 1
                    counted = False
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        finally:
            if counted:
                with state.lock:
                    state.in_flight -= 1

    do_GET = _handle
    do_POST = _handle
    do_HEAD = _handle
    do_DELETE = _handle


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ProxyState) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.state = state


class RecordingProxy:
    """A local HTTP server that forwards to the real Ollama server and records requests."""

    def __init__(self, upstream: OllamaServer) -> None:
        self.model = upstream.model
        self.state = ProxyState(upstream=upstream.address)
        self._server = _ProxyServer(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def chats(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(CHAT_PATHS)]

    def clear(self) -> None:
        with self.state.lock:
            self.state.requests.clear()

    def close(self) -> None:
        self.state.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(name="proxy")
def proxy_fixture(ollama_server: OllamaServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(ollama_server)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(name="silent_server")
def silent_server_fixture() -> Iterator[str]:
    """A host whose port accepts TCP connections (kernel backlog) but never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def closed_port_host() -> str:
    """A host nothing listens on (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"
