#!/usr/bin/env bash
# The one entry point behind the npm scripts: brings Node 24, installs dependencies when the
# lockfile changed, builds the cached control plane (and, for tests, promtool) when a command needs
# it, then runs the command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${KVSYNC_NODE_READY:-}" ]; then
  export KVSYNC_NODE_READY=1
  exec bash scripts/with-node.sh bash "$0" "$@"
fi

install_dependencies() {
  local stamp=node_modules/.kvsync-lock
  local want
  want="$(node -p 'process.version') $(sha256sum package-lock.json | cut -c1-64)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "dev: installing dependencies (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}

control_plane() {
  KVSYNC_BIN_DIR=$(bash scripts/build-controlplane.sh | tail -n 1)
  export KVSYNC_BIN_DIR
}

# promtool and promql-selectors, for the tests of the alerts and the Grafana dashboard.
prometheus_tools() {
  KVSYNC_PROMTOOL_DIR=$(bash scripts/build-promtool.sh | tail -n 1)
  export KVSYNC_PROMTOOL_DIR
}

test_tools() {
  KVSYNC_TOOLS_DIR=$(bash scripts/build-test-tools.sh | tail -n 1)
  export KVSYNC_TOOLS_DIR
}

cmd=${1:-}
shift || true
install_dependencies
case "$cmd" in
  test)
    npm run --silent check
    results=$(mktemp -d)
    trap 'rm -rf "$results"' EXIT
    npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$results/unit.json"
    control_plane
    prometheus_tools
    test_tools
    npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$results/integration.json" "$@"
    node scripts/test-summary.ts "$results"/*.json
    ;;
  cluster) control_plane; exec node test/support/cluster-cli.ts "$@" ;;
  demo) control_plane; npm run --silent build; exec node scripts/demo.ts "$@" ;;
  bench) control_plane; npm run --silent build; exec node bench/run.ts "$@" ;;
  *) echo "usage: dev.sh test|cluster|demo|bench [args]" >&2; exit 2 ;;
esac
