"""Building the kustomize overlays with the locked kubectl, and reading the objects they produce."""

import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.deployment_files import K8S, dev_tool

Manifest = dict[str, Any]
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
BUILD_TIMEOUT_SEC = 60


def kustomize_build(directory: Path) -> list[Manifest]:
    """``kubectl kustomize DIR``: every object, in order. Raises with kustomize's own message on failure."""
    completed = subprocess.run(
        [str(dev_tool("kubectl")), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SEC,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"kustomize build of {directory} failed:\n{completed.stderr}")
    return [document for document in yaml.safe_load_all(completed.stdout) if document]


@cache
def _built_overlay(overlay: str) -> tuple[Manifest, ...]:
    return tuple(kustomize_build(K8S / "overlays" / overlay))


def overlay_objects(overlay: str) -> list[Manifest]:
    """The objects of ``deploy/k8s/overlays/<overlay>``, built once per test session (callers get a copy)."""
    return [dict(item) for item in _built_overlay(overlay)]


def of_kind(objects: list[Manifest], *kinds: str) -> list[Manifest]:
    return [item for item in objects if item["kind"] in kinds]


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [item for item in objects if item["kind"] == kind and item["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} named {name}, found {len(matches)}"
    return matches[0]


def object_id(item: Manifest) -> str:
    return f"{item['kind']}/{item['metadata']['name']}"


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels", {})
    return labels


def containers(workload: Manifest) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def labels_match(selector: Manifest, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against a set of labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
