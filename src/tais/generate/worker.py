"""Engine process: `python -m tais.generate.worker` runs the arms whose job files it is sent, one
at a
time (started by the generate stage; the protocol is in tais.generate.worker_pool)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tais.config.config import Arm, arm_backend
from tais.config.places import RunPlaces
from tais.errors import EngineError, TaisError
from tais.generate.arms import Job, battery_chunks, recover_arm, resolved_engine
from tais.generate.backends import get_backend
from tais.generate.backends.base import Backend
from tais.generate.fit import choice_request
from tais.generate.worker_pool import DONE, ERROR_PREFIX, NEXT
from tais.io import append_jsonl, atomic_write_text, read_jsonl, sha256_text
from tais.records import ArmRun, ChunkStat, Generation, Item, acceptance_rate, total_counters


def score_chunk(backend: Backend, chunk: list[Item]) -> list[list[float] | None]:
    wanted = [(i, r) for i, item in enumerate(chunk) if (r := choice_request(item)) is not None]
    scored: list[list[float] | None] = [None] * len(chunk)
    if not wanted:
        return scored
    logprobs = backend.score_choices([r for _, r in wanted])
    if logprobs is not None:
        for (i, _), values in zip(wanted, logprobs, strict=True):
            scored[i] = values
    return scored


def check_prompt_lengths(lengths: list[int] | None, items: list[Item], job: Job) -> None:
    """Refuse up front: the engine would otherwise reject a whole batch mid-run.

    A backend without a tokenizer (a remote endpoint) counts nothing: its server refuses."""
    if lengths is None:
        return
    limit = job.engine.max_model_len
    too_long = [(item.item_id, n) for item, n in zip(items, lengths, strict=True) if n >= limit]
    if too_long:
        first, tokens = too_long[0]
        raise EngineError(
            f"arm {job.arm.name}: {len(too_long)} prompt(s) do not fit max_model_len={limit} "
            f"(e.g. {first!r}, {tokens} tokens); raise engine.max_model_len if the model "
            "allows, or leave those tasks out"
        )


@dataclass(frozen=True)
class ChunkDone:
    """One chunk's outputs, in hand but not yet on disk."""

    stat: ChunkStat
    generations: list[Generation]


@dataclass(frozen=True)
class ArmEnded:
    versions: dict[str, str]
    startup_s: float
    # Whether this process may start another engine (tais.generate.backends.base.Backend.reusable).
    reusable: bool


def arm_events(
    job: Job, items: list[Item], done: Collection[int], logs: Path
) -> Iterator[ChunkDone | ArmEnded]:
    """Each chunk not in `done`, as generated, then the arm's end. Writes nothing to runs/:
    whoever iterates keeps the chunks (this process, or a driver the chunks are sent to)."""
    arm = job.arm
    backend = get_backend(arm_backend(arm, job.engine))
    started = time.perf_counter()
    try:
        backend.start(arm, job.engine, logs)
        startup_s = time.perf_counter() - started
        check_prompt_lengths(backend.context_need(items), items, job)
        for index, chunk in enumerate(battery_chunks(items, job.engine.batch_size)):
            if index not in done:
                yield make_chunk(backend, arm, index, chunk)
        versions = backend.versions()
    finally:
        backend.stop()
    yield ArmEnded(versions, startup_s, backend.reusable())


def save_chunk(places: RunPlaces, arm: str, chunk: ChunkDone) -> None:
    """Its generations, then its stat: the stat line is what marks the chunk done."""
    append_jsonl(places.generations(arm), chunk.generations)
    append_jsonl(places.chunks(arm), [chunk.stat])


def run_job(job: Job) -> bool:
    """Run the arm; returns whether this process may run another."""
    places = RunPlaces(Path(job.run_root))
    items = read_jsonl(Path(job.battery), Item)
    done = recover_arm(places, job.arm.name)
    resumed = bool(done)
    logs = places.log(job.arm.name).parent
    reusable = False
    for event in arm_events(job, items, set(done), logs):
        if isinstance(event, ChunkDone):
            save_chunk(places, job.arm.name, event)
            done[event.stat.chunk] = event.stat
        else:
            stats = [done[i] for i in sorted(done)]
            write_arm_run(job, places, stats, event.versions, event.startup_s, resumed)
            reusable = event.reusable
    return reusable


