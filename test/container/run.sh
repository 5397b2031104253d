#!/usr/bin/env bash
# The container test (`npm run test:container`; .ci/run runs it after `npm test`). It builds and runs the
# real Dockerfile and docker-compose.yml on a real Docker engine, from the README's own commands:
#   1. installs docker.io, debootstrap and Compose v2 from Debian's packages (skips what is there);
#   2. starts dockerd if none runs (overlay2, else vfs; data root under the cache folder);
#   3. builds the two STAND-IN base images, tagged with the names the Dockerfile's FROM lines use
#      (no container registry is reachable here; see docs/local.md for what is real and what is not);
#   4. `docker compose build`; without ./.local, `docker compose up` must refuse with a clear message;
#      then `npm run -s token` and `docker compose up --build -d`;
#   5. through http://127.0.0.1:9000/2015-03-31/functions/function/invocations: a TOKEN event → Allow,
#      a REQUEST event → Allow, an HTTP API 2.0 event → isAuthorized, a garbage and an expired token →
#      Unauthorized, a token without the permission → Deny;
#   6. `docker compose logs`: one decision line and one EMF record of the right name per call, and none of
#      the raw tokens; healthchecks, ./.local untouched by the containers, the base image's user, the
#      final image's size; `docker compose down` and `up` again: a token minted before still verifies.
# Always takes the stack down and stops the dockerd it started, on failure too. Every step is bounded by
# a timeout and prints its duration.
#
# Needs root (apt-get, dockerd). Environment:
#   CONTAINER_TEST_CACHE   cache folder (default /var/cache/jwt-authorizer-container, else $TMPDIR/…)
#   FORCE_BASE_IMAGES=1    rebuild the stand-in base images even when cached
#   CONTAINER_TEST_TIMEOUT the whole test's bound in seconds (default 1500)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

default_cache=/var/cache/jwt-authorizer-container
if ! mkdir -p "$default_cache" 2>/dev/null || [ ! -w "$default_cache" ]; then default_cache="${TMPDIR:-/tmp}/jwt-authorizer-container"; fi
CACHE_DIR=${CONTAINER_TEST_CACHE:-$default_cache}
mkdir -p "$CACHE_DIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/container-test.XXXXXX")
INVOKE_URL=http://127.0.0.1:9000/2015-03-31/functions/function/invocations
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0 # the classic builder: the CLI here has no buildx
export COMPOSE_PROGRESS=plain COMPOSE_ANSI=never

# shellcheck source=test/container/engine.sh
source "$ROOT/test/container/engine.sh"
# shellcheck source=test/container/base-images.sh
source "$ROOT/test/container/base-images.sh"

# ---- steps and their durations ------------------------------------------------------------------------
TIMINGS=()
STACK_STARTED=0
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
step() {
  local name=$1 t0
  shift
  printf '\n[container] ==> %s\n' "$name" >&2
  t0=$(now_ms)
  CURRENT_STEP=$name CURRENT_T0=$t0
  "$@" # not `|| …`: that would turn off set -e inside the step
  CURRENT_STEP=""
  TIMINGS+=("$(printf '%-44s %7s s' "$name" "$(seconds_since "$t0")")")
  printf '[container] <== %s: %s s\n' "$name" "$(seconds_since "$t0")" >&2
}
print_timings() {
  [ "${#TIMINGS[@]}" -gt 0 ] || return 0
  printf '\n[container] step durations:\n' >&2
  printf '  %s\n' "${TIMINGS[@]}" >&2
}

compose() { timeout "${COMPOSE_TIMEOUT:-300}" docker compose "$@"; }
# Compose writes terminal control sequences (erase line) even with --no-color.
strip_ansi() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g'; }

