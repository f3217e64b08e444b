#!/usr/bin/env bash
# After re-running an experiment: are its reproducible artifacts byte for byte the committed
# ones? Everything under validation/<experiment>/ except volatile/ (timings, host, dates,
# engine counters) must be. Prints each differing file and exits 1 on any.
# In a git checkout the committed bytes are git's. In the image (TAIS_IN_IMAGE=1), which holds
# no git metadata, they are the sha256 entries of the manifest as the image was built
# (TAIS_REFERENCE_MANIFEST; `tais run` rewrites manifest.yaml itself): every file must be listed
# there with its sha256, and every listed file must be there.
set -euo pipefail
experiment=${1:?usage: check_reproduced.sh EXPERIMENT}
dir="validation/$experiment"

if [ "${TAIS_IN_IMAGE:-}" = 1 ] && ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    reference=${TAIS_REFERENCE_MANIFEST:-}
    if [ -z "$reference" ] || [ ! -f "$reference" ]; then
        echo "NOT REPRODUCED: no git checkout and no reference manifest" \
            "(TAIS_REFERENCE_MANIFEST=${reference:-unset})" >&2
        exit 1
    fi
    python3 - "$dir" "$reference" <<'EOF'
import hashlib
import sys
from pathlib import Path

import yaml

folder, reference = Path(sys.argv[1]), Path(sys.argv[2])
prefix, volatile = f"{folder.as_posix()}/", f"{folder.as_posix()}/volatile/"


def reproducible(path: str) -> bool:
    return path.startswith(prefix) and not path.startswith(volatile)


entries = yaml.safe_load(reference.read_text(encoding="utf-8"))["files"]
expected = {e["path"]: e["sha256"] for e in entries if reproducible(e["path"])}
if not expected:
    sys.exit(f"NOT REPRODUCED: {folder} has no committed artifacts in {reference} to compare with")
present = {
    p.as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
    for p in sorted(folder.rglob("*"))
    if p.is_file() and reproducible(p.as_posix())
}
differ = [
    f"{'missing' if path not in present else 'not listed' if path not in expected else 'changed'}"
    f": {path}"
    for path in sorted(expected.keys() | present.keys())
    if expected.get(path) != present.get(path)
]
if differ:
    print(f"NOT REPRODUCED: these files of {folder} differ from {reference}:", file=sys.stderr)
    print("\n".join(differ), file=sys.stderr)
    sys.exit(1)
print(
    f"reproduced: every file of {folder} outside volatile/ equals the committed bytes "
    f"({len(expected)} files, sha256 from {reference})"
)
EOF
    exit
fi

if ! git ls-files --error-unmatch "$dir" >/dev/null 2>&1; then
    echo "NOT REPRODUCED: $dir has no committed artifacts to compare with" >&2
    exit 1
fi
changed=$(git status --porcelain --untracked-files=all -- "$dir" ":(exclude)$dir/volatile")
if [ -n "$changed" ]; then
    echo "NOT REPRODUCED: these files of $dir differ from the committed ones:" >&2
    echo "$changed" >&2
    git --no-pager diff --stat -- "$dir" ":(exclude)$dir/volatile" >&2
    exit 1
fi
echo "reproduced: every file of $dir outside volatile/ equals the committed bytes"
