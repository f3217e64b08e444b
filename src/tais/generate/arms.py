"""An arm's job and its engine process: chunks, fingerprints, resume, and running it.

Split from the generate stage so that executors can run an arm without importing the stage
that chooses them. See tais.generate.generate for how chunks make a killed run resumable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from tais.config.config import (
    HOW_ONLY,
    TRANSPORT_ONLY,
    Arm,
    Engine,
    Strict,
    arm_backend,
    arm_http,
)
from tais.config.places import RunPlaces
from tais.errors import DataError
from tais.generate.backends.vllm_offline import speculative_config
from tais.generate.batch_invariance import ENV as BATCH_INVARIANT_ENV
from tais.generate.worker_pool import WorkerPool
from tais.io import (
    atomic_write_text,
    canonical_json,
    read_intact_prefix,
    sha256_text,
    write_jsonl,
)
from tais.models import hashes as model_hash
from tais.models.hashes import model_identity
from tais.records import ChunkStat, Generation, Item


class Job(Strict):
    """What one engine process is asked to do."""

    experiment: str
    arm: Arm
    engine: Engine
    run_root: str
    battery: str  # the arm's items (JSONL)
    fingerprint: str


class GenerateProgress(Protocol):
    def arm_started(self, arm: str, total: int, done: int) -> None: ...

    def arm_advanced(self, arm: str, done: int) -> None: ...

    def arm_finished(self, arm: str, skipped: bool) -> None: ...

    def arm_reused(self, arm: str, origin: str) -> None: ...


# Enters every arm's fingerprint: how items are batched can change outputs.
CHUNKING = "battery-order"


def battery_chunks(items: list[Item], size: int) -> list[list[Item]]:
    """`items` (the id-sorted battery) cut into chunks of `size`, the last one shorter.

    Tasks are not kept apart: the engine is kept full across them. The plan depends on the
    items and the size alone, so a resumed run cuts the same chunks.
    """
    return [items[start : start + size] for start in range(0, len(items), size)]


def _arm_digest(
    labels: dict[str, object], arm: Arm, engine: Engine, items: list[Item], hash_cache: Path
) -> str:
    payload: dict[str, object] = {
        "arm": labels,
        "chunking": CHUNKING,
        "engine": engine.model_dump(mode="json", exclude=HOW_ONLY),
        "items": [item.model_dump(mode="json") for item in items],
        "models": _models(arm, hash_cache),
    }
    if arm_backend(arm, engine) == "openai":
        # How many requests share the server's batches: the batch-invariance question.
        payload["concurrency"] = arm_http(arm, engine).concurrency
    return sha256_text(canonical_json(payload))


def _models(arm: Arm, hash_cache: Path) -> dict[str, object]:
    models: dict[str, object] = {"target": model_identity(arm.target, hash_cache)}
    if arm.speculative is not None and arm.speculative.model:
        models["draft"] = model_identity(arm.speculative.model, hash_cache)
    return models


def arm_fingerprint(
    arm: Arm, engine: Engine, items: list[Item], hash_cache: Path = model_hash.CACHE
) -> str:
    """Everything an arm's outputs depend on: its config, the engine, the items, the models' bytes.

    The models enter by content, not path: `make models` retrains into the same folders.
    How a server is reached (timeouts, retries, the API key's variable) is left out: it does
    not change what the server answers.
    """
    labels = arm.model_dump(mode="json", exclude=TRANSPORT_ONLY)
    return _arm_digest(labels, arm, engine, items, hash_cache)


def output_key(
    arm: Arm, engine: Engine, items: list[Item], hash_cache: Path = model_hash.CACHE
) -> str:
    """The fingerprint without the arm's labels (name, pair): arms with the same key produce
    the same outputs whatever experiment lists them (the shared arm store's key).

    An arm's own dtype or seed enters as the engine's: an arm that sets bfloat16 on an engine
    of float32 is the same run as an arm that sets nothing on an engine of bfloat16 (E5's
    bfloat16 arms are E0's on the small profile, where bfloat16 is the profile's dtype).
    """
    seed = arm.seed if arm.seed is not None else engine.seed
    engine = engine.model_copy(update={"dtype": arm.dtype or engine.dtype, "seed": seed})
    arm = arm.model_copy(update={"dtype": None, "seed": None})
    labels = arm.model_dump(mode="json", exclude={**TRANSPORT_ONLY, "name": True, "pair": True})
    return _arm_digest(labels, arm, engine, items, hash_cache)


def resolved_engine(arm: Arm, engine: Engine) -> dict[str, Any]:
    """The engine settings this arm actually ran with: the arm's overrides win.

    With `acceptance` set, `speculative_config` adds what vLLM was given in its own field
    names; without it the two are the same, and runs published before the key existed keep
    their bytes. An arm served over HTTP records its backend and request settings.
    """
    resolved = {
        **engine.model_dump(mode="json", exclude={"executor"}),
        **arm.model_dump(mode="json", exclude={"dtype", "seed", "backend", "http"}),
        "dtype": arm.dtype or engine.dtype,
        "seed": arm.seed if arm.seed is not None else engine.seed,
    }
    resolved["backend"] = backend = arm_backend(arm, engine)
    resolved.pop("http", None)
    if backend == "openai":
        resolved["http"] = arm_http(arm, engine).model_dump(mode="json")
    if arm.speculative is not None and arm.speculative.acceptance is not None:
        resolved["speculative_config"] = speculative_config(arm)
    return resolved


def recover_arm(places: RunPlaces, arm: str) -> dict[int, ChunkStat]:
    """Trim an arm's raw files to whole chunks and return the finished chunks' stats."""
    stats_path, gens_path = places.chunks(arm), places.generations(arm)
    stats: dict[int, ChunkStat] = {}
    for stat in read_intact_prefix(stats_path, ChunkStat):
        stats.setdefault(stat.chunk, stat)
    gens = [g for g in read_intact_prefix(gens_path, Generation) if g.chunk in stats]
    if stats_path.exists():
        write_jsonl(stats_path, [stats[chunk] for chunk in sorted(stats)])
    if gens_path.exists():
        write_jsonl(gens_path, gens)
    return stats


def check_fingerprint(places: RunPlaces, arm: str, fingerprint: str) -> None:
    path = places.fingerprint(arm)
    if path.exists() and path.read_text(encoding="utf-8").strip() != fingerprint:
        # Deleting the arm's files is safe: judgements are cached by item, output text and
        # judge, so the new outputs are judged afresh wherever they differ.
        raise DataError(
            f"{places.root}: arm {arm!r} was generated with a different config, battery or "
            f"model files; use a new experiment name, or delete "
            f"{places.generations(arm).parent}/{arm}.* to generate the arm again"
        )
    atomic_write_text(path, fingerprint + "\n")


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def run_arm(
    job: Job, places: RunPlaces, items: list[Item], progress: GenerateProgress, pool: WorkerPool
) -> None:
    """Run one arm in an engine process unless every chunk is already on disk."""
    name = job.arm.name
    total_chunks = len(battery_chunks(items, job.engine.batch_size))
    done = recover_arm(places, name)
    if len(done) == total_chunks and places.arm_run(name).exists():
        progress.arm_finished(name, skipped=True)
        return
    atomic_write_text(places.job(name), job.model_dump_json(indent=2) + "\n")
    log = places.log(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    progress.arm_started(name, len(items), _count_lines(places.generations(name)))

    def advanced() -> None:
        progress.arm_advanced(name, _count_lines(places.generations(name)))

    env = {BATCH_INVARIANT_ENV: "1"} if job.arm.batch_invariant else None
    pool.run(places.job(name), log, name, advanced, env)
    advanced()
    progress.arm_finished(name, skipped=False)


def arm_complete(places: RunPlaces, arm: str, items: list[Item], batch_size: int) -> bool:
    if not places.arm_run(arm).exists():
        return False
    return len(recover_arm(places, arm)) == len(battery_chunks(items, batch_size))