CURRENT_STEP=""
CURRENT_T0=0
PROBE=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$CURRENT_STEP" ]; then
    TIMINGS+=("$(printf '%-44s %7s s  FAILED' "$CURRENT_STEP" "$(seconds_since "$CURRENT_T0")")")
  fi
  [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
  if [ -n "$PROBE" ]; then timeout 30 docker stop -t 2 "$PROBE" >/dev/null 2>&1 || true; fi
  if [ "$STACK_STARTED" = 1 ] && engine_up; then
    if [ "$status" != 0 ]; then
      log "FAILED (status $status): the stack's last logs:"
      timeout 30 docker compose logs --no-color --tail 60 2>&1 | strip_ansi >&2 || true
    fi
    log "taking the stack down"
    timeout 120 docker compose down --remove-orphans --timeout 5 >&2 || log "WARNING: docker compose down failed"
  fi
  stop_engine
  rm -rf "$WORK"
  print_timings
  if [ "$status" = 0 ]; then log "container test passed"; else log "container test FAILED (status $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated (time bound reached?)"; exit 143' TERM

# The whole test is bounded too: past CONTAINER_TEST_TIMEOUT the watchdog ends it (cleanup still runs).
(
  trap 'kill "$nap" 2>/dev/null; exit 0' TERM
  sleep "${CONTAINER_TEST_TIMEOUT:-1500}" &
  nap=$!
  wait "$nap"
  printf '[container] time bound of %s s reached\n' "${CONTAINER_TEST_TIMEOUT:-1500}" >&2
  kill -TERM $$
) &
WATCHDOG=$!

if [ "$(id -u)" != 0 ]; then
  log "ERROR: the container test needs root (apt-get, dockerd); run it as root or with sudo"
  exit 1
fi

# ---- the steps -----------------------------------------------------------------------------------------
step "install docker.io, debootstrap, Compose v2" install_tools
step "engine start" start_engine
step "base images (stand-ins)" build_base_images

# The stand-in Lambda base image keeps the contract docs/local.md describes: the entrypoint, task root,
# the emulator's environment defaults, one invocation at a time, a function error's JSON, the timeout.
PROBE=""
standin_contract() {
  local url=http://127.0.0.1:9100/2015-03-31/functions/function/invocations answer code
  PROBE=$(docker run -d --rm -e AWS_LAMBDA_FUNCTION_TIMEOUT=2 -p 127.0.0.1:9100:8080 \
    -v "$ROOT/test/container/rie-probe:/var/task:ro" "$LAMBDA_IMAGE" index.handler)
  for _ in $(seq 1 40); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:9100/" && break; sleep 0.25; done
  answer=$(curl -sS --max-time 10 -XPOST "$url" -d '{}')
  log "environment seen by the function: $answer"
  node -e '
    const a = JSON.parse(process.argv[1]);
    const want = { functionName: "test_function", functionVersion: "$LATEST", memorySize: "3008", logGroup: "/aws/lambda/Functions",
      logStream: "$LATEST", executionEnv: "AWS_Lambda_nodejs22.x", taskRoot: "/var/task", handler: "index.handler", cwd: "/var/task", runtimeApi: "127.0.0.1:9001" };
    for (const [k, v] of Object.entries(want)) if (a[k] !== v) { console.error(`CHECK FAILED: ${k} is ${a[k]}, expected ${v}`); process.exit(1); }' "$answer"
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -XPOST "$url" -d '{"waitMs":1000}' >"$WORK/probe-a" &
  local first=$!
  sleep 0.3
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -XPOST "$url" -d '{}')
  wait "$first" # not a bare `wait`: that would wait for the watchdog too
  [ "$code" = 400 ] && [ "$(cat "$WORK/probe-a")" = 200 ] || { log "ERROR: concurrent invocations gave $(cat "$WORK/probe-a") and $code, expected 200 and 400"; return 1; }
  answer=$(curl -sS --max-time 10 -XPOST "$url" -d '{"fail":true}')
  node -e 'const a = JSON.parse(process.argv[1]); if (a.errorType !== "Error" || a.errorMessage !== "probe failure" || !Array.isArray(a.trace)) process.exit(1)' "$answer" \
    || { log "ERROR: a function error came back as $answer"; return 1; }
  answer=$(curl -sS --max-time 10 -XPOST "$url" -d '{"waitMs":5000}')
  [ "$answer" = "Task timed out after 2.00 seconds" ] || { log "ERROR: the timeout came back as $answer"; return 1; }
  answer=$(curl -sS --max-time 10 -XPOST "$url" -d '{}')
  [ "$(docker logs "$PROBE" 2>&1 | grep -c "exec '/var/runtime/bootstrap'")" = 2 ] || { log "ERROR: the runtime was not started again after the timeout"; return 1; }
  docker stop -t 2 "$PROBE" >/dev/null
  PROBE=""
  log "ok: emulator defaults, task root and handler; a concurrent invocation refused with 400; a function error's JSON; a timeout answered and the runtime started again"
}
step "stand-in Lambda base: emulator contract" standin_contract

compose_build() {
  compose version
  COMPOSE_TIMEOUT=900 compose build
  local image size base_size
  image=$(docker compose images -q authorizer 2>/dev/null || true)
  image=jwt-authorizer-local-authorizer
  size=$(docker image inspect -f '{{.Size}}' "$image")
  base_size=$(docker image inspect -f '{{.Size}}' "$LAMBDA_IMAGE")
  log "final stage $image: $(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }') in all, of which $(awk -v s="$((size - base_size))" 'BEGIN { printf "%.1f KB", s / 1e3 }') over its base image"
  docker image history --format '  {{.Size}}\t{{.CreatedBy}}' "$image" | head -n 4 >&2
  # The final stage adds only the bundle, its map and the rules: keep it that way.
  [ $((size - base_size)) -lt 5000000 ] || { log "ERROR: the final stage adds more than 5 MB to its base"; return 1; }
}
step "compose build" compose_build

