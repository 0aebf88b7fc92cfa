#!/usr/bin/env bash
# Build the Kubernetes testbed binaries (kube-apiserver, kube-controller-manager,
# kubectl, etcd, helm v3) from Go modules into a cache outside the repository.
#
# The cache is keyed by the pinned versions, so a warm cache makes this a no-op
# and a version bump builds into a fresh directory. Nothing built is committed.
#
#   sandbox/k8s/build.sh            build what is missing, print the bin dir last
#   TESTBED_CACHE=/path build.sh    choose the cache root
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
HELM_VERSION="${HELM_VERSION:-v3.21.4}"

CACHE_ROOT="${TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hci-arc-ml/testbed}"
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_helm-${HELM_VERSION}"
BIN="$CACHE_ROOT/$KEY/bin"
WORK="$CACHE_ROOT/$KEY/work"

say() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[testbed] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "the Go toolchain is not on PATH; install Go >= 1.26 (the testbed is built from Go modules)"
GO_MINOR=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
[ "${GO_MINOR:-0}" -ge 26 ] || die "Go $(go env GOVERSION) is too old: Kubernetes ${K8S_VERSION} needs Go >= 1.26"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$BIN" "$WORK"

have() { [ -x "$BIN/$1" ]; }

proxy_failed() {
  die "could not download Go modules ($1). Check that the Go module proxy is reachable (go env GOPROXY = $(go env GOPROXY)); output in $2"
}

build_k8s() {
  local tools=(kube-apiserver kube-controller-manager kubectl) missing=() t
  for t in "${tools[@]}"; do have "$t" || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && { say "kubernetes ${K8S_VERSION}: cached"; return; }
  local dir="$WORK/k8s" stg="v0.${K8S_VERSION#v1.}" minor
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  mkdir -p "$dir"; cd "$dir"
  say "kubernetes ${K8S_VERSION}: resolving module (first download is ~1 GB)"
  local modfile
  modfile=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" 2>"$dir/download.log" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])') || proxy_failed "k8s.io/kubernetes@${K8S_VERSION}" "$dir/download.log"
  # Every staging module is required at v0.0.0 upstream; route each to its published version.
  local staging
  staging=$(awk '/^require/,/^\)/' "$modfile" | awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' | sort -u)
  [ -n "$staging" ] || die "found no staging modules in $modfile; the replace list cannot be generated"
  say "kubernetes ${K8S_VERSION}: $(echo "$staging" | wc -l) staging modules -> ${stg}"
  {
    echo "module testbed.invalid/k8sbins"
    echo
    echo "go 1.26.0"
    echo
    echo "godebug default=go1.26"
    echo
    echo "tool ("
    for t in "${tools[@]}"; do echo "	k8s.io/kubernetes/cmd/$t"; done
    echo ")"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m ${stg}"; done
    echo ")"
  } > go.mod
  say "kubernetes ${K8S_VERSION}: go mod tidy"
  go mod tidy >"$dir/tidy.log" 2>&1 || proxy_failed "go mod tidy for the kubernetes wrapper" "$dir/tidy.log"
  local date ldf
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ldf="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1"
  ldf+=" -X k8s.io/component-base/version.gitMinor=${minor} -X k8s.io/component-base/version.gitTreeState=clean"
  ldf+=" -X k8s.io/component-base/version.buildDate=${date} -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"
  ldf+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${minor}"
  for t in "${missing[@]}"; do
    say "kubernetes ${K8S_VERSION}: building $t"
    go build -trimpath -ldflags "$ldf" -o "$BIN/$t.tmp" "k8s.io/kubernetes/cmd/$t" || die "go build of $t failed"
    mv "$BIN/$t.tmp" "$BIN/$t"
  done
}

build_etcd() {
  have etcd && { say "etcd ${ETCD_VERSION}: cached"; return; }
  local dir="$WORK/etcd"; mkdir -p "$dir"; cd "$dir"
  cat > go.mod <<MOD
module testbed.invalid/etcdbin

go 1.26.0

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
MOD
  cat > main.go <<'SRC'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
SRC
  say "etcd ${ETCD_VERSION}: go mod tidy"
  go mod tidy >"$dir/tidy.log" 2>&1 || proxy_failed "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" "$dir/tidy.log"
  say "etcd ${ETCD_VERSION}: building"
  go build -trimpath -ldflags '-s -w' -o "$BIN/etcd.tmp" . || die "go build of etcd failed"
  mv "$BIN/etcd.tmp" "$BIN/etcd"
}

build_helm() {
  have helm && { say "helm ${HELM_VERSION}: cached"; return; }
  local dir="$WORK/helm"; mkdir -p "$dir"
  say "helm ${HELM_VERSION}: go install"
  local ldf="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  GOBIN="$dir" go install -trimpath -ldflags "$ldf" "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}" >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; proxy_failed "helm.sh/helm/v3@${HELM_VERSION}" "$dir/install.log"; }
  mv "$dir/helm" "$BIN/helm"
}

start=$(date +%s)
build_etcd
build_helm
build_k8s
say "all binaries ready in $(( $(date +%s) - start ))s: $(cd "$BIN" && ls | tr '\n' ' ')"
echo "$BIN"
