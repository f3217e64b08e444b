"""One `tais run` per experiment at a time: an exclusive lock on runs/<experiment>.

Two runs appending to the same raw files interleave their lines and leave duplicate (arm, item)
records. The lock is the operating system's (filelock takes flock on POSIX), so the kernel
releases it when its holder dies: a killed run leaves no stale lock behind. filelock records no
owner, so the holder writes its PID beside the lock for the message the next run shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from tais.config.places import RunPlaces
from tais.errors import RunLockedError
from tais.io import atomic_write_text


def _holder(places: RunPlaces) -> str:
    try:
        pid = places.lock_holder.read_text(encoding="utf-8").strip()
    except OSError:
        pid = ""
    # Empty only in the instant between the holder taking the lock and writing its PID.
    return f"PID {pid}" if pid.isdigit() else "PID not yet recorded"


@contextmanager
def run_lock(places: RunPlaces) -> Iterator[None]:
    """Hold the experiment's lock for the block; raise RunLockedError at once if it is held."""
    places.root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(places.lock))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLockedError(
            f"{places.root} is in use by another `tais run` ({_holder(places)}); "
            "wait for it to finish, or stop it and run again (finished work is reused)"
        ) from None
    try:
        atomic_write_text(places.lock_holder, f"{os.getpid()}\n")
        yield
    finally:
        # Removed while still holding the lock, so it never names the next holder wrongly.
        places.lock_holder.unlink(missing_ok=True)
        lock.release()
