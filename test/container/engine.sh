# shellcheck shell=bash
# Sourced by test/container/run.sh: installs the container tools from Debian's packages and starts a
# Docker engine when none runs. Idempotent: what is already installed is skipped.
#
#   install_tools        docker.io, debootstrap (bookworm) and the Compose v2 CLI plugin (trixie's package)
#   start_engine         uses a running engine, or starts dockerd (overlay2, else vfs) with its data root
#                        under $CACHE_DIR/docker; sets ENGINE_STARTED_BY_US=1 when it started one
#   stop_engine          stops the dockerd that start_engine started (and only that one)
#
# Needs root (apt-get, dockerd). Everything here logs to stderr with a "[container]" prefix.

: "${CACHE_DIR:?CACHE_DIR must be set}"
ENGINE_STARTED_BY_US=0
ENGINE_PID=""
COMPOSE_PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

log() { printf '[container] %s\n' "$*" >&2; }

# The mirror URI the machine's own Debian sources use (deb822 or one-line format).
debian_mirror() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    timeout 300 apt-get update -qq >&2
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "$@" >&2
}

compose_v2() { docker compose version --short 2>/dev/null | grep -Eq '^v?2\.'; }

# Compose v2: bookworm only has Compose v1 (which rejects `name:`). The next release's docker-compose
# package ships the v2 plugin as one static binary: download it with a private apt configuration
# (the machine's sources stay as they are), extract it, install the plugin.
install_compose_plugin() {
  local dir="$CACHE_DIR/apt-trixie" mirror deb
  mirror=$(debian_mirror)
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/debs"
  deb=$(ls "$dir"/debs/docker-compose_2*.deb 2>/dev/null | tail -n 1 || true)
  if [ -z "$deb" ]; then
    log "Compose v2: fetching trixie's docker-compose package from $mirror (private apt configuration)"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" >"$dir/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
      -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
      -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64" -o "APT::Sandbox::User=root")
    timeout 300 apt-get "${opts[@]}" update -qq >&2
    (cd "$dir/debs" && timeout 300 apt-get "${opts[@]}" download docker-compose >&2)
    deb=$(ls "$dir"/debs/docker-compose_2*.deb | tail -n 1)
  fi
  rm -rf "$dir/x" && mkdir -p "$dir/x"
  dpkg-deb -x "$deb" "$dir/x"
  mkdir -p "$COMPOSE_PLUGIN_DIR"
  install -m 0755 "$dir/x/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_PLUGIN_DIR/docker-compose"
  log "Compose v2 plugin installed from $(basename "$deb")"
}

install_tools() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker >/dev/null || missing+=(docker.io)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing from Debian: ${missing[*]}"
    apt_install "${missing[@]}"
  else
    log "docker.io and debootstrap already installed"
  fi
  if ! compose_v2; then install_compose_plugin; fi
  compose_v2 || { log "ERROR: Compose v2 is not available after installing it"; return 1; }
  log "$(docker --version); $(dockerd --version); $(docker compose version)"
}

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

# Starts dockerd with one storage driver; returns non-zero when it did not come up in time.
try_dockerd() {
  local driver=$1 i
  log "starting dockerd (storage driver $driver, data root $CACHE_DIR/docker)"
  mkdir -p "$CACHE_DIR/docker" "$CACHE_DIR/run"
  dockerd --data-root "$CACHE_DIR/docker" --exec-root "$CACHE_DIR/run/exec" --pidfile "$CACHE_DIR/run/dockerd.pid" \
    --storage-driver "$driver" -H unix:///var/run/docker.sock >"$CACHE_DIR/dockerd-$driver.log" 2>&1 &
  ENGINE_PID=$!
  for i in $(seq 1 60); do
    if engine_up; then
      ENGINE_STARTED_BY_US=1
      return 0
    fi
    if ! kill -0 "$ENGINE_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  log "dockerd with $driver did not come up; its log ends with:"
  tail -n 5 "$CACHE_DIR/dockerd-$driver.log" >&2 || true
  kill "$ENGINE_PID" 2>/dev/null || true
  wait "$ENGINE_PID" 2>/dev/null || true
  ENGINE_PID=""
  return 1
}

start_engine() {
  if engine_up; then
    log "a Docker engine is already running: using it (it will be left running)"
    return 0
  fi
  try_dockerd overlay2 || try_dockerd vfs || { log "ERROR: dockerd would start with neither overlay2 nor vfs"; return 1; }
  log "engine up: $(docker info --format 'Docker {{.ServerVersion}}, storage driver {{.Driver}}, data root {{.DockerRootDir}}')"
}

stop_engine() {
  [ "$ENGINE_STARTED_BY_US" = 1 ] && [ -n "$ENGINE_PID" ] || return 0
  # The data root is a cache kept between runs: drop the untagged images older builds left behind.
  timeout 60 docker image prune -f >/dev/null 2>&1 || true
  log "stopping the dockerd this test started (pid $ENGINE_PID)"
  kill -TERM "$ENGINE_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 40); do
    kill -0 "$ENGINE_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$ENGINE_PID" 2>/dev/null; then
    log "dockerd did not stop in 20 s: killing it"
    kill -KILL "$ENGINE_PID" 2>/dev/null || true
  fi
  wait "$ENGINE_PID" 2>/dev/null || true
  ENGINE_STARTED_BY_US=0
  ENGINE_PID=""
}