# Without ./.local compose must refuse (and create nothing): the host creates it, owned by the user.
refuse_without_local() {
  if [ -e .local ]; then
    log "./.local already exists here: the check of a missing ./.local runs on a fresh clone (as in CI)"
    return 0
  fi
  STACK_STARTED=1
  if compose up -d >"$WORK/no-local.log" 2>&1; then
    cat "$WORK/no-local.log" >&2
    log "ERROR: docker compose up started without ./.local"
    return 1
  fi
  cat "$WORK/no-local.log" >&2
  grep -q 'bind source path does not exist' "$WORK/no-local.log" || { log "ERROR: not the expected message"; return 1; }
  [ ! -e .local ] || { log "ERROR: docker compose up created ./.local"; return 1; }
  compose down --remove-orphans --timeout 5 >/dev/null 2>&1
  log "ok: without ./.local, up refused with the engine's 'bind source path does not exist' and created nothing"

  # ./.local without the issuer's state (its folders only, as after deleting state.json): the issuer says
  # what to do and exits; the authorizer never starts.
  mkdir -p .local/ca .local/issuer
  if compose up -d >"$WORK/no-state.log" 2>&1; then
    cat "$WORK/no-state.log" >&2
    log "ERROR: docker compose up started with no issuer state in ./.local"
    return 1
  fi
  tail -n 2 "$WORK/no-state.log" >&2
  timeout 30 docker compose logs --no-color --no-log-prefix issuer 2>&1 | strip_ansi | tee "$WORK/no-state-issuer.log" >&2
  grep -q 'no local issuer state in /app/.local/issuer/state.json: run `npm run -s token > /dev/null` on the host first' "$WORK/no-state-issuer.log" \
    || { log "ERROR: the issuer did not say how to create its state"; return 1; }
  [ -z "$(find .local -type f)" ] || { log "ERROR: something was written into ./.local: $(find .local -type f)"; return 1; }
  compose down --remove-orphans --timeout 5 >/dev/null 2>&1
  rmdir .local/ca .local/issuer .local
  log "ok: with no state in ./.local the issuer exited saying how to create it, and wrote nothing"
}
step "up without ./.local (or its state) refuses" refuse_without_local

# The README's commands: `npm run -s token` (and `npm run -s events`), made before `up` so that the
# first answer's time is the stack's, not the token tool's.
mint() { npm run -s token -- "$@"; }

# An event file with TOKEN in it: the README's `npm run -s events -- --print KIND` with the token swapped.
event_with() {
  local kind=$1 token=$2 out=$3
  npm run -s events -- --print "$kind" | TOKEN="$token" node -e '
    const fs = require("fs"); const e = JSON.parse(fs.readFileSync(0, "utf8")); const t = process.env.TOKEN;
    const swap = (v) => typeof v === "string" ? v.replace(/Bearer \S+/, "Bearer " + t) : Array.isArray(v) ? v.map(swap) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)])) : v;
    process.stdout.write(JSON.stringify(swap(e)));' >"$out"
}

tokens_and_events() {
  local token expired writer
  token=$(mint)
  log "npm run -s token: a token of ${#token} characters; ./.local belongs to $(stat -c %U .local)"
  expired=$(mint --expired)
  writer=$(mint --scope pets/write)
  printf '%s\n' "$token" >"$WORK/token"
  printf '%s\n%s\n%s\n' "$token" "$expired" "$writer" >"$WORK/secrets"
  event_with token "$token" "$WORK/token.json"
  event_with request "$token" "$WORK/request.json"
  event_with http-api "$token" "$WORK/http-api.json"
  event_with token "not-a-jwt.garbage.x" "$WORK/garbage.json"
  event_with token "$expired" "$WORK/expired.json"
  event_with token "$writer" "$WORK/no-permission.json"
}
step "npm run -s token (and the events)" tokens_and_events

# compose publishes fixed host ports (the same as `npm start`): wait a little for another user of them
# (an `npm start`, a test run) to finish, then say which port is taken.
ports_free() {
  local port i
  for port in 9000 9443; do
    for i in $(seq 1 60); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || continue 2
      [ "$i" = 1 ] && log "127.0.0.1:$port is taken (another npm start or docker compose up?): waiting up to 60 s"
      sleep 1
    done
    log "ERROR: 127.0.0.1:$port is still taken; stop what listens there (ss -ltnp | grep :$port)"
    return 1
  done
}

