# syntax=docker/dockerfile:1
# Switchboard instance image: docker build -t switchboard .
#
# Stage 1 builds: `npm run build` bundles the server and its packages into
# dist/server/main.js (with its Lua scripts) and the browser app into
# dist/public. Stage 2 installs the production dependencies only. The last
# stage runs the bundle with plain Node as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing that ships needs one (esbuild, which has one, is a dev dependency).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    NODE_OPTIONS=--max-old-space-size=256
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/dist ./dist
# The image's own "node" user (uid 1000); the files stay root's, read-only to it.
USER node
EXPOSE 3000
# /healthz: the process answers (liveness). Routing decisions use /readyz
# (Redis reachable, not draining), in the load balancer or the orchestrator.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, node itself as PID 1 (not npm, not a shell): SIGTERM from
# `docker stop` or Kubernetes reaches the instance, which drains (tells its
# clients to move, waits up to DRAIN_TIMEOUT_MS) and exits. The instance
# handles SIGTERM and SIGINT itself, so PID 1's default of ignoring signals
# does not matter; it starts no child processes to reap.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server/main.js"]
