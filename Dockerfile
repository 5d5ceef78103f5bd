# syntax=docker/dockerfile:1
# Build: compile TypeScript and the SQLite driver, then keep only production dependencies.
FROM node:20-bookworm AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Run: a slim image, as the unprivileged "node" user, data on a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    FAULTDESK_LISTEN=0.0.0.0:9095 \
    FAULTDESK_STORE_URL=sqlite:/var/lib/faultdesk/faultdesk.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY rules ./rules
RUN mkdir -p /var/lib/faultdesk && chown node:node /var/lib/faultdesk
USER node
VOLUME ["/var/lib/faultdesk"]
EXPOSE 9095
# The health check asks the daemon itself; keep the port in step with FAULTDESK_LISTEN.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9095/-/healthy').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run", "--config", "config/faultdesk.yaml"]