UP_T0=0
compose_up() {
  ports_free
  UP_T0=$(now_ms)
  STACK_STARTED=1
  compose up --build -d
}
step "docker compose up --build -d" compose_up

wait_ready() {
  local i code
  for i in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:9000/ || true)
    if [ "$code" != "000" ] && [ -n "$code" ]; then
      log "the emulator answers on 127.0.0.1:9000 (HTTP $code off the invoke path)"
      return 0
    fi
    sleep 0.5
  done
  log "ERROR: nothing answered on 127.0.0.1:9000 in 60 s"
  return 1
}
step "wait for port 9000" wait_ready

# invoke NAME EXPECT FILE: POST the event, print the answer, check it.
invoke() {
  local name=$1 expect=$2 file=$3 answer arn
  arn=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).methodArn ?? "")' "$file")
  answer=$(curl -sS --max-time 30 -XPOST "$INVOKE_URL" -d "@$file")
  printf '\n# %s\n$ curl -s -XPOST %s -d @%s\n%s\n' "$name" "$INVOKE_URL" "$(basename "$file")" "$answer"
  node "$ROOT/test/container/check.mjs" answer "$expect" "$arn" <<<"$answer" >&2
}

DECISIONS=()
FIRST_ANSWER=""
calls() {
  invoke "TOKEN event, minted token (GET /pets, scope pets/read)" allow "$WORK/token.json"
  FIRST_ANSWER=$(seconds_since "$UP_T0")
  log "first answer $FIRST_ANSWER s after docker compose up started (includes the cold start)"
  TIMINGS+=("$(printf '%-44s %7s s' "(first answer after up started)" "$FIRST_ANSWER")")
  invoke "REQUEST event, same token" allow "$WORK/request.json"
  invoke "HTTP API 2.0 event, same token" simple-allow "$WORK/http-api.json"
  invoke "TOKEN event, garbage token" unauthorized "$WORK/garbage.json"
  invoke "TOKEN event, expired token" unauthorized "$WORK/expired.json"
  invoke "TOKEN event, token without the permission (scope pets/write on GET /pets)" deny "$WORK/no-permission.json"
  DECISIONS=(Allow Allow Allow Invalid Expired Deny)
}
step "curl the invoke URL" calls

check_logs() {
  timeout 30 docker compose logs --no-color --no-log-prefix authorizer >"$WORK/authorizer.log"
  log "docker compose logs authorizer (first 40 lines):"
  head -n 40 "$WORK/authorizer.log" | strip_ansi >&2
  node "$ROOT/test/container/check.mjs" logs "$WORK/authorizer.log" "$WORK/secrets" "${DECISIONS[@]}" >&2
}
step "docker compose logs" check_logs

check_containers() {
  local service status user base_user id
  docker compose ps >&2
  for service in issuer authorizer; do
    id=$(docker compose ps -q "$service")
    status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}no healthcheck{{end}}' "$id")
    [ "$status" = healthy ] || { log "ERROR: $service is $status, not healthy"; return 1; }
  done
  # The authorizer runs as its base image's user (no USER of our own), the issuer as its base's.
  id=$(docker compose ps -q authorizer)
  user=$(docker inspect -f '{{.Config.User}}' "$id")
  base_user=$(docker image inspect -f '{{.Config.User}}' "$LAMBDA_IMAGE")
  [ "$user" = "$base_user" ] || { log "ERROR: the authorizer runs as '$user', its base image as '$base_user'"; return 1; }
  log "ok: both services healthy; the authorizer runs as its base image's user ('${user:-root, the default}'): $(docker compose exec -T authorizer id)"
  # ./.local: the issuer gets it read-only, so nothing in it belongs to anyone but the host user.
  if docker compose exec -T issuer sh -c 'touch /app/.local/probe' 2>/dev/null; then
    log "ERROR: the issuer container can write into ./.local"
    return 1
  fi
  local strangers
  strangers=$(find .local ! -user "$(id -u)" -print | head -n 5)
  [ -z "$strangers" ] || { log "ERROR: files in ./.local not owned by $(id -un): $strangers"; return 1; }
  log "ok: ./.local is read-only in the issuer container and everything in it belongs to $(id -un)"
}
step "healthchecks, user, ./.local ownership" check_containers

down_and_up_again() {
  compose down --timeout 5
  ports_free
  compose up -d
  wait_ready
  invoke "after down/up: TOKEN event, the token minted before" allow "$WORK/token.json"
}
step "docker compose down, up again" down_and_up_again
