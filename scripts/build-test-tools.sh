#!/usr/bin/env bash
# Builds the Go test tools under test/tools (gitops-health: kstatus and Argo CD's gopher-lua) from
# the Go module proxy into a cache outside git, keyed by a hash of their sources and go.sum.
# A no-op when the cache is warm. Prints the bin directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/test/tools"
key=$(cd "$mod" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 |
  sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
cache="${KVSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvsync}"
bin="$cache/tools/$key"
if [ -x "$bin/gitops-health" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "build-test-tools: Go is required (1.26+) to build the test tools" >&2; exit 1; }
tmp="$bin.partial"
rm -rf "$tmp"
mkdir -p "$tmp"
echo "build-test-tools: building gitops-health (kstatus, gopher-lua)" >&2
(cd "$mod" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$tmp/gitops-health" ./gitops-health)
rm -rf "$bin"
mv "$tmp" "$bin"
echo "$bin"
