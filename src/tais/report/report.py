"""report.md, rendered from the summary alone so that verify can re-render and compare it."""

from __future__ import annotations

from tais.analysis.agreement import Agreement
from tais.analysis.floor import ALL_TASKS
from tais.analysis.reproduction import reproduction_section
from tais.analysis.summary import ContrastResult, Identity, Summary
from tais.report.sweep import identity_section, pooled_section, sweep_section


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def _opt(x: float | int | None, fmt: str = "{}") -> str:
    return "-" if x is None else fmt.format(x)


def _of(k: int | None, n: int) -> str:
    return f"{_opt(k)}/{n}"


def _identical(identity: Identity) -> int:
    """Items alike by token ids, or by text bytes where token ids were not returned."""
    if identity.token_identical is not None:
        return identity.token_identical
    return identity.bytes_identical


def _constant(a: Agreement) -> list[tuple[str, bool]]:
    """(judge, label) for each judge that gave one and the same label to every output."""
    if a.n == 0:
        return []
    found = []
    for judge, yes, no in (
        (a.judge_a, a.both + a.only_a, a.only_b + a.neither),
        (a.judge_b, a.both + a.only_b, a.only_a + a.neither),
    ):
        if yes == 0 or no == 0:
            found.append((judge, no == 0))
    return found


def _kappa_cells(a: Agreement) -> tuple[str, str]:
    if _constant(a):
        # kappa is 0 (or undefined) by construction here; a number would look like a finding.
        return ("undefined" if a.kappa is None else "0 by construction"), "-"
    ci = "-" if a.ci_low is None else f"[{a.ci_low:.3f}, {a.ci_high:.3f}]"
    return _opt(a.kappa, "{:.3f}"), ci


def _constant_notes(summary: Summary) -> list[str]:
    notes = []
    for a in summary.agreement:
        for judge, value in _constant(a):
            said = a.label if value else f"not {a.label}"
            notes.append(
                f"- {a.task}: `{judge}` labels every one of the {a.n} outputs {said}, so "
                f"kappa is {_kappa_cells(a)[0]} and says nothing about agreement; the judges "
                f"give the same label to {_pct(a.observed_agreement or 0.0)} of the outputs."
            )
    return ["", *notes] if notes else []


