#!/usr/bin/env bash
# trove/debian-base: Debian bookworm (minbase + ca-certificates) made with debootstrap and
# imported, because no image registry is reachable. Skipped when an image built from the
# same inputs exists (its label trove.input-hash).
set -euo pipefail
cd "$(dirname "$0")"
IMAGE=trove/debian-base
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=ca-certificates
hash=$( { cat debian-base.sh; echo "$SUITE $MIRROR $INCLUDE"; } | sha256sum | cut -c1-16)
have=$(docker image inspect "$IMAGE" --format '{{index .Config.Labels "trove.input-hash"}}' 2>/dev/null || true)
if [ "$have" = "$hash" ]; then echo "[images] $IMAGE is up to date ($hash)"; exit 0; fi
start=$(date +%s)
root=$(mktemp -d /var/tmp/trove-debian-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -f "$root.log"
# Images carry no package lists or caches: apt-get update runs in the next build step.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import \
  -c "LABEL trove.input-hash=$hash" -c 'ENV LANG=C.UTF-8' -c 'CMD ["/bin/bash"]' - "$IMAGE:latest" >/dev/null
echo "[images] built $IMAGE ($hash) in $(( $(date +%s) - start )) s"
