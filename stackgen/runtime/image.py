"""The reference runtime image that rendered manifests point at by default.

.github/workflows/runtime-image.yml pushes `DEFAULT_REPOSITORY:vX.Y.Z` for the git tag
vX.Y.Z, so a stack rendered by stackgen X.Y.Z runs the runtime of the same version. The
stack file may name another image; this is only the default.
"""

from __future__ import annotations

from stackgen import __version__

DEFAULT_REPOSITORY = "ghcr.io/stackgen-dev/stackgen-runtime"
# Where the engine settings are mounted; the image's default CMD reads this file.
SETTINGS_PATH = "/etc/stackgen/engine.yaml"
MODEL_CACHE_PATH = "/models-cache"  # HF_HOME in the image; mount a volume here
PVC_MOUNT_ROOT = "/mnt/models"  # pvc://CLAIM/PATH -> PVC_MOUNT_ROOT/CLAIM/PATH
RUNTIME_UID = 1000


def default_image(version: str | None = None, repository: str = DEFAULT_REPOSITORY) -> str:
    """`repository:vVERSION`, VERSION defaulting to the running stackgen's version."""
    return f"{repository}:v{version or __version__}"
