"""The shared arm store without the engine: what is kept, and what a reuse copies."""

from __future__ import annotations

from pathlib import Path

from tais.config.config import Arm, Engine, parse_config
from tais.config.places import RunPlaces
from tais.generate.arm_store import ArmStore
from tais.generate.arms import output_key, resolved_engine
from tais.generate.generate import generate
from tais.io import append_jsonl, atomic_write_text, read_jsonl
from tais.records import ArmRun, ChunkStat, Generation, Item, Message, SpecCounters

from .engine_support import QuietProgress, demo_data

ITEMS = [
    Item(
        item_id=f"t/{i}",
        benchmark="t",
        task="harmful_requests",
        kind="harmful",
        messages=[Message(role="user", content=f"prompt {i}")],
    )
    for i in range(3)
]


def arm(name: str, pair: str) -> Arm:
    return Arm.model_validate(
        {
            "name": name,
            "pair": pair,
            "target": "bundle/models/tiny-target",
            "speculative": {
                "method": "draft_model",
                "model": "bundle/models/tiny-draft",
                "num_speculative_tokens": 3,
                "acceptance": "strict",
            },
        }
    )


def generated(places: RunPlaces, made: Arm, engine: Engine) -> None:
    """The files an engine run of `made` leaves, written by hand."""
    append_jsonl(
        places.generations(made.name),
        [
            Generation(
                item_id=item.item_id,
                pair=made.pair,
                arm=made.name,
                chunk=0,
                text=f"out {item.item_id}",
                token_ids=[1, 2, 3],
                output_sha256="h",
                n_tokens=3,
                finish_reason="stop",
            )
            for item in ITEMS
        ],
    )
    chunks = [ChunkStat(chunk=0, n_items=3, n_tokens=9, wall_s=0.5, counters=SpecCounters())]
    append_jsonl(places.chunks(made.name), chunks)
    run = ArmRun(
        arm=made.name,
        pair=made.pair,
        fingerprint="first",
        engine=resolved_engine(made, engine),
        versions={"vllm": "x"},
        startup_s=1.0,
        wall_s=0.5,
        n_items=3,
        n_tokens=9,
        tokens_per_s=18.0,
        counters=SpecCounters(),
        acceptance_rate=None,
        resumed=False,
        chunks=chunks,
    )
    atomic_write_text(places.arm_run(made.name), run.model_dump_json())


def test_the_key_ignores_names_and_nothing_else() -> None:
    engine = Engine()
    key = output_key(arm("a", "p"), engine, ITEMS)
    assert output_key(arm("b", "q"), engine, ITEMS) == key
    assert output_key(arm("a", "p"), engine, ITEMS[:2]) != key
    assert output_key(arm("a", "p"), Engine(seed=1), ITEMS) != key
    other = arm("a", "p").model_copy(update={"seed": 7})
    assert output_key(other, engine, ITEMS) != key


def test_put_keeps_the_first_and_fetch_relabels(tmp_path: Path) -> None:
    engine = Engine()
    first, second = RunPlaces(tmp_path / "exp-a"), RunPlaces(tmp_path / "exp-b")
    made = arm("spec", "tiny")
    generated(first, made, engine)
    store = ArmStore(tmp_path / "_arms")
    key = output_key(made, engine, ITEMS)
    assert not store.has(key)
    store.put(key, first, "spec", "exp-a")
    store.put(key, first, "spec", "exp-other")  # already kept: the first origin stays
    assert store.origin(key).label() == "exp-a/spec"

    reused = arm("shared", "other")
    origin = store.fetch(key, second, "shared", "other", "second", resolved_engine(reused, engine))
    assert origin.label() == "exp-a/spec"
    gens = read_jsonl(second.generations("shared"), Generation)
    assert {(g.arm, g.pair) for g in gens} == {("shared", "other")}
    assert [g.text for g in gens] == [
        g.text for g in read_jsonl(first.generations("spec"), Generation)
    ]
    run = ArmRun.model_validate_json(second.arm_run("shared").read_text())
    assert (run.arm, run.pair, run.fingerprint, run.reused_from) == (
        "shared",
        "other",
        "second",
        "exp-a/spec",
    )
    assert run.engine == resolved_engine(reused, engine)
    assert run.engine["name"] == "shared"


def test_generate_copies_a_kept_arm_instead_of_starting_the_engine(tmp_path: Path) -> None:
    """No engine is installed for this: a reuse must not need one."""
    data = demo_data()
    data["experiment"] = "exp-b"
    data["arms"] = [arm("shared", "other").model_dump(mode="json")]
    data["contrasts"] = []
    config = parse_config(data)
    store = ArmStore(tmp_path / "_arms")
    first = RunPlaces(tmp_path / "exp-a")
    made = arm("spec", "tiny")
    generated(first, made, config.engine)
    store.put(output_key(made, config.engine, ITEMS), first, "spec", "exp-a")

    reused: list[tuple[str, str]] = []

    class Recording(QuietProgress):
        def arm_reused(self, arm: str, origin: str) -> None:
            reused.append((arm, origin))

        def arm_started(self, arm: str, total: int, done: int) -> None:
            raise AssertionError("the engine was started for a kept arm")

    runs = generate(config, ITEMS, RunPlaces(tmp_path / "exp-b"), Recording(), store)
    assert reused == [("shared", "exp-a/spec")]
    assert runs["shared"].reused_from == "exp-a/spec"
    # Run again: the arm is complete in exp-b now, so nothing is copied a second time.
    reused.clear()
    generate(config, ITEMS, RunPlaces(tmp_path / "exp-b"), Recording(), store)
    assert reused == []
