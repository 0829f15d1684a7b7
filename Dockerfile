# syntax=docker/dockerfile:1
# One image for every Tessera process (gateway, registry, example subgraphs, the compose step),
# made of exactly what `npm pack` ships plus production dependencies. test/e2e/docker-image.test.ts
# replays this file without a Docker engine, so RUN lines use paths relative to WORKDIR only.

# Build: compile dist/ and pack the package, as publishing would.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm pack --silent && mkdir package-contents && tar -xzf tessera-gateway-*.tgz -C package-contents --strip-components=1

# Run: the package's files and its production dependencies, as the unprivileged `node` user.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package-contents/ ./
COPY --from=build /src/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
USER node
EXPOSE 4000
# The gateway's readiness; the registry and the example subgraphs override it (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/tessera.js"]
CMD ["gateway", "--config", "deploy/tessera.docker.yaml"]
