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
# workload.proto is loaded at run time from sidecar/workload/proto.
COPY --from=build /src/sidecar/workload/proto ./sidecar/workload/proto
COPY bin ./bin
# The uid the iptables rules exempt (--proxy-uid): the sidecar's own traffic
# is never redirected back to itself. The init container overrides it with
# runAsUser 0.
USER 1337:1337
ENTRYPOINT ["node", "/app/bin/spiffe-sidecar.js"]
CMD ["--help"]
