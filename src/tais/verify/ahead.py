"""Verify's report files drawn ahead, from the STORED summary and acceptance report, in a forked
process while verify reads and re-derives the records.

Drawing costs about as much as re-deriving a small run, almost all in matplotlib, and depends
only on the summary, acceptance report, config and divergences. Verify uses a file drawn ahead
only when the model it re-derived is exactly the one drawn from (same repr: same types, every
float digit), so every figure is still checked against what the library derives from the
records; otherwise, or if anything went wrong here, it draws inline as it would without this.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel

from tais.analysis.acceptance import AcceptanceReport
from tais.analysis.summary import Summary
from tais.config.config import load_config
from tais.config.places import PublishPlaces
from tais.io import read_jsonl, read_text
from tais.records import Divergence
from tais.report.files import report_files, volatile_files


@dataclass(frozen=True)
class Drawn:
    """A run's files drawn from its stored models, with the repr of each model drawn from."""

    summary: str | None = None
    report: dict[str, str] | None = None
    acceptance: str | None = None
    volatile: dict[str, str] | None = None

    def report_for(self, derived: BaseModel) -> dict[str, str] | None:
        return self.report if self.summary == repr(derived) else None

    def volatile_for(self, derived: BaseModel) -> dict[str, str] | None:
        return self.volatile if self.acceptance == repr(derived) else None


NOTHING = Drawn()


def draw_stored(run_dir: Path) -> Drawn:
    """What can be drawn from run_dir's stored files; a part that fails is left out."""
    places = PublishPlaces(run_dir)
    summary = acceptance = None
    report = volatile = None
    # Any failure here is verify's to find and report, in its own words, when it draws inline.
    try:
        stored = Summary.model_validate_json(read_text(places.summary))
        divergences = read_jsonl(places.divergences, Divergence)
        report = report_files(load_config(places.config), stored, divergences)
        summary = repr(stored)
    except Exception:
        pass
    try:
        stored_acceptance = AcceptanceReport.model_validate_json(read_text(places.acceptance))
        volatile = volatile_files(stored_acceptance)
        acceptance = repr(stored_acceptance)
    except Exception:
        pass
    return Drawn(summary, report, acceptance, volatile)


def _serve(run_dirs: list[Path], out: Connection) -> None:
    # Ctrl-C is the parent's to handle: it stops this process on its way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Everything inherited from the parent stays out of this process's collections: walking
    # it would copy every page of the parent's heap.
    gc.freeze()
    try:
        for run_dir in run_dirs:
            out.send((str(run_dir), draw_stored(run_dir)))
    except Exception:  # the parent went away or stopped listening: nothing left to do
        pass
    finally:
        out.close()


class DrawAhead:
    """One forked process drawing every run in order, about a run ahead of what verify asks for.

    A context manager: leaving it stops the process, so none outlives verify. Without the
    "fork" start method (or if forking fails) every `get` answers NOTHING.
    """

    def __init__(self, run_dirs: list[Path]) -> None:
        self._incoming: Connection | None = None
        self._process: BaseProcess | None = None
        if not run_dirs or "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        incoming, outgoing = context.Pipe(duplex=False)
        try:
            process = context.Process(target=_serve, args=(run_dirs, outgoing), daemon=True)
            process.start()
        # No process (out of them, or this one is a daemon that may have none): draw inline.
        except Exception:
            incoming.close()
            return
        finally:
            outgoing.close()
        self._incoming, self._process = incoming, process

    def get(self, run_dir: Path) -> Drawn:
        """run_dir's drawing; the runs before it that nobody asked for are dropped."""
        while self._incoming is not None:
            try:
                name, drawn = self._incoming.recv()
            except Exception:  # the process died or sent garbage: draw the rest inline
                self.close()
                break
            if name == str(run_dir) and isinstance(drawn, Drawn):
                return drawn
        return NOTHING

    def close(self) -> None:
        if self._incoming is not None:
            self._incoming.close()
            self._incoming = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None

    def __enter__(self) -> DrawAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
