"""The `ray` executor: arms side by side on a Ray cluster, as its GPUs and CPUs allow.

Each arm is one Ray generator task holding what its engine needs: `tensor_parallel_size` GPUs
on one node when the cluster has GPUs, else one CPU. The task streams each finished chunk back
and this process, the driver, writes runs/, so the nodes share no file system with it and a
rerun resumes exactly as a local one does: from the chunks on the driver's disk. A lost worker
or a killed driver leaves whole chunks only (a chunk is written on arrival, generations first).

A task is not retried by Ray: an arm that fails is reported with its node and the reason once
the other arms have ended, and the next run resumes it. Worker nodes need the same tais and
engine installed, and local model folders at the same paths (or hub ids): a task changes to the
driver's working directory where that exists, so relative paths in a config resolve alike.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tais.config.config import arm_tensor_parallel
from tais.config.places import RunPlaces
from tais.errors import ConfigError, EngineError, TaisError
from tais.generate.executors.base import ArmDone, ArmJob
from tais.records import ChunkStat, Item

if TYPE_CHECKING:
    from tais.generate.arms import GenerateProgress, Job
    from tais.generate.worker import ArmEnded, ChunkDone

# Passed on to every task: what `tais run` sets for its own engine processes.
WORKER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
WAIT_S = 0.5


@dataclass(frozen=True)
class Placed:
    """Where an arm's task runs: the first thing it sends."""

    host: str
    ip: str
    pid: int

    def label(self) -> str:
        return f"node {self.host} ({self.ip}), worker process {self.pid}"


def arm_task(
    job: Job, items: list[Item], done: list[int], cwd: str
) -> Iterator[Placed | ChunkDone | ArmEnded]:
    """Runs on a worker node: the arm's unfinished chunks, streamed back as generated."""
    import ray

    from tais.generate.worker import arm_events

    if Path(cwd).is_dir():
        os.chdir(cwd)
    ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    yield Placed(socket.gethostname(), ip, os.getpid())
    # A backend that starts a server logs it here, on the worker's own disk.
    with tempfile.TemporaryDirectory(prefix=f"tais-{job.arm.name}-") as logs:
        yield from arm_events(job, items, set(done), Path(logs))


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the ray executor needs Ray: install the `ray` extra (pip install -e '.[ray]'; "
            "`make setup` includes it)"
        ) from None
    return ray


def _reason(exc: BaseException) -> str:
    """What went wrong, without the worker's traceback when it is one of ours."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, TaisError):
        return str(cause)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass
class _Arm:
    """The driver's side of one arm: the chunks on disk, and where its task runs."""

    job: ArmJob
    places: RunPlaces
    done: dict[int, ChunkStat] = field(default_factory=dict)
    resumed: bool = False
    placed: Placed | None = None

    @property
    def name(self) -> str:
        return self.job.arm

    def items_done(self) -> int:
        return sum(stat.n_items for stat in self.done.values())

    def take(self, event: Placed | ChunkDone | ArmEnded, progress: GenerateProgress) -> bool:
        """Keep one event of the task; True once the arm's ArmRun is written."""
        from tais.generate.worker import ArmEnded, ChunkDone, save_chunk, write_arm_run

        if isinstance(event, Placed):
            self.placed = event
            log = self.places.log(self.name)
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(
                    f"arm {self.name} runs on Ray {event.label()}; its engine's output is in "
                    "that node's Ray logs\n"
                )
        elif isinstance(event, ChunkDone):
            if event.stat.chunk not in self.done:
                save_chunk(self.places, self.name, event)
                self.done[event.stat.chunk] = event.stat
            progress.arm_advanced(self.name, self.items_done())
        elif isinstance(event, ArmEnded):
            stats = [self.done[i] for i in sorted(self.done)]
            write_arm_run(
                self.job.job, self.places, stats, event.versions, event.startup_s, self.resumed
            )
            return True
        return False

    def failure(self, exc: BaseException) -> str:
        where = self.placed.label() if self.placed else "a Ray worker (before it reported its node)"
        return f"arm {self.name} on {where}: {_reason(exc)}"


