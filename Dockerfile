# syntax=docker/dockerfile:1
# Build: compile TypeScript and generate the Prisma client, then keep production dependencies only.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts tsconfig.json tsconfig.image.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund && node scripts/prisma-generate.js
COPY src ./src
# The service and its scripts only: benches and tests are not in the image (.dockerignore).
RUN npx tsc -p tsconfig.image.json && node dist/src/db/pglite-template.js && npx vite build --config src/console/web/vite.config.mts --logLevel warn && npm prune --omit=dev --ignore-scripts

# Run: the compiled service, its migrations and production node_modules, as an unprivileged user.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node prisma ./prisma
COPY --chown=node:node workflows ./workflows
COPY --chown=node:node src/reviews/page ./src/reviews/page
COPY --chown=node:node bin ./bin
USER node
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
