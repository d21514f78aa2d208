# syntax=docker/dockerfile:1
# spiffe-sidecar image: one image, three roles in a pod and one in the
# cluster (see docs/kubernetes.md):
#   spiffe-sidecar run        the sidecar itself (uid 1337)
#   spiffe-sidecar iptables   the init container's redirect rules (root, NET_ADMIN/NET_RAW)
#   spiffe-sidecar webhook    the injector
#
# Runtime base: node:24-bookworm-slim rather than distroless nodejs24,
# because the init container needs the iptables binaries (and their nft and
# legacy backends), which distroless cannot install. The same Debian release
# the tests run on, so the iptables the integration test exercises is the
# one in the image.

ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed to compile, and the "node"
# devDependency would otherwise download a second Node.js.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY sidecar ./sidecar
RUN npm run build && npm prune --omit=dev --ignore-scripts
# The original-destination addon of transparent mode (native/original-dst):
# plain cc, no node-gyp; the runtime stage takes only the .node file.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY native ./native
RUN ./native/original-dst/build.sh && test -f build/native/original_dst.node

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/native ./build/native
# No sources: bin/spiffe-sidecar.js runs the bundle dist/bin/main.js
# (bin/build.js; docs/decisions/019-bundled-entry-point.md). (The Workload
# API codec is compiled in; no .proto file is read at run time.)
COPY bin ./bin
# The bundle's V8 code cache (docs/decisions/020-bundle-compile-cache.md):
# Node keys it by uid, so it is made here as the uid that runs the sidecar,
# then handed back to root so the sidecar can read it but never rewrite its
# own code cache. The root roles (iptables, webhook) find no folder for
# their uid and simply compile.
RUN rm -rf dist/bin/compile-cache && install -d -o 1337 -g 1337 dist/bin/compile-cache
USER 1337:1337
RUN ["node", "/app/bin/build.js", "--warm-cache"]
USER root
RUN chown -R root:root dist/bin/compile-cache && chmod -R a+rX,go-w dist/bin/compile-cache
# The uid the iptables rules exempt (--proxy-uid): the sidecar's own traffic
# is never redirected back to itself. The init container overrides it with
# runAsUser 0.
USER 1337:1337
# SIDECAR_ENV of bin/node-flags.js (keep in sync): one malloc arena, read by
# glibc at process start. Harmless to the other roles.
ENV MALLOC_ARENA_MAX=1
# The V8 heap flags of bin/node-flags.js (keep in sync), given to node
# directly: the launcher would otherwise re-exec itself to add them to
# `run`, one more Node start-up. Not NODE_OPTIONS, which every node in the
# container would inherit (the injector's postStart readiness probe, a
# debugging `kubectl exec ... node`). The webhook and iptables roles run
# with them too; both stay far below these limits. docs/benchmarks.md,
# "Memory and start-up budget", has the measurements.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--max-old-space-size=96", "/app/bin/spiffe-sidecar.js"]
CMD ["--help"]
