#!/usr/bin/env bash
# Builds Prometheus's promtool and test/promql's selector inspector (the same Prometheus module, so
# both read PromQL the same way) from the Go module proxy into a cache outside git, keyed by the
# Prometheus version and the inspector's source. A no-op when the cache is warm.
# Prints the bin directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/test/promql"
prometheus=$(awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/prometheus/prometheus") print $(i + 1) }' "$mod/go.mod")
source_hash=$(cat "$mod/go.mod" "$mod/go.sum" "$mod/main.go" | sha256sum | cut -c1-12)
cache="${KVSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvsync}"
bin="$cache/promtool/prometheus-$prometheus-$source_hash"

if [ -x "$bin/promtool" ] && [ -x "$bin/promql-selectors" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "build-promtool: Go is required (1.26+) to build promtool" >&2; exit 1; }

tmp="$bin.partial"
rm -rf "$tmp"
mkdir -p "$tmp"
start=$(date +%s)
(
  cd "$mod"
  export CGO_ENABLED=0 GOFLAGS=-mod=readonly
  echo "build-promtool: building promtool (prometheus $prometheus)" >&2
  go build -trimpath -ldflags "-s -w" -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool
  go build -trimpath -ldflags "-s -w" -o "$tmp/promql-selectors" .
)
rm -rf "$bin"
mv "$tmp" "$bin"
echo "build-promtool: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
