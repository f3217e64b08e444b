"""Where an experiment's arms run: `local` (this machine, one engine process at a time) or
`ray` (side by side on a Ray cluster). Each lives in its own module, imported on demand."""

from __future__ import annotations

from tais.config.config import Executor as ExecutorName
from tais.generate.executors.base import ArmDone, ArmJob, Executor


def make_executor(name: ExecutorName, address: str | None = None) -> Executor:
    """The executor called `name`; `address` is the Ray cluster's (None: Ray's own default)."""
    if name == "ray":
        from tais.generate.executors.ray import RayExecutor

        return RayExecutor(address)
    from tais.generate.executors.local import LocalExecutor

    return LocalExecutor()


__all__ = ["ArmDone", "ArmJob", "Executor", "make_executor"]