def _gpus_per_node(ray: Any) -> float:
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return max((float(n.get("Resources", {}).get("GPU", 0)) for n in nodes), default=0.0)


def _resources(job: Job, gpus_per_node: float, address: str) -> dict[str, float]:
    """One CPU; on a cluster with GPUs, an engine of tensor_parallel_size GPUs on one node."""
    size = arm_tensor_parallel(job.arm, job.engine)
    if job.arm.endpoint is not None:
        return {"num_cpus": 1}  # the server is elsewhere
    if size > gpus_per_node > 0 or (size > 1 and gpus_per_node == 0):
        raise ConfigError(
            f"arm {job.arm.name}: tensor_parallel_size {size} needs {size} GPUs on one node; "
            f"the Ray cluster at {address} has at most {gpus_per_node:g} on a node"
        )
    if gpus_per_node > 0:
        return {"num_cpus": 1, "num_gpus": size}
    return {"num_cpus": 1}


class RayExecutor:
    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def run(
        self,
        jobs: list[ArmJob],
        places: RunPlaces,
        progress: GenerateProgress,
        arm_done: ArmDone,
    ) -> None:
        from tais.generate.arms import battery_chunks, recover_arm

        arms: list[_Arm] = []
        for job in jobs:
            arm = _Arm(job, places, recover_arm(places, job.arm))
            arm.resumed = bool(arm.done)
            total = len(battery_chunks(job.items, job.job.engine.batch_size))
            if len(arm.done) == total and places.arm_run(job.arm).exists():
                progress.arm_finished(job.arm, skipped=True)
                arm_done(job)
            else:
                arms.append(arm)
        if not arms:
            return
        ray = _ray()
        env = {key: os.environ.get(key, default) for key, default in WORKER_ENV.items()}
        try:
            ray.init(
                address=self.address,
                log_to_driver=False,
                logging_level=logging.WARNING,
                runtime_env={"env_vars": env},
            )
        except Exception as exc:  # Ray raises many types; its message names the problem
            where = self.address or "this machine"
            raise EngineError(f"cannot start or reach a Ray cluster at {where}: {exc}") from exc
        try:
            failures = self._run(ray, arms, progress, arm_done)
        finally:
            ray.shutdown()
        if failures:
            raise EngineError(
                f"{len(failures)} of {len(arms)} arm(s) failed on the Ray cluster; run again "
                "to resume them from their last whole chunk:\n" + "\n".join(failures)
            )

    def _run(
        self, ray: Any, arms: list[_Arm], progress: GenerateProgress, arm_done: ArmDone
    ) -> list[str]:
        gpus = _gpus_per_node(ray)
        where = self.address or "this machine"
        options = [_resources(arm.job.job, gpus, where) for arm in arms]
        # One arm per Ray worker process: on CPU the engine runs inside the process, and some
        # engines (an n-gram drafter's) leave it unable to start another.
        task = ray.remote(max_retries=0, max_calls=1)(arm_task)
        running: dict[Any, _Arm] = {}
        for arm, resources in zip(arms, options, strict=True):
            progress.arm_started(arm.name, len(arm.job.items), arm.items_done())
            stream = task.options(**resources).remote(
                arm.job.job, arm.job.items, sorted(arm.done), os.getcwd()
            )
            running[stream] = arm
        # Should this process stop, ray.shutdown() ends the job and Ray its tasks with it.
        failures: list[str] = []
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_S)
            for stream in ready:
                arm = running[stream]
                try:
                    event = ray.get(next(stream))
                except StopIteration:
                    del running[stream]
                    continue
                except Exception as exc:  # the task's own error, or a lost worker or node
                    failures.append(arm.failure(exc))
                    del running[stream]
                    continue
                if arm.take(event, progress):
                    del running[stream]
                    progress.arm_finished(arm.name, skipped=False)
                    arm_done(arm.job)
        return failures
