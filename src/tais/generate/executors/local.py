"""The default executor: the arms one at a time on this machine, in engine processes that
several arms share where the backend allows (tais.generate.worker_pool,
tais.generate.arms.run_arm). The first arm that fails stops the run; the next run resumes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tais.config.places import RunPlaces
from tais.generate.executors.base import ArmDone, ArmJob

if TYPE_CHECKING:
    from tais.generate.arms import GenerateProgress


class LocalExecutor:
    def run(
        self,
        jobs: list[ArmJob],
        places: RunPlaces,
        progress: GenerateProgress,
        arm_done: ArmDone,
    ) -> None:
        from tais.generate.arms import run_arm
        from tais.generate.worker_pool import WorkerPool

        with WorkerPool() as pool:
            for job in jobs:
                run_arm(job.job, places, job.items, progress, pool)
                arm_done(job)
