"""Arms shared between experiments: each arm's outputs are kept once, under a content key.

An arm's outputs depend on its engine settings, its models' bytes (or hub id and revision) and
its items, not on the names an experiment gives it. `runs/_arms/<key>/` holds the outputs of
the first experiment that generated an arm with that key; every later experiment listing an
arm with the same key copies them in under its own arm and pair names instead of generating
them again (E2, E3, E4 and E5 all list the canonical seed-123 arms). The folder's name starts
with `_`, which no experiment name can, so it never collides with `runs/<experiment>/`.

Copies, not links: each experiment's runs/ folder stays self-contained for `verify --deep`
and for resuming, and its records carry its own arm names.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tais.config.config import Strict
from tais.config.places import RunPlaces
from tais.io import atomic_write_text, read_jsonl, write_jsonl
from tais.records import ArmRun, ChunkStat, Generation

FOLDER = "_arms"


class Origin(Strict):
    """Which experiment generated the stored arm, under which arm name."""

    experiment: str
    arm: str

    def label(self) -> str:
        return f"{self.experiment}/{self.arm}"


@dataclass(frozen=True)
class ArmStore:
    root: Path

    @classmethod
    def in_runs(cls, runs_dir: Path) -> ArmStore:
        return cls(runs_dir / FOLDER)

    def folder(self, key: str) -> Path:
        return self.root / key

    def has(self, key: str) -> bool:
        # arm.json is renamed in last of all, with the whole folder.
        return (self.folder(key) / "arm.json").is_file()

    def origin(self, key: str) -> Origin:
        return Origin.model_validate_json((self.folder(key) / "origin.json").read_text())

    def put(self, key: str, places: RunPlaces, arm: str, experiment: str) -> None:
        """Keep a finished arm of `places` under `key`, unless the key is already kept."""
        if self.has(key):
            return
        staging = self.root / f".{key}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copyfile(places.generations(arm), staging / "generations.jsonl")
        shutil.copyfile(places.chunks(arm), staging / "chunks.jsonl")
        shutil.copyfile(places.arm_run(arm), staging / "arm.json")
        origin = Origin(experiment=experiment, arm=arm)
        atomic_write_text(staging / "origin.json", origin.model_dump_json(indent=2) + "\n")
        try:
            staging.rename(self.folder(key))
        except OSError:
            # Another experiment kept the same arm first; its outputs are the same arm's.
            shutil.rmtree(staging, ignore_errors=True)

    def fetch(
        self,
        key: str,
        places: RunPlaces,
        arm: str,
        pair: str,
        fingerprint: str,
        engine: dict[str, Any],
    ) -> Origin:
        """Copy the stored arm into `places` as arm `arm` of pair `pair`.

        The copy is what generating the arm here would have written: the records and the
        ArmRun carry this experiment's names, fingerprint and resolved engine settings; only
        the measurements (timings, counters) and `reused_from` tell that it was not.
        """
        folder = self.folder(key)
        origin = self.origin(key)
        gens = read_jsonl(folder / "generations.jsonl", Generation)
        stats = read_jsonl(folder / "chunks.jsonl", ChunkStat)
        stored = ArmRun.model_validate_json((folder / "arm.json").read_text())
        write_jsonl(
            places.generations(arm), [g.model_copy(update={"arm": arm, "pair": pair}) for g in gens]
        )
        write_jsonl(places.chunks(arm), stats)
        run = stored.model_copy(
            update={
                "arm": arm,
                "pair": pair,
                "fingerprint": fingerprint,
                "engine": engine,
                "reused_from": origin.label(),
            }
        )
        atomic_write_text(places.arm_run(arm), run.model_dump_json(indent=2) + "\n")
        return origin
