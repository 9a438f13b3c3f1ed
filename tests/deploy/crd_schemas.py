"""Validating custom resources (KEDA's ScaledObject) against the openAPIV3Schema of their vendored CRD."""

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.deploy.deployment_files import KEDA_SCALEDOBJECT_CRD

CRD_FILES = (KEDA_SCALEDOBJECT_CRD,)


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind) → openAPIV3Schema`` for every served version of every vendored CRD."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in CRD_FILES:
        crd = yaml.safe_load(Path(path).read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def unknown_fields(value: Any, schema: dict[str, Any], path: str = "") -> Iterator[str]:
    """Fields the schema does not declare, as the API server's strict field validation would reject them.

    JSON Schema alone lets unknown properties through (CRD schemas do not say ``additionalProperties: false``),
    so a misspelt ``minReplicaCount`` would otherwise pass.
    """
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                yield from unknown_fields(item, properties[key], f"{path}.{key}")
            elif isinstance(additional, dict):
                yield from unknown_fields(item, additional, f"{path}.{key}")
            elif properties is not None and key not in ("apiVersion", "kind", "metadata"):
                yield f"{path}.{key}"
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from unknown_fields(item, schema["items"], f"{path}[{index}]")


def validate_custom_resource(item: dict[str, Any]) -> None:
    """Raise AssertionError unless ``item`` is valid for its vendored CRD, with no undeclared fields."""
    key = (item["apiVersion"], item["kind"])
    schema = crd_schemas().get(key)
    assert schema is not None, f"no vendored CRD schema for {key}; vendor it under deploy/schemas/"
    jsonschema.validate(item, schema)
    unknown = list(unknown_fields(item, schema))
    assert not unknown, f"{item['kind']}/{item['metadata']['name']} has fields its CRD does not declare: {unknown}"
