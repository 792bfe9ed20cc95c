#!/usr/bin/env bash
# Writes .env (the compose stack's secrets, git-ignored) from deploy.env.example with fresh
# random values for every CHANGE-ME. Leaves an existing .env alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -f .env ]; then echo "[make-env] .env exists: kept"; exit 0; fi
rand() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
key_id=k$(date +%Y%m%d)
umask 077
sed -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$(rand 16)/" \
    -e "s/^MARIADB_ROOT_PASSWORD=.*/MARIADB_ROOT_PASSWORD=$(rand 16)/" \
    -e "s/^TROVE_REGISTRY_PASSWORD=.*/TROVE_REGISTRY_PASSWORD=$(rand 16)/" \
    -e "s/^TROVE_SECRET_KEY=.*/TROVE_SECRET_KEY=$(rand 32)/" \
    -e "s|^TROVE_PAYLOAD_KEYS=.*|TROVE_PAYLOAD_KEYS=$key_id:$(head -c 32 /dev/urandom | base64 -w0)|" \
    -e "s/^TROVE_PAYLOAD_KEY_ID=.*/TROVE_PAYLOAD_KEY_ID=$key_id/" \
    -e "s/^TROVE_API_TOKENS=.*/TROVE_API_TOKENS=$(rand 16)=demo/" \
    -e "s/^TROVE_ADMIN_TOKENS=.*/TROVE_ADMIN_TOKENS=$(rand 16)/" \
    -e "s/^TROVE_CODEC_TOKEN=.*/TROVE_CODEC_TOKEN=$(rand 16)/" \
    -e "s/^NOVA_TOKEN=.*/NOVA_TOKEN=$(rand 16)/" \
    -e "s/^SWIFT_KEY=.*/SWIFT_KEY=$(rand 16)/" \
    deploy.env.example > .env
if grep -q "^[^#]*CHANGE-ME" .env; then echo "[make-env] a CHANGE-ME is left in .env" >&2; rm -f .env; exit 1; fi
echo "[make-env] wrote .env (mode 0600)"
