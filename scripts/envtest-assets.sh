#!/usr/bin/env bash
# envtest-assets.sh installs a real etcd and kube-apiserver for envtest into a
# cache folder outside the repository and prints that folder.
#
#   etcd:           Debian's etcd-server package (apt-get).
#   kube-apiserver: built from the k8s.io/kubernetes Go module through a
#                   throwaway module that swaps every ./staging replace for
#                   the matching v0.x.y release.
#
# The result is keyed by version, so a machine builds it once.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.36.3}"
CACHE="${ISOBAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isobar}"
ASSETS="$CACHE/envtest/k8s-$K8S_VERSION"
mkdir -p "$ASSETS"

log() { echo "envtest-assets: $*" >&2; }

if [ ! -x "$ASSETS/etcd" ]; then
  if ! command -v etcd >/dev/null 2>&1 && [ ! -x /usr/bin/etcd ]; then
    log "installing etcd-server from Debian"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq etcd-server >&2
  fi
  ln -sf "$(command -v etcd || echo /usr/bin/etcd)" "$ASSETS/etcd"
fi

if [ ! -x "$ASSETS/kube-apiserver" ]; then
  log "building kube-apiserver v$K8S_VERSION (once; several minutes)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cd "$work"
  export GOFLAGS=-mod=mod
  go mod init envtest-apiserver >/dev/null 2>&1
  kdir="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  staging_ver="v0${K8S_VERSION#1}"
  go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
  # Every module the kubernetes go.mod replaces with ./staging/... gets the
  # published release of the same version instead.
  grep -E '=>\s*\./staging/' "$kdir/go.mod" | awk '{print $1}' | sort -u | while read -r mod; do
    go mod edit -replace="$mod=$mod@$staging_ver"
  done
  cat > main.go <<'GO'
package main

import _ "k8s.io/kubernetes/cmd/kube-apiserver/app"

func main() {}
GO
  go mod tidy >&2
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION" \
    -o "$ASSETS/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2
  mv "$ASSETS/kube-apiserver.tmp" "$ASSETS/kube-apiserver"
fi

echo "$ASSETS"
