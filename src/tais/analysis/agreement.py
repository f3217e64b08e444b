"""Agreement between two judges' labels (by default keyword vs LLM refusal), from the records.

Works on the released per-sample records alone, so `verify` can re-derive it. The unit is a
distinct output: (item_id, output_sha256) within a task, so byte-identical outputs of several
arms count once (each was judged once). Per task: the 2x2 confusion table, Cohen's kappa with
its asymptotic CI (tais.analysis.stats.cohens_kappa), and the disagreeing outputs by item id and
output hash (never text). Outputs where either judge gave no usable label (None: an unparseable LLM
answer, or a question not asked) are counted as `excluded`, never dropped silently.

Also here: the judge provenance the records carry (model digest, prompt hashes) and the check
that one analysis never mixes judgements of two model digests.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from tais.analysis.stats import cohens_kappa
from tais.errors import DataError
from tais.records import Kind, Record, SampleRecord


class Disagreement(Record):
    """One output the two judges labelled differently: ids and hash only."""

    item_id: str
    output_sha256: str
    arms: list[str]
    label_a: bool
    label_b: bool


class Agreement(Record):
    """Agreement of judge_a and judge_b on `label` over the distinct outputs of one task.

    Cells: both (a and b say True), only_a (a True, b False), only_b (a False, b True), neither.
    kappa and its CI are None when undefined (no outputs, or both judges gave one and the same
    label to every output).
    """

    task: str
    kind: Kind
    judge_a: str
    judge_b: str
    label: str
    n: int
    both: int
    only_a: int
    only_b: int
    neither: int
    excluded: int
    observed_agreement: float | None
    kappa: float | None
    ci_low: float | None
    ci_high: float | None
    ci_level: float
    disagreements: list[Disagreement]


class UnparseableCount(Record):
    """Outputs whose `judge` labels say unparseable: all outputs and distinct outputs."""

    judge: str
    outputs: int
    unparseable_outputs: int
    distinct_outputs: int
    unparseable_distinct: int


def _label(record: SampleRecord, judge: str, label: str) -> tuple[bool, bool | None]:
    """(judge labelled this record, its boolean label or None when not usable)."""
    labels = record.labels.get(judge)
    if labels is None:
        return False, None
    value = labels.get(label)
    return True, value if isinstance(value, bool) else None


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def agreement(
    records: list[SampleRecord],
    judge_a: str = "keyword",
    judge_b: str = "ollama",
    label: str = "refused",
    alpha: float = 0.05,
) -> list[Agreement]:
    """Per (task, kind) agreement of two judges, sorted by task; tasks neither judge saw are
    left out. Raises DataError if one output carries two different labels from one judge."""
    units: dict[tuple[str, Kind], dict[tuple[str, str], list[SampleRecord]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in records:
        has_a, _ = _label(r, judge_a, label)
        has_b, _ = _label(r, judge_b, label)
        if has_a and has_b:
            units[(r.task, r.kind)][(r.item_id, r.output_sha256)].append(r)
    results = []
    for (task, kind), outputs in sorted(units.items()):
        cells = {"both": 0, "only_a": 0, "only_b": 0, "neither": 0}
        excluded = 0
        disagreements = []
        for (item_id, output_sha), group in sorted(outputs.items()):
            a_values = {_label(r, judge_a, label)[1] for r in group}
            b_values = {_label(r, judge_b, label)[1] for r in group}
            if len(a_values) > 1 or len(b_values) > 1:
                raise DataError(
                    f"item {item_id!r}: one output ({output_sha[:12]}) carries different "
                    f"{label!r} labels from one judge"
                )
            a, b = a_values.pop(), b_values.pop()
            if a is None or b is None:
                excluded += 1
                continue
            cell = "both" if a and b else "only_a" if a else "only_b" if b else "neither"
            cells[cell] += 1
            if a != b:
                disagreements.append(
                    Disagreement(
                        item_id=item_id,
                        output_sha256=output_sha,
                        arms=sorted({r.arm for r in group}),
                        label_a=a,
                        label_b=b,
                    )
                )
        n = sum(cells.values())
        kappa = low = high = None
        if n:
            table = [[cells["both"], cells["only_a"]], [cells["only_b"], cells["neither"]]]
            k, lo, hi = cohens_kappa(table, alpha=alpha)
            kappa, low, high = _finite(k), _finite(lo), _finite(hi)
        results.append(
            Agreement(
                task=task,
                kind=kind,
                judge_a=judge_a,
                judge_b=judge_b,
                label=label,
                n=n,
                **cells,
                excluded=excluded,
                observed_agreement=(cells["both"] + cells["neither"]) / n if n else None,
                kappa=kappa,
                ci_low=low,
                ci_high=high,
                ci_level=1.0 - alpha,
                disagreements=disagreements,
            )
        )
    return results


def unparseable_counts(records: list[SampleRecord]) -> list[UnparseableCount]:
    """Per judge whose labels carry `unparseable`: how many outputs it could not label."""
    outputs: dict[str, int] = defaultdict(int)
    bad: dict[str, int] = defaultdict(int)
    distinct: dict[str, set[tuple[str, str]]] = defaultdict(set)
    bad_distinct: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in records:
        for judge, labels in r.labels.items():
            if "unparseable" not in labels:
                continue
            unit = (r.item_id, r.output_sha256)
            outputs[judge] += 1
            distinct[judge].add(unit)
            if labels["unparseable"]:
                bad[judge] += 1
                bad_distinct[judge].add(unit)
    return [
        UnparseableCount(
            judge=j,
            outputs=outputs[j],
            unparseable_outputs=bad[j],
            distinct_outputs=len(distinct[j]),
            unparseable_distinct=len(bad_distinct[j]),
        )
        for j in sorted(outputs)
    ]


def judge_provenance(records: list[SampleRecord]) -> dict[str, dict[str, Any]]:
    """For environment.json: per judge whose labels carry a model digest, the models, digests
    and prompt-template hashes found in the records (each a sorted list of distinct values)."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in records:
        for judge, labels in r.labels.items():
            if "digest" not in labels:
                continue
            found[judge]["digests"].add(str(labels["digest"]))
            if "model" in labels:
                found[judge]["models"].add(str(labels["model"]))
            for question, sha in (labels.get("prompt_sha256") or {}).items():
                found[judge][f"prompt_sha256.{question}"].add(str(sha))
    provenance: dict[str, dict[str, Any]] = {}
    for judge, fields in sorted(found.items()):
        entry: dict[str, Any] = {
            "models": sorted(fields["models"]),
            "digests": sorted(fields["digests"]),
            "prompt_sha256": {},
        }
        for key, values in sorted(fields.items()):
            if key.startswith("prompt_sha256."):
                entry["prompt_sha256"][key.partition(".")[2]] = sorted(values)
        provenance[judge] = entry
    return provenance


def require_single_digest(records: list[SampleRecord]) -> dict[str, str]:
    """The one model digest of each digest-carrying judge; DataError if a judge has two (or
    two versions of one prompt template).

    An analysis must call this before using LLM labels: judgements of two model builds are
    two different judges and are never pooled.
    """
    digests: dict[str, str] = {}
    for judge, entry in judge_provenance(records).items():
        if len(entry["digests"]) > 1:
            shown = ", ".join(d[:12] for d in entry["digests"])
            raise DataError(
                f"judge {judge!r}: the records mix judgements from {len(entry['digests'])} "
                f"model digests ({shown}); re-judge with one model build"
            )
        for question, hashes in entry["prompt_sha256"].items():
            if len(hashes) > 1:
                raise DataError(
                    f"judge {judge!r}: the records mix {len(hashes)} versions of the "
                    f"{question!r} prompt template; re-judge with one"
                )
        digests[judge] = entry["digests"][0]
    return digests
