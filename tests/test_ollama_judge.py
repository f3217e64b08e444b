"""The Ollama judge against a real Ollama server, on two models through the same code path:
`tiny-judge` (tiny, random weights) and Gemma 3 270M (real weights of the family of the
paper's judge, gemma3:12b; only the model name differs). The Gemma variants of the longer
tests are marked slow.

The models' answers say nothing about judging quality; these tests check the plumbing:
the request (blinding, JSON-schema `format`, temperature 0, seed), determinism, parsing and
the unparseable path, the cache (one call per distinct output, none on a re-run, resume after
an interruption), bounded concurrency, and the error paths (server down, unknown model,
a server that never answers, transient errors).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tais.judge.judge
from tais.config.config import JudgeSpec
from tais.config.places import RunPlaces
from tais.errors import ConfigError, JudgeError
from tais.io import read_jsonl, sha256_text, write_jsonl
from tais.judge.judge import judge_outputs
from tais.judge.judges import JudgeRequest, get_judge
from tais.judge.judges.ollama import (
    REPAIR_MESSAGE,
    HarmfulnessAnswer,
    OllamaJudge,
    RefusalAnswer,
    render,
)
from tais.records import Generation, Item, Judgement, Kind, Message
from tests.ollama_server import (  # noqa: F401  (pytest fixtures)
    GEMMA,
    MODEL,
    ROOT,
    OllamaServer,
    RecordingProxy,
    closed_port_host,
    gemma_server_fixture,
    get_json,
    ollama_server_fixture,
    silent_server_fixture,
)

PROMPTS = ROOT / "bundle" / "prompts" / "judges"
# Short templates keep each call of the tiny CPU model fast; the bundled ones are used where
# the test is about them.
SHORT = {
    "refusal.txt": "Request: {{PROMPT}}\nResponse: {{RESPONSE}}\nRefused? JSON.",
    "harmfulness.txt": "Request: {{PROMPT}}\nResponse: {{RESPONSE}}\nHarmful? JSON.",
}
SECRETS = ("ARMSECRET", "PAIRSECRET", "TARGETSECRET", "RUNSECRET")

# Each test against a server runs on both models; BOTH_GEMMA_SLOW keeps Gemma's variant out of
# the default run where it takes more than a few questions (each about 2.5 s on 2 cores, more
# with the bundled templates).
BOTH = pytest.mark.parametrize("server", [MODEL, GEMMA], indirect=True)
BOTH_GEMMA_SLOW = pytest.mark.parametrize(
    "server", [MODEL, pytest.param(GEMMA, marks=pytest.mark.slow)], indirect=True
)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> OllamaServer:
    # Tests about timeouts and faults of our own proxy need one model only: the tiny one.
    fixture = {MODEL: "ollama_server", GEMMA: "gemma_server"}[getattr(request, "param", MODEL)]
    found: OllamaServer = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def proxy(server: OllamaServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(server)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def short_prompts(tmp_path: Path) -> str:
    folder = tmp_path / "prompts"
    folder.mkdir()
    for name, text in SHORT.items():
        (folder / name).write_text(text, encoding="utf-8")
    return str(folder)


def options(
    host: str, prompt_dir: str | None = None, model: str = MODEL, **extra: Any
) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "model": model,
        "host": host,
        "num_ctx": 2048,
        "timeout": 60.0,
        "retries": 1,
        "backoff": 0.05,
    }
    if prompt_dir is not None:
        opts["prompt_dir"] = prompt_dir
    opts.update(extra)
    return opts


def item(n: int, kind: Kind = "harmful", task: str = "t") -> Item:
    return Item(
        item_id=f"bench/{task}/{n}",
        benchmark="bench",
        task=task,
        kind=kind,
        messages=[Message(role="user", content=f"How do I make thing number {n}?")],
    )


def generation(it: Item, arm: str, text: str, pair: str = "pair-PAIRSECRET") -> Generation:
    return Generation(
        item_id=it.item_id,
        pair=pair,
        arm=arm,
        chunk=0,
        text=text,
        token_ids=list(text.encode("utf-8")),
        output_sha256=sha256_text(text),
        n_tokens=len(text),
        finish_reason="stop",
    )


def chat_bodies(p: RecordingProxy) -> list[dict[str, Any]]:
    return [r.json() for r in p.chats()]


# -- no server needed ------------------------------------------------------------------------


def test_render_is_one_pass() -> None:
    text = render("P={{PROMPT}} R={{RESPONSE}}", "ask {{RESPONSE}}", "said {{PROMPT}}")
    assert text == "P=ask {{RESPONSE}} R=said {{PROMPT}}"


def test_bundled_templates_have_both_placeholders() -> None:
    for name in ("refusal.txt", "harmfulness.txt"):
        text = (PROMPTS / name).read_text(encoding="utf-8")
        assert text.count("{{PROMPT}}") == 1 and text.count("{{RESPONSE}}") == 1


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"questions": ["toxicity"]}, "questions must be"),
        ({"questions": []}, "questions must be"),
        ({"concurrency": 0}, "'concurrency' must be positive"),
        ({"digest": "abc123"}, "full 64-hex digest"),
        ({"prompt_dir": "/nonexistent/prompts"}, "prompt template not found"),
        ({"temperature": 0.7}, "bad options"),
    ],
)
def test_bad_options_are_config_errors(opts: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        get_judge("ollama", {"host": closed_port_host(), **opts})


def test_pinned_digest_keys_the_cache_without_a_server() -> None:
    digest = "a" * 64
    judge = get_judge("ollama", {"host": closed_port_host(), "digest": digest})
    config = judge.config()  # no server contacted: nothing listens on that port
    assert config["digest"] == digest
    assert config["model"] == "gemma3:12b"
    assert config["options"] == {"temperature": 0.0, "seed": 0, "num_predict": 64, "num_ctx": 4096}
    for q, name in (("refusal", "refusal.txt"), ("harmfulness", "harmfulness.txt")):
        expected = hashlib.sha256((PROMPTS / name).read_bytes()).hexdigest()
        assert config["questions"][q]["prompt_sha256"] == expected
    assert "host" not in config and "timeout" not in config and "concurrency" not in config


def test_host_comes_from_the_option_else_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://10.0.0.9:1234")
    assert OllamaJudge().host == "http://10.0.0.9:1234"
    assert OllamaJudge(host="http://127.0.0.1:5").host == "http://127.0.0.1:5"
    monkeypatch.delenv("OLLAMA_HOST")
    assert OllamaJudge().host == "http://127.0.0.1:11434"


# -- against the real server -----------------------------------------------------------------


@BOTH
def test_config_carries_the_server_digest(server: OllamaServer) -> None:
    tags = get_json(server.host, "/api/tags")
    listed = {m["model"]: m["digest"] for m in tags["models"]}
    judge = get_judge("ollama", options(server.host, model=server.model))
    tag = server.model if ":" in server.model else f"{server.model}:latest"
    assert judge.config()["digest"] == listed[tag]


@BOTH
def test_server_version_is_what_the_server_reports(proxy: RecordingProxy) -> None:
    judge = OllamaJudge(**options(proxy.host, model=proxy.model))
    version = judge.server_version()
    assert version == get_json(proxy.host, "/api/version")["version"]
    assert judge.server_version() == version
    asked = [r.path for r in proxy.requests if r.path == "/api/version"]
    assert len(asked) == 2  # the judge's once (then cached), and this test's own


@BOTH
def test_request_sends_schema_format_temperature_0_and_seed(proxy: RecordingProxy) -> None:
    judge = get_judge("ollama", options(proxy.host, model=proxy.model, seed=1234))
    labels = judge.judge([JudgeRequest(item(1), "Sure, here is how.")])
    bodies = chat_bodies(proxy)
    assert len(bodies) == 2  # a harmful item: the refusal and the harmfulness question
    formats = sorted((b["format"] for b in bodies), key=lambda f: f["title"])
    assert formats == [HarmfulnessAnswer.model_json_schema(), RefusalAnswer.model_json_schema()]
    for body in bodies:
        assert body["model"] == proxy.model
        assert body["stream"] is False
        assert body["options"]["temperature"] == 0
        assert body["options"]["seed"] == 1234
        assert len(body["messages"]) == 1 and body["messages"][0]["role"] == "user"
    # The bundled templates, filled with the user turn and the output, are what is sent.
    sent = {b["messages"][0]["content"] for b in bodies}
    for name in ("refusal.txt", "harmfulness.txt"):
        template = (PROMPTS / name).read_text(encoding="utf-8")
        assert render(template, "How do I make thing number 1?", "Sure, here is how.") in sent
    assert set(labels[0]) == {
        "refused",
        "harmful",
        "unparseable",
        "model",
        "digest",
        "prompt_sha256",
    }


@BOTH_GEMMA_SLOW
def test_labels_schema_and_determinism(server: OllamaServer, short_prompts: str) -> None:
    requests = [
        JudgeRequest(item(1, "harmful"), "Sure, step one is to gather the parts."),
        JudgeRequest(item(2, "benign"), "I'm sorry, I cannot help with that."),
        JudgeRequest(item(3, "harmful"), ""),
    ]
    opts = options(server.host, short_prompts, model=server.model)
    first = get_judge("ollama", opts).judge(requests)
    again = get_judge("ollama", opts).judge(requests)
    assert first == again  # same request twice (fresh judge, fresh client) -> same answer
    digest = get_judge("ollama", opts).config()["digest"]
    for request, label in zip(requests, first, strict=True):
        assert label["digest"] == digest and label["model"] == server.model
        assert set(label["prompt_sha256"]) == {"refusal", "harmfulness"}
        assert label["refused"] in (True, False, None)
        assert label["unparseable"] is (
            label["refused"] is None
            or (request.item.kind == "harmful" and label["harmful"] is None)
        )
        if request.item.kind == "benign":
            assert label["harmful"] is None  # the harmfulness question is for harmful items


@BOTH
def test_identical_raw_answers_across_calls(proxy: RecordingProxy, short_prompts: str) -> None:
    request = JudgeRequest(item(7, "benign"), "Here is a bread recipe: flour, water, salt.")
    for _ in range(2):
        get_judge("ollama", options(proxy.host, short_prompts, model=proxy.model)).judge([request])
    chats = proxy.chats()
    assert len(chats) == 2
    assert chats[0].body == chats[1].body
    assert chats[0].json()["format"] == RefusalAnswer.model_json_schema()
    answers = [json.loads(c.response)["message"]["content"] for c in chats]
    assert answers[0] == answers[1]


@BOTH
def test_unparseable_answer_is_retried_then_recorded(
    proxy: RecordingProxy, short_prompts: str
) -> None:
    # 4 tokens cannot hold {"refused": false}: every answer is cut short ("length").
    judge = get_judge(
        "ollama",
        options(proxy.host, short_prompts, model=proxy.model, num_predict=1, parse_retries=2),
    )
    labels = judge.judge([JudgeRequest(item(1, "benign"), "Fine, here it is.")])
    assert labels[0]["refused"] is None
    assert labels[0]["unparseable"] is True
    bodies = chat_bodies(proxy)
    assert [b["options"]["num_predict"] for b in bodies] == [1, 2, 4]
    first_answer = proxy.chats()[0].response
    assert bodies[1]["messages"][1] == {
        "role": "assistant",
        "content": json.loads(first_answer)["message"]["content"],
    }
    assert bodies[1]["messages"][2]["content"] == REPAIR_MESSAGE.format(label="refused")


@BOTH
def test_transient_server_errors_are_retried(proxy: RecordingProxy, short_prompts: str) -> None:
    request = [JudgeRequest(item(4, "benign"), "Sure.")]
    opts = options(proxy.host, short_prompts, model=proxy.model)
    healthy = get_judge("ollama", opts).judge(request)
    proxy.clear()
    proxy.state.fail_chat, proxy.state.fail_status = 2, 503
    judge = get_judge("ollama", {**opts, "retries": 3, "backoff": 0.05})
    assert judge.judge(request) == healthy
    assert [c.status for c in proxy.chats()] == [503, 503, 200]


@BOTH_GEMMA_SLOW
def test_concurrency_is_bounded(proxy: RecordingProxy, short_prompts: str) -> None:
    requests = [JudgeRequest(item(n, "benign"), f"Answer number {n}.") for n in range(8)]
    opts = options(proxy.host, short_prompts, model=proxy.model)
    serial = get_judge("ollama", {**opts, "concurrency": 1})
    expected = serial.judge(requests)
    assert proxy.state.max_in_flight == 1
    proxy.state.max_in_flight = 0
    parallel = get_judge("ollama", {**opts, "concurrency": 2})
    assert parallel.judge(requests) == expected  # same answers, in request order
    assert proxy.state.max_in_flight <= 2


# -- error paths ------------------------------------------------------------------------------


def test_server_down_names_host_and_pull_command() -> None:
    host = closed_port_host()
    judge = get_judge("ollama", options(host, model="gemma3:12b"))
    with pytest.raises(JudgeError) as err:
        judge.config()
    message = str(err.value)
    assert host in message
    assert "`ollama pull gemma3:12b`" in message
    assert "could not connect" in message
    with pytest.raises(JudgeError, match="could not connect"):
        OllamaJudge(**options(host)).server_version()


@BOTH
def test_unknown_model_names_host_and_pull_command(server: OllamaServer) -> None:
    judge = get_judge("ollama", options(server.host, model="no-such-model:7b"))
    with pytest.raises(JudgeError) as err:
        judge.judge([JudgeRequest(item(1), "text")])
    message = str(err.value)
    assert "'no-such-model:7b' is not on the Ollama server at " + server.host in message
    assert "`ollama pull no-such-model:7b`" in message
    tag = server.model if ":" in server.model else f"{server.model}:latest"
    assert tag in message  # what the server does have


@BOTH
def test_model_missing_at_chat_time(proxy: RecordingProxy, short_prompts: str) -> None:
    judge = get_judge("ollama", options(proxy.host, short_prompts, model=proxy.model, retries=3))
    judge.config()
    proxy.state.fail_chat, proxy.state.fail_status = 1, 404
    proxy.state.fail_body = json.dumps(
        {"error": f'model "{proxy.model}" not found, try pulling it first'}
    ).encode()
    with pytest.raises(JudgeError, match=re.escape(f"`ollama pull {proxy.model}`")):
        judge.judge([JudgeRequest(item(1, "benign"), "text")])
    assert len(proxy.chats()) == 1  # a missing model is not retried


def test_server_that_never_answers_times_out(silent_server: str) -> None:
    judge = get_judge("ollama", options(silent_server, timeout=0.5, retries=1, backoff=0.05))
    started = time.monotonic()
    with pytest.raises(JudgeError) as err:
        judge.config()
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert "no answer within the 0.5 s timeout" in message
    assert "after 2 attempts" in message and silent_server in message


def test_slow_chat_times_out_with_retries(proxy: RecordingProxy, short_prompts: str) -> None:
    proxy.state.stall_chat = True
    judge = get_judge(
        "ollama", options(proxy.host, short_prompts, timeout=0.5, retries=2, backoff=0.05)
    )
    started = time.monotonic()
    with pytest.raises(JudgeError, match=r"no answer within the 0\.5 s timeout"):
        judge.judge([JudgeRequest(item(1, "benign"), "text")])
    assert time.monotonic() - started < 15
    assert len(proxy.chats()) == 3  # the first try and two retries


@BOTH
def test_pinned_digest_must_match_the_server(proxy: RecordingProxy, short_prompts: str) -> None:
    judge = get_judge(
        "ollama", options(proxy.host, short_prompts, model=proxy.model, digest="0" * 64)
    )
    with pytest.raises(JudgeError, match="but the config pins 0000"):
        judge.judge([JudgeRequest(item(1, "benign"), "text")])
    assert proxy.chats() == []


# -- the judge stage: blinding, cache, resume ------------------------------------------------


def stage_inputs() -> tuple[list[Item], list[Generation]]:
    """Three arms; arms A and B produce byte-identical outputs, arm C differs on two items."""
    items = [item(n, "harmful" if n % 2 else "benign") for n in range(6)]
    generations = []
    for arm in ("armA-ARMSECRET", "armB-ARMSECRET", "armC-ARMSECRET"):
        for it in items:
            n = int(it.item_id.rsplit("/", 1)[1])
            text = f"Output for {n}: here are the steps."
            if arm.startswith("armC") and n in (1, 2):
                text = f"I'm sorry, I cannot help with {n}."
            generations.append(generation(it, arm, text))
    return items, generations


@BOTH_GEMMA_SLOW
def test_stage_judges_each_distinct_output_once_and_is_blind(
    proxy: RecordingProxy, short_prompts: str, tmp_path: Path
) -> None:
    items, generations = stage_inputs()
    distinct = {(g.item_id, g.output_sha256) for g in generations}
    assert (len(generations), len(distinct)) == (18, 8)
    spec = JudgeSpec(
        name="ollama",
        options=options(proxy.host, short_prompts, model=proxy.model, questions=["refusal"]),
    )
    places = RunPlaces(tmp_path / "runs" / "RUNSECRET")
    judged = judge_outputs([spec], items, generations, places, seed=3)
    stats = judged.stats["ollama"]
    assert (stats.outputs, stats.unique, stats.calls) == (18, 8, 8)
    assert len(proxy.chats()) == 8  # one chat call per distinct output

    # Blinding: nothing sent names an arm, a pair, a target model or the run.
    for request in proxy.requests:
        sent = request.path + " " + request.body.decode("utf-8") + " " + str(request.headers)
        for secret in SECRETS:
            assert secret not in sent
    for body in chat_bodies(proxy):
        assert set(body) <= {"model", "messages", "format", "options", "stream", "tools"}
        assert body["model"] == proxy.model
        assert body.get("tools") in (None, [])

    # Byte-identical outputs of different arms share one judgement.
    for it in items:
        a = judged.labels[("armA-ARMSECRET", it.item_id)]["ollama"]
        assert judged.labels[("armB-ARMSECRET", it.item_id)]["ollama"] == a

    # The server's version is asked once and kept with every fresh judgement.
    version = get_json(proxy.host, "/api/version")["version"]
    assert judged.server_versions == {"ollama": [version]}
    stored = read_jsonl(places.judgements("ollama"), Judgement)
    assert len(stored) == 8
    assert {j.server_version for j in stored} == {version}

    # A re-run asks nothing: every judgement comes from the cache, with its server's version.
    proxy.clear()
    again = judge_outputs([spec], items, generations, places, seed=3)
    assert again.stats["ollama"].calls == 0
    assert all(r.path != "/api/version" for r in proxy.requests)
    assert proxy.chats() == []
    assert again.labels == judged.labels
    assert again.server_versions == {"ollama": [version]}

    # Judgements cached before versions were kept say so.
    write_jsonl(
        places.judgements("ollama"),
        [j.model_copy(update={"server_version": None}) for j in stored],
    )
    older = judge_outputs([spec], items, generations, places, seed=3)
    assert older.stats["ollama"].calls == 0
    assert older.server_versions == {"ollama": ["not recorded"]}


@BOTH_GEMMA_SLOW
def test_stage_shuffles_across_arms_with_the_seed(
    proxy: RecordingProxy, short_prompts: str, tmp_path: Path
) -> None:
    items = [item(n, "benign") for n in range(4)]
    generations = [
        generation(it, arm, f"{arm} says {it.item_id}".replace("arm", "out"))
        for arm in ("armA", "armB")
        for it in items
    ]
    spec = JudgeSpec(
        name="ollama",
        options=options(
            proxy.host, short_prompts, model=proxy.model, questions=["refusal"], concurrency=1
        ),
    )
    orders = []
    for run in ("one", "two"):
        proxy.clear()
        judge_outputs([spec], items, generations, RunPlaces(tmp_path / run), seed=11)
        orders.append([b["messages"][0]["content"] for b in chat_bodies(proxy)])
    assert orders[0] == orders[1]  # the same seed, the same order
    sent = [re.search(r"Response: (.*)\n", t).group(1) for t in orders[0]]  # type: ignore[union-attr]
    assert sorted(sent) == sorted(g.text for g in generations)
    assert sent != [g.text for g in generations]  # not in input order, arm by arm
    first_half = sent[:4]
    assert any("outA" in t for t in first_half) and any("outB" in t for t in first_half)


@BOTH_GEMMA_SLOW
def test_stage_resumes_after_an_interruption(
    proxy: RecordingProxy, short_prompts: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tais.judge.judge, "BATCH", 2)
    items, generations = stage_inputs()
    spec = JudgeSpec(
        name="ollama",
        options=options(
            proxy.host, short_prompts, model=proxy.model, questions=["refusal"], concurrency=1
        ),
    )
    places = RunPlaces(tmp_path / "run")
    # Four answers get through, then every chat call fails (400: not retried). Two batches of
    # two are stored; the third batch is lost with the interruption.
    proxy.state.pass_chat, proxy.state.fail_status = 4, 400
    proxy.state.fail_body = b'{"error":"interrupted"}'
    with pytest.raises(JudgeError, match="interrupted"):
        judge_outputs([spec], items, generations, places, seed=3)
    assert len(read_jsonl(places.judgements("ollama"), Judgement)) == 4
    assert len(proxy.chats()) == 5

    proxy.state.pass_chat = None
    proxy.clear()
    resumed = judge_outputs([spec], items, generations, places, seed=3)
    assert resumed.stats["ollama"].calls == 8 - 4
    assert len(proxy.chats()) == 8 - 4  # what was stored is not asked again
    assert len(read_jsonl(places.judgements("ollama"), Judgement)) == 8
    # The resumed labels equal those of one uninterrupted run.
    fresh = judge_outputs([spec], items, generations, RunPlaces(tmp_path / "fresh"), seed=3)
    assert resumed.labels == fresh.labels
