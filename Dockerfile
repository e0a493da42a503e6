# certrotor worker image.
#
#   docker build -t certrotor:0.1.0 .
#   docker run --rm -v "$PWD/certrotor.yaml:/etc/certrotor/certrotor.yaml:ro" -e REDIS_URL=... certrotor:0.1.0
#
# Two stages: `build` compiles TypeScript with the dev dependencies; `runtime` holds only the production
# dependencies, the compiled dist/ and bin/, and runs as an unprivileged numeric user. Nothing secret is
# copied in: config, keys and tokens arrive at run time (mounted file, environment, the secret stores).
#
# Node 22 (maintenance LTS) by default: Node 20 reached end of life in April 2026 and a TLS-heavy process
# should get OpenSSL fixes. `--build-arg NODE_IMAGE=node:20-bookworm-slim@sha256:…` builds on the version
# CI runs. Pinned by digest (the multi-arch index), so a moved tag never changes what is built; refresh it
# on purpose: `docker buildx imagetools inspect node:22-bookworm-slim` prints the current digest.
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c

# ---------------------------------------------------------------- build: compile with dev dependencies
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: compiling needs no install scripts (native extras like msgpackr-extract are optional).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
RUN npm run build

# ---------------------------------------------------------------- runtime: production dependencies only
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="certrotor" \
      org.opencontainers.image.description="Rotates the mTLS client certificates of bank API credentials" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    CERTROTOR_CONFIG=/etc/certrotor/certrotor.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY bin ./bin
COPY --from=build /src/dist ./dist
# A numeric non-root user (Kubernetes runAsNonRoot can verify a number, not a name). /etc/certrotor holds
# the mounted config; /var/lib/certrotor is the one writable place (stateDir for `rotate --inline`, the
# sandbox's --out); the application files stay owned by root, so the process cannot change them.
RUN groupadd --system --gid 10001 certrotor \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/certrotor --shell /usr/sbin/nologin certrotor \
 && mkdir -p /etc/certrotor /var/lib/certrotor \
 && chown 10001:10001 /var/lib/certrotor
USER 10001:10001
# worker.port: /healthz, /readyz and /metrics
EXPOSE 9464
# Node's own fetch: no curl in the image. CERTROTOR_HEALTH_PORT follows a non-default worker.port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CERTROTOR_HEALTH_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# bin/certrotor.js runs the compiled dist/ (present here), never the TypeScript sources.
# --optimize-for-size makes V8 collect before it grows the heap: a worker scanning 10,000 credentials
# peaks near 130 MiB instead of 270 MiB (docs/benchmarks.md, memory). It caps nothing, so a larger fleet
# gets a larger heap rather than an out-of-memory exit. It is a V8 flag, which NODE_OPTIONS refuses.
ENTRYPOINT ["node", "--optimize-for-size", "bin/certrotor.js"]
CMD ["worker", "--config", "/etc/certrotor/certrotor.yaml"]
