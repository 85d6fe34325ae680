# syntax=docker/dockerfile:1

# Build: compile TypeScript and the native modules (better-sqlite3, argon2), then drop dev deps.
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

# Run: only what the server needs, as the unprivileged `node` user.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    TESSERA_DATA_DIR=/var/lib/tessera \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/src ./dist/src
COPY --from=build --chown=root:root /app/dist/adapters ./dist/adapters
COPY --chown=root:root package.json ./
COPY --chown=root:root views ./views
RUN mkdir -p /var/lib/tessera /app/certs && chown node:node /var/lib/tessera /app/certs
USER node
EXPOSE 3000 3443
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
