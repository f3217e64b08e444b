"""Compare a re-run's records with published ones, item by item, by output hash.

    python scripts/compare_records.py PUBLISHED/records.jsonl RERUN/records.jsonl

Lines are matched on (arm, item_id). For each arm it prints how many items have the same
output sha256 and the same token-ids sha256, then every item that differs or is in one file
only. Exits 1 on any difference. Needs the standard library only.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

Key = tuple[str, str]


def load(path: Path) -> dict[Key, tuple[str, str | None]]:
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        key = (record["arm"], record["item_id"])
        if key in found:
            sys.exit(f"{path}:{number}: arm {key[0]!r} item {key[1]!r} appears twice")
        found[key] = (record["output_sha256"], record.get("token_ids_sha256"))
    return found


def compare(published: Path, rerun: Path) -> int:
    a, b = load(published), load(rerun)
    per_arm: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    problems = []
    for key in sorted(a.keys() | b.keys()):
        arm, item_id = key
        counts = per_arm[arm]
        counts[2] += 1
        if key not in b:
            problems.append(f"{arm} {item_id}: only in {published}")
        elif key not in a:
            problems.append(f"{arm} {item_id}: only in {rerun}")
        else:
            counts[0] += a[key][0] == b[key][0]
            counts[1] += a[key][1] == b[key][1]
            if a[key] != b[key]:
                what = "output" if a[key][0] != b[key][0] else "token ids"
                problems.append(f"{arm} {item_id}: {what} differ")
    for arm, (text, tokens, total) in sorted(per_arm.items()):
        print(f"{arm}: {text}/{total} outputs identical, {tokens}/{total} token ids identical")
    for problem in problems:
        print(problem)
    print("identical" if not problems else f"{len(problems)} item(s) differ")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
