#!/usr/bin/env bash
# Build the local control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) and the controllers of the KServe and multi-node rows (KServe's
# manager, the LeaderWorkerSet controller) from the Go module proxy into cache folders
# outside the repo, keyed by versions. A no-op when they are already there. Prints the
# control plane's bin folder last.
#
#   tools/controlplane/build.sh                        build what is missing, print the bin folder
#   tools/controlplane/build.sh --print-dir            print the bin folder only (builds nothing)
#   tools/controlplane/build.sh --print-controllers-dir  the controllers' folder (builds nothing)
#
# Beside each controller binary go the upstream files it needs at run time, from the same
# module version: KServe's CRDs, webhook configurations and inferenceservice-config, and
# LWS's CRD and webhook configurations (stackgen/cluster/controllers.py reads them).
#
# STACKGEN_CACHE overrides the cache root (default ~/.cache/stackgen).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${STACKGEN_CACHE:-$HOME/.cache/stackgen}"
key="${K8S_VERSION}-${ETCD_VERSION}-${KWOK_VERSION}"
bin="$cache/controlplane/$key/bin"
controllers="$cache/controllers/kserve-${KSERVE_VERSION}-lws-${LWS_VERSION}"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
controller_binaries=(kserve-manager lws-controller)

if [[ "${1:-}" == "--print-dir" ]]; then echo "$bin"; exit 0; fi
if [[ "${1:-}" == "--print-controllers-dir" ]]; then echo "$controllers"; exit 0; fi

missing() {
  local name
  for name in "${binaries[@]}"; do [[ -x "$bin/$name" ]] || echo "$name"; done
  # a controller counts as built only with its upstream files (written after the binary)
  for name in "${controller_binaries[@]}"; do
    [[ -x "$controllers/$name" && -d "$controllers/$name.files" ]] || echo "$name"
  done
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

module_dir() {  # wrapper-dir module: where the Go module cache holds that module's files
  (cd "$here/$1" && go list -m -f '{{.Dir}}' "$2")
}

copy_upstream_files() {  # name: the run-time files a controller needs, from its module
  local name="$1" src dst="$controllers/$name.files"
  rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
  case "$name" in
    kserve-manager)
      src="$(module_dir kserve github.com/kserve/kserve)/config"
      mkdir -p "$dst.tmp/crd"
      cp "$src"/crd/full/serving.kserve.io_*.yaml "$src"/crd/full/*/serving.kserve.io_*.yaml "$dst.tmp/crd/"
      cp "$src/webhook/manifests.yaml" "$dst.tmp/webhooks.yaml"
      cp "$src/configmap/inferenceservice.yaml" "$dst.tmp/inferenceservice-config.yaml" ;;
    lws-controller)
      src="$(module_dir lws sigs.k8s.io/lws)/config"
      mkdir -p "$dst.tmp/crd"
      cp "$src"/crd/bases/*.yaml "$dst.tmp/crd/"
      cp "$src/webhook/manifests.yaml" "$dst.tmp/webhooks.yaml"
      cp "$src/webhook/mutating-patch.yaml" "$src/webhook/validating-patch.yaml" "$dst.tmp/" ;;
  esac
  chmod -R u+w "$dst.tmp"  # the module cache is read-only
  rm -rf "$dst" && mv "$dst.tmp" "$dst"
}

build_one() {  # name
  local name="$1" dir pkg ldflags="-s -w" out="$bin"
  case "$name" in
    etcd) dir=etcd; pkg=go.etcd.io/etcd/server/v3 ;;
    kwok) dir=kwok; pkg=sigs.k8s.io/kwok/cmd/kwok
          ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" ;;
    kserve-manager) dir=kserve; pkg=github.com/kserve/kserve/cmd/manager; out="$controllers" ;;
    lws-controller) dir=lws; pkg=sigs.k8s.io/lws/cmd; out="$controllers"
          ldflags+=" -X sigs.k8s.io/lws/pkg/version.GitVersion=$LWS_VERSION" ;;
    *)    dir=kube; pkg="k8s.io/kubernetes/cmd/$name"; ldflags="$(kube_ldflags)" ;;
  esac
  local start=$SECONDS
  echo "building $name ($pkg)" >&2
  mkdir -p "$out"
  (cd "$here/$dir" && nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$out/.$name.tmp" "$pkg")
  mv -f "$out/.$name.tmp" "$out/$name"
  case "$name" in kserve-manager|lws-controller) copy_upstream_files "$name" ;; esac
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
  echo "control plane $key and controllers built in $((SECONDS - start))s" >&2
  echo "$bin"
}

main
