#!/usr/bin/env bash
# After re-running an experiment: are its reproducible artifacts byte for byte the committed
# ones? Everything under validation/<experiment>/ except volatile/ (timings, host, dates,
# engine counters) must be. Prints each differing file and exits 1 on any.
set -euo pipefail
experiment=${1:?usage: check_reproduced.sh EXPERIMENT}
dir="validation/$experiment"
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
