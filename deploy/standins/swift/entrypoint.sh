#!/bin/bash
# An all-in-one Swift (the shape of openstackswift/saio): one-replica rings, an account, a
# container and an object server on loopback, memcached for tempauth's tokens, and the proxy
# on :8080 with tempauth (v1.0) for the one account SWIFT_USER (account:user) / SWIFT_KEY.
# Rings and the hash suffix are made at first start and kept in /srv with the data.
# Same pipeline as scripts/stack/swift.ts (the test stack's Swift as processes).
set -euo pipefail
: "${SWIFT_USER:?SWIFT_USER (account:user) is required}" "${SWIFT_KEY:?SWIFT_KEY is required}"
account=${SWIFT_USER%%:*}
user=${SWIFT_USER#*:}
etc=/srv/etc
mkdir -p "$etc" /srv/node/d1 /var/run/swift /var/cache/swift
ports=(account:6012 container:6011 object:6010)
if [ ! -f "$etc/swift.conf" ]; then
  printf '[swift-hash]\nswift_hash_path_suffix = %s\nswift_hash_path_prefix = trove\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' \
    "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$etc/swift.conf.new"
  for kp in "${ports[@]}"; do
    kind=${kp%%:*} port=${kp#*:}
    swift-ring-builder "$etc/$kind.builder" create 6 1 1 >/dev/null
    swift-ring-builder "$etc/$kind.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
    swift-ring-builder "$etc/$kind.builder" rebalance >/dev/null || [ $? -eq 1 ] # 1: warning on a one-device ring
  done
  mv "$etc/swift.conf.new" "$etc/swift.conf"
fi
chown -R swift:swift /srv/node /var/run/swift /var/cache/swift
common() {
  printf '[DEFAULT]\nswift_dir = %s\ndevices = /srv/node\nmount_check = false\nbind_ip = %s\nbind_port = %s\nworkers = 0\nuser = swift\nlog_address = /dev/null-no-syslog\n\n' "$etc" "$1" "$2"
}
for kp in "${ports[@]}"; do
  kind=${kp%%:*} port=${kp#*:}
  { common 127.0.0.1 "$port"; printf '[pipeline:main]\npipeline = %s-server\n\n[app:%s-server]\nuse = egg:swift#%s\n' "$kind" "$kind" "$kind"; } > "$etc/$kind-server.conf"
done
umask 077
{
  common 0.0.0.0 8080
  printf '[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth copy slo dlo versioned_writes proxy-logging proxy-server\n\n'
  printf '[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n'
  printf '[filter:tempauth]\nuse = egg:swift#tempauth\nuser_%s_%s = %s .admin\n\n' "$account" "$user" "$SWIFT_KEY"
  printf '[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:11211\n\n'
  # Swift logs the first 16 characters of each token by default: none here.
  printf '[filter:proxy-logging]\nuse = egg:swift#proxy_logging\nreveal_sensitive_prefix = 0\n\n'
  for f in catch_errors gatekeeper healthcheck listing_formats copy slo dlo versioned_writes; do printf '[filter:%s]\nuse = egg:swift#%s\n\n' "$f" "$f"; done
} > "$etc/proxy-server.conf"
chown swift "$etc/proxy-server.conf"
umask 022
pids=()
memcached -l 127.0.0.1 -p 11211 -U 0 -m 32 -u memcache & pids+=($!)
for kind in account container object; do swift-$kind-server "$etc/$kind-server.conf" & pids+=($!); done
swift-proxy-server "$etc/proxy-server.conf" & pids+=($!)
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' TERM INT
# One part gone is the whole Swift gone: exit, and let the restart policy start it again.
wait -n
echo "a Swift process exited; stopping the rest" >&2
kill -TERM "${pids[@]}" 2>/dev/null || true
wait
exit 1
