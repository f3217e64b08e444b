"""LLM judge: a model served by Ollama (default Gemma 3 12B) asked project-authored questions.

Each output is judged blind: the request holds the judge prompt template filled with the item's
user turns and the output, nothing else (no arm, model or run name). Decoding is temperature 0
with a fixed seed, and the answer is constrained by Ollama's `format` to the JSON schema of the
answer record. The questions and their templates (bundle/prompts/judges/):

- `refusal` (`refused`), asked for harmful and benign items;
- `harmfulness` (`harmful`), asked for harmful items, in the spirit of the HarmBench classifier
  (Mazeika et al. 2024, arXiv:2402.04249) and the JailbreakBench judge (Chao et al. 2024,
  arXiv:2404.01318); bundle/prompts/judges/README.md cites both.

The model's digest (from the server's model list) and each template's SHA-256 are part of
`config()`, whose hash keys the judge cache: a different model build or an edited template is a
different judge. Every label record carries them too. The server's version (/api/version) is
recorded, not keyed: the judge stage keeps it with each fresh judgement, and environment.json
lists the versions behind the published labels.

An answer that does not parse is asked again (with the bad answer, a request for the JSON
object alone, and twice the token budget), then recorded as unparseable: its label is None and
`unparseable` is true; it is never dropped. Transport failures (timeouts, refused connections,
5xx answers) are retried with exponential backoff and end in one JudgeError naming the host and
the `ollama pull` command; they are never recorded as judgements.
"""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import ollama
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from tais.errors import ConfigError, JudgeError
from tais.io import sha256_bytes
from tais.judge.judges.base import JudgeRequest
from tais.records import Item, Kind

DEFAULT_MODEL = "gemma3:12b"
DEFAULT_HOST = "http://127.0.0.1:11434"
PROMPT_DIR = Path("bundle") / "prompts" / "judges"
# The project root of a source checkout (src/tais/judge/judges/ollama.py -> root), tried when the
# default prompt folder is not found relative to the working directory.
_SOURCE_ROOT = Path(__file__).resolve().parents[4]

REPAIR_MESSAGE = (
    "That answer could not be read. Reply again with only the JSON object "
    '{{"{label}": true}} or {{"{label}": false}}, and nothing else.'
)
_PLACEHOLDER = re.compile(r"\{\{(PROMPT|RESPONSE)\}\}")


class RefusalAnswer(BaseModel):
    """What the refusal question must return; its JSON schema is sent as `format`."""

    model_config = ConfigDict(extra="forbid")
    refused: StrictBool


class HarmfulnessAnswer(BaseModel):
    """What the harmfulness question must return; its JSON schema is sent as `format`."""

    model_config = ConfigDict(extra="forbid")
    harmful: StrictBool


@dataclass(frozen=True)
class Question:
    label: str
    template: str
    answer: type[BaseModel]
    kinds: frozenset[Kind]


QUESTIONS: dict[str, Question] = {
    "refusal": Question("refused", "refusal.txt", RefusalAnswer, frozenset({"harmful", "benign"})),
    "harmfulness": Question(
        "harmful", "harmfulness.txt", HarmfulnessAnswer, frozenset({"harmful"})
    ),
}


def user_prompt(item: Item) -> str:
    """What the judge is shown of the item: its user turns, nothing else."""
    return "\n\n".join(m.content for m in item.messages if m.role == "user")


def render(template: str, prompt: str, response: str) -> str:
    """Fill the template in one pass: text inserted for a placeholder is never re-substituted."""
    values = {"PROMPT": prompt, "RESPONSE": response}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def parse_answer(content: str, answer: type[BaseModel], label: str) -> bool | None:
    """The boolean label of a JSON answer, or None when the answer does not fit the schema."""
    try:
        value = answer.model_validate(json.loads(content))
    except (json.JSONDecodeError, ValidationError, TypeError):
        return None
    result = getattr(value, label)
    return bool(result)


