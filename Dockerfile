# The authorizer as a Lambda container image.
#   docker build -t jwt-authorizer .                   → the Lambda image (the last stage, "lambda")
#   docker build --target issuer -t jwt-authorizer-issuer .   → the local development issuer (compose only)

# ---- build: install exactly what package-lock.json pins, bundle src/index.ts with esbuild -------------
FROM public.ecr.aws/docker/library/node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# ---- issuer: the local development issuer for docker-compose.yml (never deployed) ----------------------
FROM build AS issuer
EXPOSE 9443
# --existing-state: it serves the host's .local/ (mounted read-only by compose) and never creates or
# rewrites it, so no root-owned files end up on the host; without that state it says how to create it.
CMD ["node", "src/local/run.mjs", "issuer", "--host", "0.0.0.0", "--port", "9443", "--existing-state"]

# ---- lambda: the runtime image: the bundle and the access rules, nothing else ---------------------------
# The base image sets LAMBDA_TASK_ROOT=/var/task (also its WORKDIR) and carries the Runtime Interface
# Emulator: without AWS_LAMBDA_RUNTIME_API its entrypoint serves the Invoke API on port 8080.
FROM public.ecr.aws/lambda/nodejs:22 AS lambda
COPY --from=build /app/dist/index.js /app/dist/index.js.map /app/dist/tracer.js /app/dist/tracer.js.map ${LAMBDA_TASK_ROOT}/
COPY access-rules.example.json ${LAMBDA_TASK_ROOT}/access-rules.json
CMD ["index.handler"]
