from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[3]
CRDS = ROOT.parent / "shared" / "crds"


@pytest.fixture(scope="session")
def crd_schemas() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> openAPIV3Schema of the real CRDs in ../shared/crds."""
    import yaml  # libyaml's C loader: the KServe CRDs are 40,000 lines

    out = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                schema = version["schema"]["openAPIV3Schema"]
                out[(spec["group"], version["name"], spec["names"]["kind"])] = \
                    jsonschema.Draft7Validator(schema)
    return out