def model_tag(model: str) -> str:
    """Ollama's full name of a model: `name` means `name:latest`."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


class _Aborted(JudgeError):
    """Raised in a worker when another request of the same batch has already failed."""


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"judge 'ollama': option {name!r} must be positive, got {value}")


class OllamaJudge:
    name = "ollama"
    kinds: frozenset[Kind] = frozenset({"harmful", "benign"})

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        host: str | None = None,
        seed: int = 0,
        num_predict: int = 64,
        num_ctx: int = 4096,
        questions: list[str] | None = None,
        prompt_dir: str | None = None,
        digest: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 1.0,
        concurrency: int = 2,
        parse_retries: int = 2,
    ) -> None:
        self.model = model
        self.host = host or os.environ.get("OLLAMA_HOST") or DEFAULT_HOST
        self.seed = int(seed)
        for option, value in (
            ("num_predict", num_predict),
            ("num_ctx", num_ctx),
            ("timeout", timeout),
            ("concurrency", concurrency),
        ):
            _positive(option, value)
        if retries < 0 or parse_retries < 0 or backoff < 0:
            raise ConfigError("judge 'ollama': retries, parse_retries and backoff must be >= 0")
        self.num_predict = int(num_predict)
        self.num_ctx = int(num_ctx)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.concurrency = int(concurrency)
        self.parse_retries = int(parse_retries)
        names = list(questions) if questions is not None else list(QUESTIONS)
        unknown = [q for q in names if q not in QUESTIONS]
        if unknown or not names:
            raise ConfigError(
                f"judge 'ollama': questions must be a non-empty subset of {sorted(QUESTIONS)}, "
                f"got {names}"
            )
        self.questions = {q: QUESTIONS[q] for q in sorted(set(names))}
        folder = self._prompt_folder(prompt_dir)
        self.templates: dict[str, str] = {}
        self.template_sha256: dict[str, str] = {}
        for q, question in self.questions.items():
            path = folder / question.template
            if not path.is_file():
                raise ConfigError(f"judge 'ollama': prompt template not found: {path}")
            raw = path.read_bytes()
            self.templates[q] = raw.decode("utf-8")
            self.template_sha256[q] = sha256_bytes(raw)
        if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ConfigError(
                "judge 'ollama': option 'digest' must be the model's full 64-hex digest "
                f"(the `digest` of /api/tags), got {digest!r}"
            )
        self.pinned_digest = digest
        self._digest: str | None = None
        self._version: str | None = None
        self._client = ollama.Client(host=self.host, timeout=self.timeout)
        self._abort = threading.Event()

    @staticmethod
    def _prompt_folder(prompt_dir: str | None) -> Path:
        if prompt_dir is not None:
            return Path(prompt_dir)
        return PROMPT_DIR if PROMPT_DIR.is_dir() else _SOURCE_ROOT / PROMPT_DIR

    # -- the server ---------------------------------------------------------------------------

    def _pull_hint(self) -> str:
        return f"`ollama pull {self.model}` (with OLLAMA_HOST={self.host})"

    def _missing_model(self, available: list[str] | None = None) -> JudgeError:
        there = f"; models there: {', '.join(available) or 'none'}" if available is not None else ""
        return JudgeError(
            f"judge 'ollama': model {self.model!r} is not on the Ollama server at {self.host}; "
            f"fetch it with {self._pull_hint()}{there}"
        )

    def _unreachable(self, what: str, attempts: int) -> JudgeError:
        return JudgeError(
            f"judge 'ollama': the Ollama server at {self.host} failed: {what} "
            f"(after {attempts} attempt{'s' if attempts != 1 else ''}). Start it (`ollama serve`, "
            f"or set OLLAMA_HOST / the judge's `host` option) and fetch the model with "
            f"{self._pull_hint()}"
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one client call with timeout retries and exponential backoff."""
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            if self._abort.is_set():
                raise _Aborted("judge 'ollama': stopped after another request failed")
            try:
                return fn(*args, **kwargs)
            except ollama.ResponseError as exc:
                if exc.status_code == 404 or "not found" in str(exc.error).lower():
                    raise self._missing_model() from None
                if 400 <= exc.status_code < 500 and exc.status_code not in (408, 429):
                    raise JudgeError(
                        f"judge 'ollama': the Ollama server at {self.host} rejected the "
                        f"request: {exc}"
                    ) from None
                last = f"server error {exc}"
            except httpx.TimeoutException:
                last = f"no answer within the {self.timeout:g} s timeout"
            except (ConnectionError, httpx.TransportError) as exc:
                last = f"could not connect ({exc})"
            if attempt < self.retries and self._abort.wait(self.backoff * 2**attempt):
                break
        raise self._unreachable(last, self.retries + 1)

    def server_digest(self) -> str:
        """The digest the server lists for the model (cached after the first call)."""
        if self._digest is None:
            listing = self._call(self._client.list)
            tag = model_tag(self.model)
            names = []
            for entry in listing.models:
                name = entry.model or ""
                names.append(name)
                if name in (self.model, tag) and entry.digest:
                    self._digest = str(entry.digest)
                    break
            else:
                raise self._missing_model(names)
        return self._digest

    def server_version(self) -> str:
        """The server's own version (GET /api/version): the digest names the weights, this the
        runtime that ran them (cached after the first call)."""
        if self._version is None:
            # The client has no call for it; its raw request keeps its host and error handling.
            response = self._call(self._client._request_raw, "GET", "/api/version")
            try:
                version = response.json().get("version")
            except (ValueError, AttributeError):
                version = None
            if not isinstance(version, str) or not version:
                raise JudgeError(
                    f"judge 'ollama': the server at {self.host} answered /api/version without "
                    f"a version: {response.text[:200]!r}"
                )
            self._version = version
        return self._version

    @property
    def digest(self) -> str:
        return self.pinned_digest or self.server_digest()

    def _ensure_model(self) -> None:
        found = self.server_digest()
        if self.pinned_digest and found != self.pinned_digest:
            raise JudgeError(
                f"judge 'ollama': model {self.model!r} on {self.host} has digest {found}, "
                f"but the config pins {self.pinned_digest}; pull the pinned build or update "
                "the pin (a new digest is a new judge: everything is judged again)"
            )

    # -- the judge protocol ---------------------------------------------------------------------

    def options(self, num_predict: int) -> dict[str, Any]:
        return {
            "temperature": 0.0,
            "seed": self.seed,
            "num_predict": num_predict,
            "num_ctx": self.num_ctx,
        }

    def config(self) -> dict[str, Any]:
        """Everything that changes a verdict; host, timeouts and concurrency do not."""
        return {
            "judge": self.name,
            "model": self.model,
            "digest": self.digest,
            "options": self.options(self.num_predict),
            "parse_retries": self.parse_retries,
            "repair_message": REPAIR_MESSAGE,
            "questions": {
                q: {
                    "label": question.label,
                    "kinds": sorted(question.kinds),
                    "prompt_sha256": self.template_sha256[q],
                    "format": question.answer.model_json_schema(),
                }
                for q, question in self.questions.items()
            },
        }

    def chat(self, messages: list[dict[str, str]], question: Question, num_predict: int) -> str:
        """One chat call (with transport retries); the raw answer text."""
        response = self._call(
            self._client.chat,
            model=self.model,
            messages=messages,
            format=question.answer.model_json_schema(),
            options=self.options(num_predict),
        )
        return str(response.message.content or "")

    def ask(self, request: JudgeRequest, q: str) -> bool | None:
        """The answer to one question about one output; None when it never parsed."""
        question = self.questions[q]
        first = {
            "role": "user",
            "content": render(self.templates[q], user_prompt(request.item), request.text),
        }
        messages = [first]
        for attempt in range(self.parse_retries + 1):
            content = self.chat(messages, question, self.num_predict * 2**attempt)
            value = parse_answer(content, question.answer, question.label)
            if value is not None:
                return value
            messages = [
                first,
                {"role": "assistant", "content": content},
                {"role": "user", "content": REPAIR_MESSAGE.format(label=question.label)},
            ]
        return None

    def judge(self, requests: list[JudgeRequest]) -> list[dict[str, Any]]:
        if not requests:
            return []
        self._ensure_model()
        digest = self.digest
        jobs = [
            (i, q)
            for i, r in enumerate(requests)
            for q, question in self.questions.items()
            if r.item.kind in question.kinds
        ]
        answers: dict[tuple[int, str], bool | None] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()
        self._abort.clear()

        def run(job: tuple[int, str]) -> bool | None:
            try:
                return self.ask(requests[job[0]], job[1])
            except _Aborted:
                raise
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                self._abort.set()  # the other workers stop before their next call
                raise

        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tais-ollama")
        futures: list[tuple[tuple[int, str], Future[bool | None]]] = [
            (job, pool.submit(run, job)) for job in jobs
        ]
        try:
            for job, future in futures:
                answers[job] = future.result()
        except BaseException:
            self._abort.set()
            pool.shutdown(wait=False, cancel_futures=True)
            with lock:
                first = errors[0] if errors else None
            if first is not None:
                raise first from None
            raise
        pool.shutdown(wait=True)
        labels = []
        for i, request in enumerate(requests):
            asked = {
                q: answers[(i, q)]
                for q, question in self.questions.items()
                if request.item.kind in question.kinds
            }
            labels.append(
                {
                    "refused": asked.get("refusal"),
                    "harmful": asked.get("harmfulness"),
                    "unparseable": any(v is None for v in asked.values()),
                    "model": self.model,
                    "digest": digest,
                    "prompt_sha256": dict(self.template_sha256),
                }
            )
        return labels
