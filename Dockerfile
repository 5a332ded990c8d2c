# kvsync's container image. Two stages: `build` compiles TypeScript with the dev dependencies;
# the final stage holds only dist/ and the production dependencies, runs as a numeric non-root
# user and needs no writable path in the root filesystem (run it with readOnlyRootFilesystem).
# BASE_IMAGE is a build argument so a mirrored or locally built Node 24 image can stand in
# (scripts/build-image.sh builds one with podman when no registry is reachable).
ARG BASE_IMAGE=node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: nothing kvsync builds with needs an install script, and none should run here.
# Secret build_ca (optional): extra CA certificates for a TLS-intercepting egress proxy in front of
# the npm registry; it is mounted for this step only and never lands in a layer.
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=secret,id=build_ca,required=false \
    if [ -s /run/secrets/build_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build_ca; fi \
 && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${BASE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, without type declarations and source maps (half of node_modules,
# never loaded at run time); the passwd entry names uid 65532 for tools that look it up.
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=secret,id=build_ca,required=false \
    if [ -s /run/secrets/build_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build_ca; fi \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \
 && echo 'kvsync:x:65532:65532:kvsync:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'kvsync:x:65532:' >> /etc/group
COPY --from=build /src/dist ./dist
# Set after npm ci, whose cache must stay in the build cache mount and out of the image. A home
# for libraries that look for one; /tmp is the only writable path (an emptyDir in the chart).
ENV HOME=/tmp
# Last, so a new commit (REVISION) does not invalidate the dependency layer above.
ARG VERSION=dev
ARG REVISION=unknown
# Where the source is published; set by the release pipeline.
ARG SOURCE_URL=""
ARG BASE_IMAGE
LABEL org.opencontainers.image.title="kvsync" \
      org.opencontainers.image.description="Kubernetes operator that syncs Azure Key Vault secrets and certificates into Kubernetes Secrets" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# Metrics and health (flags --metrics-address, --health-address).
EXPOSE 8080 8081
# V8's young generation kept small and its memory-saving mode with 30% room to grow the old
# generation, no mid-tier (Maglev) compiler, and client-node's generated API modules left
# unloaded: peak RSS near the live heap (docs/benchmarks.md). The benchmark and the tests run
# kvsync with the same options (test/support/kvsync-process.ts).
ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "--heap-growing-percent=30", "--no-maglev", "--import=./dist/runtime/slim-client-node.js", "dist/main.js"]
