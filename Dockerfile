# syntax=docker/dockerfile:1
# Node 24, the LTS line supported longest of 22 and 24 (security fixes until April 2028). The
# version is exact, so that a build is repeatable and CI can build a stand-in of this very base
# (test/e2e/container.e2e.ts). Every stage uses the same base.

# Dependencies: production packages only, with the SQLite driver compiled against this image's
# own Node headers (nothing is downloaded but packages from Debian's archive and the npm registry).
FROM docker.io/library/node:24.22.3-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm_config_nodedir=/usr/local npm_config_build_from_source=true npm ci --omit=dev --no-audit --no-fund

# Build: compile the TypeScript (no install scripts needed for that). A change of src/ reruns
# only this stage's last step: the dependencies' layers stay cached.
FROM docker.io/library/node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-console-assets.mjs ./scripts/
COPY src ./src
RUN npm run build

# Run: as the unprivileged user "node" (uid 1000); config and rules under /etc/faultdesk
# (mount your own over them), the SQLite file on the volume /var/lib/faultdesk, credentials
# from /run/secrets (README, "Containers").
FROM docker.io/library/node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config/container.yaml /etc/faultdesk/faultdesk.yaml
COPY rules /etc/faultdesk/rules
RUN mkdir -p /var/lib/faultdesk && chown node:node /var/lib/faultdesk
USER node
VOLUME ["/var/lib/faultdesk"]
EXPOSE 9095
# node runs as PID 1 and handles SIGTERM itself: it finishes what is in flight and exits 0
# within 25 s (give the container a grace period of 30 s).
STOPSIGNAL SIGTERM
# The daemon's own liveness endpoint, on the port of FAULTDESK_LISTEN (9095 unless set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const l = process.env.FAULTDESK_LISTEN || ':9095'; fetch('http://127.0.0.1:' + l.slice(l.lastIndexOf(':') + 1) + '/-/healthy', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A young generation of 8 MiB semi-spaces (Node 20 takes 16, Node 24 up to 64): its pages are resident
# once used, idle or not, and the daemon's garbage dies young at this size too. For 100,000 faults
# the peak while tickets are created fell from about 380 MiB (Node 24's own) to about 290
# (bench/memory.mjs; README, "Memory"). One V8 helper thread, not Node's four: the daemon's work is
# on one thread, and four helpers for its garbage collector took the cores from it and from the
# senders on a machine of two (README, "The fifth round"). npm start passes the same flags
# (test/deploy.test.ts).
ENTRYPOINT ["node", "--max-semi-space-size=8", "--v8-pool-size=1", "/app/dist/cli.js"]
CMD ["run", "--config", "/etc/faultdesk/faultdesk.yaml"]
