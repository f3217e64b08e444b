#!/usr/bin/env bash
# A Debian bookworm base image without a registry: debootstrap's minbase (what
# debian:bookworm-slim is made from) from the Debian mirror apt already uses, imported into the
# container engine under a local name. `make base-cpu` runs it; `make image-cpu BASE_IMAGE=NAME`
# then builds on it instead of pulling debian:bookworm-slim.
#   usage: container/make-base.sh NAME [MIRROR]     (as root: debootstrap needs it)
set -euo pipefail
name=${1:?usage: make-base.sh NAME [MIRROR]}
container=${CONTAINER:-podman}
# The first deb mirror apt is configured with (deb822 .sources or one-line sources.list).
mirror=${2:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
rootfs=$(mktemp -d "${TMPDIR:-/tmp}/tais-base.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# The host's options for reaching its mirror (Acquire::..., e.g. Check-Valid-Until off for a
# snapshot mirror) go along, so apt-get in the build reads the mirror as the host does.
for conf in $(grep -l '^Acquire::' /etc/apt/apt.conf.d/* 2>/dev/null || true); do
    cp "$conf" "$rootfs/etc/apt/apt.conf.d/"
done
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | "$container" import - "$name" >/dev/null
echo "imported $name: $("$container" image inspect --format '{{.Id}}' "$name")"
