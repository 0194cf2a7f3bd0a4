from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest


@pytest.fixture(scope="session")
def crd_schemas(crds: Path) -> dict[tuple[str, str, str], jsonschema.Draft7Validator]:
    """(group, version, kind) -> a validator of the real CRD's openAPIV3Schema (../shared/crds;
    the `crds` fixture skips without it, or fails under STACKGEN_REQUIRE_CRDS=1)."""
    import yaml  # libyaml's C loader: the KServe CRDs are 40,000 lines

    out = {}
    for path in sorted(crds.glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                schema = version["schema"]["openAPIV3Schema"]
                out[(spec["group"], version["name"], spec["names"]["kind"])] = \
                    jsonschema.Draft7Validator(schema)
    return out
