#!/usr/bin/env bash
# Regenerate the wrapper modules (kube/, etcd/, kwok/, kserve/, lws/) from versions.env.
# The k8s.io staging replaces are read from k8s.io/kubernetes' own go.mod, never hard-coded.
# Each binary family lives in its own module so that their dependency graphs never mix
# (kwok pins older k8s.io libraries than the apiserver we build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

fresh_module() {  # dir module-path
  rm -f "$here/$1/go.mod" "$here/$1/go.sum"
  mkdir -p "$here/$1"
  (cd "$here/$1" && go mod init "$2" >/dev/null 2>&1 && go mod edit -go=1.26.0)
}

staging_replaces() {  # prints one "-replace=mod=mod@v0.X.Y" per staging module kubernetes requires
  local modfile staging_version="v0.${K8S_VERSION#v1.}"
  modfile="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  local required
  required="$(sed -n '/^require/,/^)/p' "$modfile" | awk '{print $1}')"
  awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$modfile" | while read -r mod; do
    if grep -qx "$mod" <<<"$required"; then echo "-replace=$mod=$mod@$staging_version"; fi
  done
}

update_kube() {
  fresh_module kube stackgen.dev/tools/controlplane/kube
  cd "$here/kube"
  go mod edit -require="k8s.io/kubernetes@$K8S_VERSION" $(staging_replaces)
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    go mod edit -tool="k8s.io/kubernetes/cmd/$cmd"
  done
  go mod tidy
}

update_etcd() {
  fresh_module etcd stackgen.dev/tools/controlplane/etcd
  cd "$here/etcd"
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION" -tool=go.etcd.io/etcd/server/v3
  for sub in api/v3 client/pkg/v3 client/v3 pkg/v3; do  # upstream replaces these locally
    go mod edit -require="go.etcd.io/etcd/$sub@$ETCD_VERSION"
  done
  go mod tidy
}

update_kwok() {
  fresh_module kwok stackgen.dev/tools/controlplane/kwok
  cd "$here/kwok"
  go mod edit -require="sigs.k8s.io/kwok@$KWOK_VERSION" -tool=sigs.k8s.io/kwok/cmd/kwok
  go mod tidy
}

replaces_of() {  # module@version: upstream's own replace and exclude lines, as go mod edit flags
  local modfile
  modfile="$(go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  awk '$1 == "replace" && $3 == "=>" && NF == 5 {print "-replace=" $2 "=" $4 "@" $5}
       $1 == "exclude" && NF == 3 {print "-exclude=" $2 "@" $3}' "$modfile"
}

update_kserve() {
  fresh_module kserve stackgen.dev/tools/controlplane/kserve
  cd "$here/kserve"
  # kserve's go.mod pins controller-runtime (and more) with replaces, which a dependent
  # module does not inherit: copy them, or the manager builds against other versions.
  go mod edit -require="github.com/kserve/kserve@$KSERVE_VERSION" \
    -tool=github.com/kserve/kserve/cmd/manager $(replaces_of "github.com/kserve/kserve@$KSERVE_VERSION")
  go mod tidy
}

update_lws() {
  fresh_module lws stackgen.dev/tools/controlplane/lws
  cd "$here/lws"
  go mod edit -require="sigs.k8s.io/lws@$LWS_VERSION" -tool=sigs.k8s.io/lws/cmd \
    $(replaces_of "sigs.k8s.io/lws@$LWS_VERSION")
  go mod tidy
}

(update_kube)
(update_etcd)
(update_kwok)
(update_kserve)
(update_lws)
echo "modules regenerated for k8s $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION," \
  "kserve $KSERVE_VERSION, lws $LWS_VERSION"
