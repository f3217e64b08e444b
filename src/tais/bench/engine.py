"""One arm's generation timings for `tais bench`: `python -m tais.bench.engine JOB.json`.

In one engine, alternating: raw `vllm.LLM.chat` on every item at once, and the harness's own
chunk loop (tais.generate.worker.make_chunk and save_chunk: generate, read counters, score options,
append to disk).
Each repeat of the harness writes into a fresh run folder; the last one is kept for the judge
measurement. The result goes to `result.json` in the job's work folder (the engine writes
its own lines to stdout).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from tais.config.config import Arm, Engine, Strict
from tais.config.places import RunPlaces
from tais.errors import TaisError
from tais.generate.arms import battery_chunks
from tais.generate.backends.vllm_offline import VllmOfflineBackend
from tais.generate.worker import make_chunk, save_chunk
from tais.generate.worker_pool import ERROR_PREFIX
from tais.io import atomic_write_text, read_jsonl
from tais.records import Item


class BenchJob(Strict):
    arm: Arm
    engine: Engine
    battery: str
    repeats: int
    work_dir: str


def result_path(job: BenchJob) -> Path:
    return Path(job.work_dir) / "result.json"


def raw_chat(backend: VllmOfflineBackend, items: list[Item]) -> float:
    """All items in one `LLM.chat` call with the harness's own sampling parameters."""
    llm, params = backend._llm, backend._params
    messages = [[m.model_dump() for m in item.messages] for item in items]
    started = time.perf_counter()
    llm.chat(messages, params, use_tqdm=False)
    return time.perf_counter() - started


def harness(
    backend: VllmOfflineBackend, job: BenchJob, items: list[Item], run: int
) -> tuple[float, float]:
    """The worker's loop over chunks; (whole loop, generate calls alone) in seconds."""
    places = RunPlaces(Path(job.work_dir) / f"run{run}")
    started = time.perf_counter()
    generating = 0.0
    for index, chunk in enumerate(battery_chunks(items, job.engine.batch_size)):
        done = make_chunk(backend, job.arm, index, chunk)
        save_chunk(places, job.arm.name, done)
        generating += done.stat.wall_s
    return time.perf_counter() - started, generating


def run(job: BenchJob) -> dict[str, Any]:
    items = read_jsonl(Path(job.battery), Item)
    backend = VllmOfflineBackend()
    backend.start(job.arm, job.engine, Path(job.work_dir))
    # Untimed: the first call compiles and allocates what later calls reuse, for both sides.
    raw_chat(backend, items)
    raw_s: list[float] = []
    harness_s: list[float] = []
    generate_s: list[float] = []
    for repeat in range(job.repeats):
        # Alternating which goes first evens out drift (caches, other load) between the two.
        if repeat % 2 == 0:
            raw_s.append(raw_chat(backend, items))
        whole, generating = harness(backend, job, items, repeat)
        harness_s.append(whole)
        generate_s.append(generating)
        if repeat % 2 == 1:
            raw_s.append(raw_chat(backend, items))
    return {
        "raw_s": raw_s,
        "harness_s": harness_s,
        "harness_generate_s": generate_s,
        "last_run": str(Path(job.work_dir) / f"run{job.repeats - 1}"),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tais.bench.engine JOB.json", file=sys.stderr)
        return 2
    try:
        job = BenchJob.model_validate_json(Path(argv[0]).read_text(encoding="utf-8"))
        result = run(job)
    except TaisError as exc:
        print(ERROR_PREFIX + str(exc), file=sys.stderr, flush=True)
        return 2
    atomic_write_text(result_path(job), json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
