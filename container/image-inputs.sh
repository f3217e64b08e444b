#!/usr/bin/env bash
# The key of a CPU image's inputs (`make image-cpu` labels the image tais.inputs with it and
# reuses an image that carries the same key): the base reference, the commit, the image user's
# uid and the bytes of every file under PATHS that the build copies (tracked files and
# untracked ones git does not ignore: what the Dockerfile's COPY lines take).
#   usage: container/image-inputs.sh BASE COMMIT UID PATH...
set -euo pipefail
base=${1:?usage: image-inputs.sh BASE COMMIT UID PATH...}
commit=${2:?}
uid=${3:?}
shift 3
{
    printf 'base %s\ncommit %s\nuid %s\n' "$base" "$commit" "$uid"
    git ls-files -z --cached --others --exclude-standard -- "$@" | sort -zu \
        | while IFS= read -r -d '' path; do
            if [ -f "$path" ]; then sha256sum -- "$path"; fi
        done
} | sha256sum | cut -c1-16