def _judging_section(summary: Summary) -> list[str]:
    unparseable = {u.judge: u for u in summary.unparseable}
    lines = [
        "",
        "## Judging",
        "",
        "Each distinct output (item, output hash) is judged once; the other outputs are "
        "answered from the cache.",
        "",
        "| judge | outputs | distinct outputs (judged) | unparseable (distinct) | model digest |",
        "|---|---:|---:|---:|---|",
    ]
    for j in summary.judging:
        bad = unparseable.get(j.judge)
        digest = summary.judge_digests.get(j.judge)
        lines.append(
            f"| {j.judge} | {j.outputs} | {j.unique_outputs} | "
            f"{bad.unparseable_distinct if bad else '-'} | "
            f"{'`' + digest[:16] + '`' if digest else '-'} |"
        )
    excluded = [r for r in summary.rates if r.excluded]
    for r in excluded:
        lines.append(
            f"\n{r.arm}, {r.task}: {r.excluded} output(s) without a usable label left out."
        )
    if summary.agreement:
        lines += [
            "",
            "### Agreement between judges (refusal label, distinct outputs)",
            "",
            "| task | judges | n | both | only first | only second | neither | excluded | "
            f"kappa | {100 * (1 - summary.alpha):.0f}% CI | disagreeing items |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for a in summary.agreement:
            ids = ", ".join(d.item_id for d in a.disagreements) or "-"
            kappa, ci = _kappa_cells(a)
            lines.append(
                f"| {a.task} | {a.judge_a} / {a.judge_b} | {a.n} | {a.both} | {a.only_a} | "
                f"{a.only_b} | {a.neither} | {a.excluded} | {kappa} | {ci} | {ids} |"
            )
        lines += _constant_notes(summary)
    return lines


def _scores_section(summary: Summary) -> list[str]:
    if not summary.scores:
        return []
    lines = [
        "",
        "## Capability scores",
        "",
        "BBQ bias score (Parrish et al. 2022; -1 to 1, 0 is unbiased) and TruthfulQA MC1/MC2 "
        "(Lin et al. 2022). Method `logprob`: options scored by the target's log-probabilities; "
        "`letter`: from the generated answer letter. Reported, not gated.",
        "",
        "| pair | arm | task | metric | method | n | value |",
        "|---|---|---|---|---|---:|---:|",
    ]
    for s in summary.scores:
        lines.append(
            f"| {s.pair} | {s.arm} | {s.task} | {s.metric} | {s.method} | {s.n} | "
            f"{_opt(s.value, '{:.4f}')} |"
        )
    if summary.score_diffs:
        lines += [
            "",
            "| contrast | task | metric | n | A | B | B - A | items on identical basis |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for d in summary.score_diffs:
            same = "-" if d.items_identical is None else f"{d.items_identical}/{d.n}"
            lines.append(
                f"| {d.a} vs {d.b} | {d.task} | {d.metric} | {d.n} | "
                f"{_opt(d.value_a, '{:.4f}')} | {_opt(d.value_b, '{:.4f}')} | "
                f"{_opt(d.diff, '{:+.4f}')} | {same} |"
            )
    return lines


def _verdict_cell(c: ContrastResult) -> str:
    return f"**{c.verdict}**" if c.gated else f"{c.verdict} (not gated)"


def _labelled_by(summary: Summary) -> str:
    parts = [f"refusals labelled by the `{summary.refusal_judge}` judge"]
    if summary.capability_judge != "multiple_choice":
        parts.append(f"answers by `{summary.capability_judge}`")
    if any(r.kind == "scored" for r in summary.rates):
        parts.append(f"scores by `{summary.score_judge}`")
    return ", ".join(parts)


def render_report(summary: Summary) -> str:
    level = f"{100 * (1 - 2 * summary.alpha):.0f}%"
    v = summary.verdict
    not_gated = (
        f" {v.n_not_gated} further contrast(s) are reported and not gated: they are marked "
        "`not gated` and do not enter the verdict."
        if v.n_not_gated
        else ""
    )
    verdict = (
        f"**Verdict: {v.verdict}** ({v.n_pass} of {v.n_contrasts} contrasts pass, "
        f"{v.n_fail} fail, {v.n_inconclusive} inconclusive).{not_gated}"
        if summary.contrasts
        else "**Absolute rates only, not a screen pass.** No arm is contrasted with another "
        "(the experiment has no target-only arm), so there is no screen verdict "
        f"(`{v.verdict}` in summary.json); the rates below stand alone."
    )
    lines = [
        f"# TAIS report: {summary.experiment}",
        "",
        verdict,
        "",
        f"Equivalence margin +/-{100 * summary.margin:.1f} pp (TOST, alpha {summary.alpha}, "
        f"{level} CI, method `{summary.method}`); Cohen's h cutoff {summary.h_cutoff}; "
        f"{_labelled_by(summary)}; "
        f"config sha256 `{summary.config_sha256[:16]}`.",
    ]
    lines[4:4] = _identity_verdict_lines(summary)
    lines += reproduction_section(summary)
    lines += _floor_section(summary)
    lines += _contrasts_section(summary)
    lines += [
        "",
        "## Rates",
        "",
        "| pair | arm | task | metric | k / n | rate | Wilson 95% CI |",
        "|---|---|---|---|---:|---:|---|",
    ]
    for r in summary.rates:
        lines.append(
            f"| {r.pair} | {r.arm} | {r.task} | {r.metric} | {r.k} / {r.n} | {_pct(r.rate)} | "
            f"[{_pct(r.ci_low)}, {_pct(r.ci_high)}] |"
        )
    lines += sweep_section(summary)
    lines += pooled_section(summary)
    lines += _scores_section(summary)
    lines += [
        "",
        "## Arms",
        "",
        "Speed and acceptance are measurements no re-run reproduces exactly: they are in "
        "`volatile/performance.md`.",
        "",
        "| arm | pair | speculation | items | tokens |",
        "|---|---|---|---:|---:|",
    ]
    for a in summary.arms:
        lines.append(f"| {a.arm} | {a.pair} | {a.speculative} | {a.n_items} | {a.n_tokens} |")
    lines += _judging_section(summary)
    lines.append("")
    return "\n".join(lines)


def _identity_verdict_lines(summary: Summary) -> list[str]:
    """Beside the rate verdict: an arm that rewrites outputs without moving a rate must not
    pass unseen, so a FAIL here is the report's first word after the title."""
    iv = summary.identity_verdict
    if iv is None:
        return []
    if iv.verdict == "FAIL":
        worst = next(c for c in summary.floor if c.contrast == iv.worst and c.task == ALL_TASKS)
        head = (
            f"**Identity verdict: FAIL. Speculation changed outputs beyond the numerics floor** "
            f"in {iv.n_beyond_floor} of {iv.n_contrasts} contrasts; worst "
            f"{worst.contrast.replace('~', ' vs ')}: {worst.sentence}."
        )
    elif iv.verdict == "PASS":
        head = (
            f"**Identity verdict: PASS**: in each of the {iv.n_contrasts} contrasts, what "
            "speculation changed is not distinguishable from what batching alone changes."
        )
    else:
        head = (
            f"**Identity verdict: INCONCLUSIVE**: {iv.n_no_floor} of {iv.n_contrasts} "
            "contrasts have no floor arm to hold speculation to."
        )
    return [head, ""]


def _floor_section(summary: Summary) -> list[str]:
    if not summary.floor:
        return []
    level = f"{100 * summary.floor[0].ci_level:.0f}%"
    lines = [
        "",
        "## Speculation against the numerics floor",
        "",
        "Changed: items whose outputs differ from the contrast's reference (token ids). The "
        "floor arms run the reference target-only arm again without speculating, with other "
        "batching; `excess` counts items changed by speculation and by no floor arm (Wilson "
        f"{level} interval); McNemar compares changed-under-speculation with "
        "changed-under-the-floor on the same items (Holm over the gated contrasts' `*` rows, "
        "a family of its own). `*`: every task.",
        "",
        f"| contrast | task | n | changed | floor arms: changed | floor (any) | overlap | "
        f"excess | excess {level} CI | McNemar p | Holm p | identity verdict |",
        "|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for c in summary.floor:
        floors = ", ".join(f"{f.arm}: {f.changed}" for f in c.floor_arms) or "none"
        gated = "" if c.gated else " (not gated)"
        lines.append(
            f"| {c.contrast.replace('~', ' vs ')} | {c.task} | {c.n} | {c.changed} | {floors} | "
            f"{c.floor_changed} | {c.overlap} | {c.excess} | "
            f"[{_pct(c.excess_ci_low)}, {_pct(c.excess_ci_high)}] | {c.mcnemar_p:.3g} | "
            f"{_opt(c.holm_p, '{:.3g}')} | {c.verdict or '-'}{gated} |"
        )
    lines += ["", "### In words", ""]
    for c in summary.floor:
        if c.task == ALL_TASKS:
            lines.append(f"- {c.contrast.replace('~', ' vs ')}: {c.sentence}.")
    return lines


def _contrasts_section(summary: Summary) -> list[str]:
    if not summary.contrasts:
        return []
    level = f"{100 * (1 - 2 * summary.alpha):.0f}%"
    lines = [
        "",
        "## Contrasts",
        "",
        "| contrast | task | metric | n | rate A | rate B | diff (pp) | "
        f"{level} CI (pp) | h | McNemar p | Holm p | MDE (pp) | tokens identical | "
        "bytes identical | verdict |",
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in summary.contrasts:
        lines.append(
            f"| {c.a} vs {c.b} | {c.task} | {c.metric} | {c.n} | {_pct(c.rate_a)} | "
            f"{_pct(c.rate_b)} | {_pp(c.diff)} | [{_pp(c.ci_low)}, {_pp(c.ci_high)}] | "
            f"{c.cohens_h:+.3f} | {c.mcnemar_p:.3g} | {c.holm_p:.3g} | {100 * c.mde:.1f} | "
            f"{_of(c.identity.token_identical, c.identity.n)} | "
            f"{c.identity.bytes_identical}/{c.identity.n} | {_verdict_cell(c)} |"
        )
    if any(c.kind == "scored" for c in summary.contrasts):
        lines += [
            "",
            "Metric `score`: the rate is the mean of a judge's scores in [0, 1] (0.5 included); "
            "a contrast's difference is the paired difference of mean scores, its interval "
            "the same paired interval on the fractional paired table (conservative where "
            "scores are 0.5), and McNemar's test the sign test on items whose score moved.",
        ]
    lines += ["", "### Reasons", ""]
    for c in summary.contrasts:
        lines.append(
            f"- {c.a} vs {c.b}, {c.task}: {_verdict_cell(c).replace('**', '')}. "
            + "; ".join(c.reasons)
            + "."
        )
    lines += ["", "### Where outputs differ", ""]
    differing = [c for c in summary.contrasts if _identical(c.identity) < c.identity.n]
    if not differing and all(c.identity.token_identical is not None for c in summary.contrasts):
        lines.append("Every paired output is token-for-token identical.")
    elif not differing:
        lines.append(
            "Every paired output is identical (byte for byte where no token ids came back)."
        )
    for c in differing:
        ident = c.identity
        lines.append(
            f"- {c.a} vs {c.b}, {c.task}: {ident.n - _identical(ident)} of {ident.n} differ"
            f"{'' if ident.token_identical is not None else ' (text bytes; no token ids)'}; "
            f"first diverging token min {_opt(ident.first_diverging_token_min)}, "
            f"median {_opt(ident.first_diverging_token_median, '{:.1f}')}; "
            f"mean share of bytes changed {_opt(ident.bytes_changed_share_mean, '{:.3f}')}."
        )
    return lines + identity_section(summary)
