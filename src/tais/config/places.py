"""Where each stage reads and writes. runs/ holds raw text and is never released."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunPlaces:
    root: Path

    @classmethod
    def for_experiment(cls, runs_dir: Path, experiment: str) -> RunPlaces:
        return cls(runs_dir / experiment)

    @property
    def battery(self) -> Path:
        return self.root / "battery.jsonl"

    @property
    def lock(self) -> Path:
        return self.root / "run.lock"

    @property
    def lock_holder(self) -> Path:
        return self.root / "run.lock.pid"

    def arm_battery(self, arm: str) -> Path:
        """The items of an arm that runs on a subset of the battery."""
        return self.root / "batteries" / f"{arm}.jsonl"

    def generations(self, arm: str) -> Path:
        return self.root / "generations" / f"{arm}.jsonl"

    def chunks(self, arm: str) -> Path:
        return self.root / "generations" / f"{arm}.chunks.jsonl"

    def fingerprint(self, arm: str) -> Path:
        return self.root / "generations" / f"{arm}.fingerprint"

    def job(self, arm: str) -> Path:
        return self.root / "jobs" / f"{arm}.json"

    def arm_run(self, arm: str) -> Path:
        return self.root / "arms" / f"{arm}.json"

    def log(self, arm: str) -> Path:
        return self.root / "logs" / f"{arm}.log"

    def judgements(self, judge: str) -> Path:
        return self.root / "judgements" / f"{judge}.jsonl"


VOLATILE = "volatile"


@dataclass(frozen=True)
class PublishPlaces:
    root: Path

    @property
    def records(self) -> Path:
        return self.root / "records.jsonl"

    @property
    def divergences(self) -> Path:
        return self.root / "divergences.jsonl"

    @property
    def arms(self) -> Path:
        return self.root / "arms.jsonl"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def battery(self) -> Path:
        return self.root / "battery.json"

    # Below: what a re-run cannot reproduce (timings, host, dates, engine counters). Everything
    # outside volatile/ must come out byte for byte the same from the same code and inputs.
    @property
    def volatile(self) -> Path:
        return self.root / VOLATILE

    @property
    def performance(self) -> Path:
        return self.volatile / "arms.jsonl"

    @property
    def performance_report(self) -> Path:
        return self.volatile / "performance.md"

    @property
    def item_counters(self) -> Path:
        return self.volatile / "item_counters.jsonl"

    @property
    def acceptance(self) -> Path:
        return self.volatile / "acceptance.json"

    @property
    def environment(self) -> Path:
        return self.volatile / "environment.json"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"
