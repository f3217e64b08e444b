"""Why each item changed: the target's top-2 log-probability gap where two outputs part.

For every item whose outputs differ in a contrast (tais.config.floors.gap_contrasts: the
config's contrasts and each floor arm against its reference), the reference arm's target is
asked, in one prefill of the prompt and the two outputs' common token prefix, for the
log-probabilities of its two most likely next tokens (no sampling, no text kept). A change that
starts where those two were nearly tied is what hardware numerics can flip; one that starts
at a decisive position is not.

Outputs are kept in runs/ as token ids (Generation.token_ids), so the prefix is the reference
output's own ids, not a re-tokenised text. An output without token ids (a server that sent text
only) and an arm served over HTTP get no gap: there is no prefix to give, or no engine here.

The prefill runs with the reference arm's engine settings (model, revision, dtype, seed,
max_model_len, prompt format), made target-only and batched the default way: the gap is the
target's, not the speculating arm's. One engine per distinct reference target serves all its
items in one call, in an engine process of the generate stage's kind (tais.generate.worker_pool,
`python -m tais.generate.gaps`), on this machine whatever executor ran the arms. A prefill of
prompt + prefix is not the incremental decode that produced the outputs: it is the target's
view of the same context, computed once, which is what the gap is meant to show.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tais.config.config import Arm, Contrast, Engine, ExperimentConfig, Strict, arm_backend
from tais.config.floors import gap_contrasts
from tais.config.places import RunPlaces
from tais.errors import EngineError
from tais.generate.batch_invariance import ENV as BATCH_INVARIANT_ENV
from tais.generate.worker_pool import WorkerPool
from tais.io import atomic_write_text, canonical_json, read_jsonl, sha256_text, write_jsonl
from tais.models.hashes import model_identity
from tais.records import DivergenceGap, Generation, Item, Message

MODULE = "tais.generate.gaps"


def first_diverging_token(a: list[int], b: list[int]) -> int:
    """The first index at which the two token lists differ: the length of their common
    prefix (the shorter one's length when one is a prefix of the other)."""
    for position, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return position
    return min(len(a), len(b))


class GapRequest(Strict):
    """One changed item of one contrast: what the prefill is given and what it is held to."""

    contrast: str
    item_id: str
    task: str
    messages: list[Message]
    prefix: list[int]
    # The reference output's token at the first diverging position; None where it ended there.
    reference_token: int | None


class GapJob(Strict):
    """What one engine process is asked: every request of one reference target."""

    arm: Arm
    engine: Engine
    requests: list[GapRequest]
    output: str  # where the DivergenceGap lines go (JSONL)
    log: str


def target_arm(arm: Arm) -> Arm:
    """The arm's target alone, batched the default way: same model, revision, dtype and seed."""
    return arm.model_copy(
        update={
            "name": "gaps",
            "speculative": None,
            "subset": None,
            "batch_order": "battery",
            "max_num_seqs": None,
        }
    )


def gap_requests(
    config: ExperimentConfig, items: list[Item], generations: list[Generation]
) -> list[tuple[Arm, GapRequest]]:
    """Each changed item of each gap contrast with its reference target, in contrast then
    item order; none when the config has no floor comparison."""
    contrasts = gap_contrasts(config)
    if not contrasts:
        return []
    by_id = {item.item_id: item for item in items}
    by_arm: dict[str, dict[str, Generation]] = {}
    for gen in generations:
        by_arm.setdefault(gen.arm, {})[gen.item_id] = gen
    found = []
    for contrast in contrasts:
        reference = config.arm(contrast.a)
        if arm_backend(reference, config.engine) != "vllm":
            continue
        found += [
            (target_arm(reference), request)
            for request in _contrast_requests(contrast, by_arm, by_id)
        ]
    return found


def _contrast_requests(
    contrast: Contrast,
    by_arm: dict[str, dict[str, Generation]],
    by_id: dict[str, Item],
) -> list[GapRequest]:
    a_side, b_side = by_arm.get(contrast.a, {}), by_arm.get(contrast.b, {})
    found = []
    for item_id in sorted(a_side.keys() & b_side.keys()):
        a, b = a_side[item_id].token_ids, b_side[item_id].token_ids
        if a is None or b is None or a == b:
            continue
        position = first_diverging_token(a, b)
        item = by_id[item_id]
        found.append(
            GapRequest(
                contrast=contrast.name,
                item_id=item_id,
                task=item.task,
                messages=item.messages,
                prefix=a[:position],
                reference_token=a[position] if position < len(a) else None,
            )
        )
    return found


@dataclass(frozen=True)
class _Group:
    arm: Arm
    requests: list[GapRequest]


def _groups(wanted: list[tuple[Arm, GapRequest]]) -> list[_Group]:
    """Requests by reference target (its settings but the name), in first-seen order."""
    groups: dict[str, _Group] = {}
    for arm, request in wanted:
        key = canonical_json(arm.model_dump(mode="json", exclude={"name", "pair"}))
        groups.setdefault(key, _Group(arm, []))
        groups[key].requests.append(request)
    return list(groups.values())


def compute_gaps(
    config: ExperimentConfig, items: list[Item], generations: list[Generation], work: Path
) -> list[DivergenceGap]:
    """Every changed item's gap, in gap_requests' order. `work` holds the job files, the
    engine's log (work/gaps.log) and its answers. Starts no engine when nothing changed."""
    groups = _groups(gap_requests(config, items, generations))
    if not groups:
        return []
    work.mkdir(parents=True, exist_ok=True)
    log = work / "gaps.log"
    found: list[DivergenceGap] = []
    with WorkerPool(MODULE) as pool:
        for index, group in enumerate(groups):
            output = work / f"gaps-{index}.jsonl"
            output.unlink(missing_ok=True)
            job = GapJob(
                arm=group.arm,
                engine=config.engine,
                requests=group.requests,
                output=str(output),
                log=str(log),
            )
            path = work / f"gaps-{index}.json"
            atomic_write_text(path, job.model_dump_json() + "\n")
            env = {BATCH_INVARIANT_ENV: "1"} if group.arm.batch_invariant else None
            pool.run(path, log, f"gaps of {group.arm.target}", lambda: None, env)
            gaps = read_jsonl(output, DivergenceGap)
            if len(gaps) != len(group.requests):
                raise EngineError(f"gaps of {group.arm.target}: {len(gaps)} answers, log {log}")
            found += gaps
    return found


def gaps_key(config: ExperimentConfig, wanted: list[tuple[Arm, GapRequest]]) -> str:
    """What the gaps depend on: the requests, their engines and the models' bytes."""
    payload = {
        "engine": config.engine.model_dump(mode="json"),
        "requests": [
            {"arm": arm.model_dump(mode="json"), "request": r.model_dump(mode="json")}
            for arm, r in wanted
        ],
        "models": {t: model_identity(t) for t in sorted({arm.target for arm, _ in wanted})},
    }
    return sha256_text(canonical_json(payload))


def run_gaps(
    config: ExperimentConfig, items: list[Item], generations: list[Generation], places: RunPlaces
) -> list[DivergenceGap]:
    """The run's gaps, kept in runs/ (gaps/gaps.jsonl) under a key of what they depend on, so
    a re-run that changes nothing starts no engine for them."""
    wanted = gap_requests(config, items, generations)
    if not wanted:
        return []
    folder = places.root / "gaps"
    kept, key_file = folder / "gaps.jsonl", folder / "gaps.key"
    key = gaps_key(config, wanted)
    if kept.is_file() and key_file.is_file() and key_file.read_text().strip() == key:
        return read_jsonl(kept, DivergenceGap)
    key_file.unlink(missing_ok=True)
    gaps = compute_gaps(config, items, generations, folder)
    write_jsonl(kept, gaps)
    atomic_write_text(key_file, key + "\n")
    return gaps


# The engine process.


def run_gap_job(job: GapJob) -> bool:
    """Answer one job into its output file; returns whether this process may start another
    engine (tais.generate.backends.base.Backend.reusable)."""
    from tais.generate.backends.vllm_offline import VllmOfflineBackend

    backend = VllmOfflineBackend()
    try:
        backend.start(job.arm, job.engine, Path(job.log).parent)
        answers = backend.next_token_top2([(r.messages, r.prefix) for r in job.requests])
    finally:
        backend.stop()
    gaps = [
        DivergenceGap(
            contrast=r.contrast,
            item_id=r.item_id,
            task=r.task,
            position=len(r.prefix),
            gap=top - second,
            reference_is_argmax=None if r.reference_token is None else r.reference_token == best,
        )
        for r, (best, top, second) in zip(job.requests, answers, strict=True)
    ]
    write_jsonl(Path(job.output), gaps)
    return backend.reusable()


def _run_gap_line(path: str) -> bool:
    from tais.generate.worker import log_to

    job = GapJob.model_validate_json(Path(path).read_text(encoding="utf-8"))
    log_to(Path(job.log))
    print(f"tais gaps pid {os.getpid()}: {job.arm.target}", flush=True)
    return run_gap_job(job)


def main(argv: list[str]) -> int:
    from tais.generate.worker import serve_main

    return serve_main(MODULE, argv, _run_gap_line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
