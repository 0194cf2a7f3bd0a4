#!/usr/bin/env bash
# Build the local control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) from the Go module proxy into a cache folder outside the repo,
# keyed by versions. A no-op when they are already there. Prints the bin folder last.
#
#   tools/controlplane/build.sh            build what is missing, print the bin folder
#   tools/controlplane/build.sh --print-dir print the bin folder only (builds nothing)
#
# STACKGEN_CACHE overrides the cache root (default ~/.cache/stackgen).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
key="${K8S_VERSION}-${ETCD_VERSION}-${KWOK_VERSION}"
bin="${STACKGEN_CACHE:-$HOME/.cache/stackgen}/controlplane/$key/bin"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

if [[ "${1:-}" == "--print-dir" ]]; then echo "$bin"; exit 0; fi

missing() {
  local name
  for name in "${binaries[@]}"; do [[ -x "$bin/$name" ]] || echo "$name"; done
}

kube_ldflags() {
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local flags="-s -w" pkg key val
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for kv in "gitVersion=$K8S_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
              "buildDate=1970-01-01T00:00:00Z"; do
      flags+=" -X $pkg.$kv"
    done
  done
  echo "$flags"
}

build_one() {  # name
  local name="$1" dir pkg ldflags="-s -w"
  case "$name" in
    etcd) dir=etcd; pkg=go.etcd.io/etcd/server/v3 ;;
    kwok) dir=kwok; pkg=sigs.k8s.io/kwok/cmd/kwok
          ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" ;;
    *)    dir=kube; pkg="k8s.io/kubernetes/cmd/$name"; ldflags="$(kube_ldflags)" ;;
  esac
  local start=$SECONDS
  echo "building $name ($pkg)" >&2
  (cd "$here/$dir" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$bin/.$name.tmp" "$pkg")
  mv -f "$bin/.$name.tmp" "$bin/$name"
  echo "built $name in $((SECONDS - start))s" >&2
}

main() {
  local todo
  todo="$(missing | tr '\n' ' ')"
  if [[ -z "${todo// }" ]]; then echo "$bin"; return 0; fi
  if ! command -v go >/dev/null; then
    echo "build.sh: Go 1.26+ is needed to build the control plane ($todo missing in $bin)" >&2
    exit 2
  fi
  mkdir -p "$bin"
  export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
  exec 9>"$bin/.build.lock"
  command -v flock >/dev/null && flock 9  # one builder at a time; others wait, then no-op
  local start=$SECONDS name
  for name in $(missing); do build_one "$name"; done
  echo "control plane $key built in $((SECONDS - start))s" >&2
  echo "$bin"
}

main
