"""The interface every executor implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tais.config.places import RunPlaces
from tais.records import Item

if TYPE_CHECKING:
    from tais.generate.arms import GenerateProgress, Job


@dataclass(frozen=True)
class ArmJob:
    """One arm to generate: the job an engine process is given, and the arm's items."""

    job: Job
    items: list[Item]

    @property
    def arm(self) -> str:
        return self.job.arm.name


# Called with each arm as soon as its ArmRun is on disk.
ArmDone = Callable[[ArmJob], None]


class Executor(Protocol):
    def run(
        self,
        jobs: list[ArmJob],
        places: RunPlaces,
        progress: GenerateProgress,
        arm_done: ArmDone,
    ) -> None:
        """Generate every job's unfinished chunks into `places` (this process writes runs/)
        and its ArmRun; raise EngineError for the arms that failed."""
        ...
