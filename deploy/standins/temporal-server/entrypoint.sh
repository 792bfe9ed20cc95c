#!/bin/sh
# As the official image's entrypoint: listen on the container's address unless told otherwise,
# and advertise it to the cluster's other members when listening on every address.
set -eu
: "${BIND_ON_IP:=$(hostname -i | cut -d' ' -f1)}"
export BIND_ON_IP
if [ "$BIND_ON_IP" = 0.0.0.0 ] || [ "$BIND_ON_IP" = "::0" ]; then
  : "${TEMPORAL_BROADCAST_ADDRESS:=$(hostname -i | cut -d' ' -f1)}"
  export TEMPORAL_BROADCAST_ADDRESS
fi
exec temporal-server --allow-no-auth start "$@"
