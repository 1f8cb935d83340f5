# The two service images, one target each: docker build --target coordinator . / docker build --target worker .
# Shared stages compile once and install the production dependencies once (the lockfile, exactly); each service stage then
# keeps only the packages that service loads (bin/image/images.ts) and its own compiled code. The embedded DuckDB warehouse
# is in neither image: deployed services run on BigQuery, and the warehouse selector imports DuckDB only when chosen.
# test/e2e/production-boot.test.ts runs these stages' commands and each target's CMD (docs/operations.md → Deploy); there
# the build stage is the test run's own build, and npm ci --omit=dev is laid out from the lockfile (test/helpers/dockerfile.ts).

# glibc base: onnxruntime-node's prebuilt binaries do not load on Alpine (musl).
FROM node:20-bookworm-slim AS build
# onnxruntime-node's install script downloads CUDA libraries; the CPU provider ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY services ./services
COPY bin ./bin
RUN npm run build

# Production dependencies of both services, from the lockfile. (npm's cache stays behind in this stage: the images copy
# only node_modules out of it.)
FROM node:20-bookworm-slim AS prod-deps
ENV ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist/bin/image ./dist/bin/image

FROM prod-deps AS coordinator-deps
RUN node dist/bin/image/prune-node-modules.js coordinator

FROM prod-deps AS worker-deps
RUN node dist/bin/image/prune-node-modules.js worker

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=8080
WORKDIR /app
# "type": "module": node reads it to load dist/ as ES modules.
COPY package.json ./
EXPOSE 8080

FROM runtime AS coordinator
COPY --from=coordinator-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/shared ./dist/shared
COPY --from=build /app/dist/services/coordinator ./dist/services/coordinator
USER node
# Exec form: node is PID 1 and receives SIGTERM (npm would swallow it).
CMD ["node", "dist/services/coordinator/main.js"]

FROM runtime AS worker
COPY --from=worker-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/shared ./dist/shared
COPY --from=build /app/dist/services/worker ./dist/services/worker
USER node
CMD ["node", "dist/services/worker/main.js"]
