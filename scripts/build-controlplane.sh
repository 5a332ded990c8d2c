#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, etcd and helm from the Go module proxy into a
# cache outside git, keyed by version. A no-op when the cache is warm.
# Prints the bin directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mod="$here/test/controlplane"
k8s=$(awk '$1=="k8s.io/kubernetes"{print $2}' "$mod/go.mod")
etcd=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$mod/go.mod")
helm=v3.22.0
cache="${KVSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvsync}"
bin="$cache/controlplane/k8s-$k8s-etcd-$etcd-helm-$helm"

tools="kube-apiserver kube-controller-manager kubectl etcd helm"
warm=1
for t in $tools; do [ -x "$bin/$t" ] || warm=0; done
if [ "$warm" = 1 ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "build-controlplane: Go is required (1.26+) to build the test control plane" >&2; exit 1; }

tmp="$bin.partial"
rm -rf "$tmp"
mkdir -p "$tmp"
start=$(date +%s)
minor=${k8s#v1.}; minor=${minor%%.*}
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$k8s -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
(
  cd "$mod"
  export CGO_ENABLED=0 GOFLAGS=-mod=readonly
  echo "build-controlplane: building kube-apiserver $k8s (cold builds take a while on 2 cores)" >&2
  go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  echo "build-controlplane: building kube-controller-manager $k8s" >&2
  go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
  echo "build-controlplane: building kubectl $k8s" >&2
  go build -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
  echo "build-controlplane: building etcd $etcd" >&2
  go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
)
echo "build-controlplane: building helm $helm" >&2
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS= go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm" "helm.sh/helm/v3/cmd/helm@$helm"
rm -rf "$bin"
mv "$tmp" "$bin"
echo "build-controlplane: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