def make_chunk(backend: Backend, arm: Arm, index: int, chunk: list[Item]) -> ChunkDone:
    """Generate one chunk; nothing of it is kept until every output of it is in hand."""
    before = backend.counters()
    started = time.perf_counter()
    if arm.batch_order == "reversed":
        # The chunk's items in reverse (a floor arm, tais.config.floors); stored in battery order.
        outputs = backend.generate([item.messages for item in reversed(chunk)])[::-1]
    else:
        outputs = backend.generate([item.messages for item in chunk])
    wall_s = time.perf_counter() - started
    after = backend.counters()
    chunk_counters = after.minus(before) if after is not None and before is not None else None
    # After the counters are read: scoring is prefill, not speculation, and not timed.
    choice_logprobs = score_chunk(backend, chunk)
    gens = [
        Generation(
            item_id=item.item_id,
            pair=arm.pair,
            arm=arm.name,
            chunk=index,
            text=out.text,
            token_ids=out.token_ids,
            output_sha256=sha256_text(out.text),
            n_tokens=out.n_tokens,
            finish_reason=out.finish_reason,
            choice_logprobs=scored,
            counters=out.counters,
        )
        for item, out, scored in zip(chunk, outputs, choice_logprobs, strict=True)
    ]
    stat = ChunkStat(
        chunk=index,
        n_items=len(chunk),
        n_tokens=sum(g.n_tokens for g in gens),
        wall_s=wall_s,
        counters=chunk_counters,
    )
    return ChunkDone(stat, gens)


def write_arm_run(
    job: Job,
    places: RunPlaces,
    stats: list[ChunkStat],
    versions: dict[str, str],
    startup_s: float,
    resumed: bool,
) -> None:
    arm = job.arm
    counters = total_counters(stats)
    wall_s = sum(s.wall_s for s in stats)
    n_tokens = sum(s.n_tokens for s in stats)
    run = ArmRun(
        arm=arm.name,
        pair=arm.pair,
        fingerprint=job.fingerprint,
        engine=resolved_engine(arm, job.engine),
        versions=versions,
        startup_s=startup_s,
        wall_s=wall_s,
        n_items=sum(s.n_items for s in stats),
        n_tokens=n_tokens,
        tokens_per_s=n_tokens / wall_s if wall_s > 0 else 0.0,
        counters=counters,
        acceptance_rate=acceptance_rate(counters),
        resumed=resumed,
        chunks=stats,
    )
    atomic_write_text(places.arm_run(arm.name), run.model_dump_json(indent=2) + "\n")


def log_to(path: Path) -> None:
    """Send this process's output, the engine's included (it writes to the file descriptors),
    to the arm's log."""
    sys.stdout.flush()
    sys.stderr.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def serve_jobs(jobs: TextIO, answers: TextIO, run_line: Callable[[str], bool]) -> int:
    """tais.generate.worker_pool's protocol: a job file's path per line, answered `next` (the
    engine stays up for another) or `done`; `run_line` runs one job and says which."""
    for line in jobs:
        try:
            more = run_line(line.strip())
        except TaisError as exc:
            print(ERROR_PREFIX + str(exc), file=sys.stderr, flush=True)
            return 2
        answers.write(f"{NEXT if more else DONE}\n")
        answers.flush()
        if not more:
            return 0
    return 0


def serve_main(module: str, argv: list[str], run_line: Callable[[str], bool]) -> int:
    """A worker process's entry point: job file paths on stdin, answers on stdout."""
    if argv:
        print(f"usage: python -m {module}  (job file paths on stdin)", file=sys.stderr)
        return 2
    # stdout carries the answers; everything else printed goes to the job's log (stderr).
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return serve_jobs(sys.stdin, answers, run_line)


def _run_arm_job(path: str) -> bool:
    job = Job.model_validate_json(Path(path).read_text(encoding="utf-8"))
    log_to(RunPlaces(Path(job.run_root)).log(job.arm.name))
    print(f"tais worker pid {os.getpid()}: arm {job.arm.name}", flush=True)
    return run_job(job)


def main(argv: list[str]) -> int:
    return serve_main("tais.generate.worker", argv, _run_arm_job)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
