"""A small NetworkPolicy evaluator: may this endpoint open a TCP connection to that one on this port?

It follows the networking.k8s.io/v1 semantics the manifests use: a pod selected by no policy of a direction is
open in that direction; once selected, only what some rule of a selecting policy allows gets through; a
connection needs the source's egress and the destination's ingress to allow it. Peers are podSelector (the
policy's namespace), namespaceSelector (with an optional podSelector) and ipBlock. An ipBlock matches only
addresses outside the cluster here: implementations differ on pod addresses, and the manifests never rely on it.
"""

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.kustomize_build import Manifest, labels_match, of_kind


@dataclass(frozen=True)
class Pod:
    """A pod in the cluster: its namespace and labels (and its namespace's labels)."""

    name: str
    namespace: str
    labels: dict[str, str]
    namespace_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    """An address outside the cluster."""

    address: str


def namespace_pod(namespace: str, labels: dict[str, str] | None = None, name: str = "") -> Pod:
    """A pod of another namespace, with the label Kubernetes puts on every namespace."""
    return Pod(name or namespace, namespace, labels or {}, {"kubernetes.io/metadata.name": namespace})


class PolicySet:
    def __init__(self, policies: list[Manifest], namespace: str) -> None:
        self.policies = policies
        self.namespace = namespace

    @classmethod
    def from_objects(cls, objects: list[Manifest], namespace: str) -> "PolicySet":
        return cls(of_kind(objects, "NetworkPolicy"), namespace)

    def allows(self, source: Pod | External, destination: Pod | External, port: int, protocol: str = "TCP") -> bool:
        return self._egress_allows(source, destination, port, protocol) and self._ingress_allows(
            source, destination, port, protocol
        )

    def _selecting(self, pod: Pod, direction: str) -> list[Manifest]:
        if pod.namespace != self.namespace:
            return []
        return [
            policy
            for policy in self.policies
            if direction in policy["spec"].get("policyTypes", ["Ingress"])
            and labels_match(policy["spec"]["podSelector"], pod.labels)
        ]

    def _egress_allows(self, source: Pod | External, destination: Pod | External, port: int, protocol: str) -> bool:
        if isinstance(source, External):
            return True
        policies = self._selecting(source, "Egress")
        if not policies:
            return True
        return any(
            _rule_allows(rule.get("to"), rule.get("ports"), destination, port, protocol, self.namespace)
            for policy in policies
            for rule in policy["spec"].get("egress", [])
        )

    def _ingress_allows(self, source: Pod | External, destination: Pod | External, port: int, protocol: str) -> bool:
        if isinstance(destination, External):
            return True
        policies = self._selecting(destination, "Ingress")
        if not policies:
            return True
        return any(
            _rule_allows(rule.get("from"), rule.get("ports"), source, port, protocol, self.namespace)
            for policy in policies
            for rule in policy["spec"].get("ingress", [])
        )


def _rule_allows(
    peers: list[Manifest] | None,
    ports: list[Manifest] | None,
    other: Pod | External,
    port: int,
    protocol: str,
    namespace: str,
) -> bool:
    if ports is not None and not any(_port_matches(spec, port, protocol) for spec in ports):
        return False
    return peers is None or any(_peer_matches(peer, other, namespace) for peer in peers)


def _port_matches(spec: dict[str, Any], port: int, protocol: str) -> bool:
    if spec.get("protocol", "TCP") != protocol:
        return False
    if "port" not in spec:
        return True
    first = spec["port"]
    assert isinstance(first, int), f"named ports are not evaluated here: {spec}"
    return bool(first <= port <= spec.get("endPort", first))


def _peer_matches(peer: Manifest, other: Pod | External, namespace: str) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, External):
            return False
        address = ipaddress.ip_address(other.address)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(excluded) for excluded in block.get("except", [])
        )
    if isinstance(other, External):
        return False
    if "namespaceSelector" in peer:
        if not labels_match(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != namespace:
        return False
    return "podSelector" not in peer or labels_match(peer["podSelector"], other.labels)
