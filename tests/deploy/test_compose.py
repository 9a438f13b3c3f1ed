"""docker-compose.yml: valid for the Compose Specification, every reference resolves, every service is checked for
health and waits for the health of what it needs, and every reelflow setting is passed, spelt right and valid."""

import json
import re
from typing import Any

import jsonschema
import pytest

from reelflow.cli.workers import HTTP_CLOSE_GRACE_SEC
from tests.deploy.compose_project import EnvFile, InterpolationError, load_compose, referenced_variables
from tests.deploy.deployment_files import (
    COMPOSE_FILE,
    COMPOSE_SPEC_SCHEMA,
    ENV_EXAMPLE,
    NOT_SET_FROM_OUTSIDE,
    SERVICES,
    SETTINGS_CLASSES,
    all_setting_names,
    env_names,
    field_values,
)

INFRASTRUCTURE = ("nats", "mongo", "minio")
# What each reelflow service needs running before it starts (DESIGN.md §1: the gateway alone owns MongoDB).
NEEDS = {service: {"nats", "minio"} for service in SERVICES} | {"gateway": {"nats", "minio", "mongo"}}
SHUTDOWN_GRACE_SEC = 20


@pytest.fixture(scope="module")
def env_file() -> EnvFile:
    return EnvFile.read(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(env_file: EnvFile) -> dict[str, Any]:
    return load_compose(COMPOSE_FILE, env_file.values)


def services_of(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def test_compose_file_is_valid_for_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SPEC_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_runs_nats_mongo_minio_and_the_six_services(compose: dict[str, Any]) -> None:
    assert set(services_of(compose)) == set(INFRASTRUCTURE) | set(SERVICES)
    nats = services_of(compose)["nats"]
    assert "--jetstream" in nats["command"]
    assert any(volume.endswith(":/data") for volume in nats["volumes"]), "JetStream must keep its store on a volume"


def test_every_variable_it_uses_is_in_env_example(env_file: EnvFile) -> None:
    used = referenced_variables(COMPOSE_FILE.read_text())
    assert used - env_file.documented == set(), "document these in .env.example"


def test_it_refuses_to_start_without_the_passwords(env_file: EnvFile) -> None:
    without = {name: value for name, value in env_file.values.items() if "PASSWORD" not in name}
    with pytest.raises(InterpolationError, match="MONGO_ROOT_PASSWORD"):
        load_compose(COMPOSE_FILE, without)


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in services_of(compose).items():
        healthcheck = service.get("healthcheck")
        assert healthcheck and not healthcheck.get("disable") and healthcheck["test"][0] == "CMD", name


def test_reelflow_healthchecks_ask_the_services_own_health_endpoints(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        test = services_of(compose)[name]["healthcheck"]["test"]
        port = "8000" if name == "gateway" else "8080"
        assert test == ["CMD", "reelflow-healthcheck", f"http://127.0.0.1:{port}/readyz"], name


def test_each_service_waits_for_the_health_of_what_it_needs(compose: dict[str, Any]) -> None:
    services = services_of(compose)
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, condition in depends_on.items():
            assert target in services, f"{name} depends on {target}, which is not a service"
            assert condition["condition"] == "service_healthy", f"{name} → {target}"
        assert set(depends_on) == NEEDS.get(name, set()), name


def test_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services_of(compose).items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"


def test_published_ports_bind_to_a_configurable_address_and_are_unique(compose: dict[str, Any]) -> None:
    published: list[str] = []
    for name, service in services_of(compose).items():
        for port in service.get("ports", []):
            host, host_port, container_port = port.split(":")
            assert host == "127.0.0.1", f"{name}: {port} (BIND_ADDRESS defaults to loopback)"
            assert container_port.isdigit()
            published.append(host_port)
    assert len(published) == len(set(published))
    assert "8000" in published


def test_images_are_pinned_by_tag(compose: dict[str, Any]) -> None:
    for name, service in services_of(compose).items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), f"{name}: {image}"


def test_reelflow_services_run_read_only_without_capabilities(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        service = services_of(compose)[name]
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["command"] == ["reelflow", "worker", name]
        assert [volume.split(":")[1] for volume in service["volumes"]] == ["/tmp"], name
        assert service["build"]["context"] == "."


def test_the_stop_grace_outlasts_the_shutdown(compose: dict[str, Any]) -> None:
    """As in Kubernetes: workers need the drain and a margin; the gateway's SSE streams get the drain plus
    HTTP_CLOSE_GRACE_SEC before its consumer drains (tests/deploy/test_kubernetes.py)."""
    for name in SERVICES:
        service = services_of(compose)[name]
        assert float(service["environment"]["REELFLOW_SHUTDOWN_GRACE_SEC"]) == SHUTDOWN_GRACE_SEC
        needed = 2 * SHUTDOWN_GRACE_SEC + HTTP_CLOSE_GRACE_SEC if name == "gateway" else SHUTDOWN_GRACE_SEC + 5
        assert int(service["stop_grace_period"].removesuffix("s")) >= needed, name


def test_one_nats_node_means_one_stream_replica(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        assert services_of(compose)[name]["environment"]["REELFLOW_STREAM_REPLICAS"] == "1", name


def test_each_service_gets_exactly_its_own_settings(compose: dict[str, Any]) -> None:
    """Every setting of a service's Settings class is passed (so .env can change any of them) and nothing else:
    a misspelt variable would be ignored silently, and a secret must reach only the services that read it."""
    for name in SERVICES:
        environment = services_of(compose)[name]["environment"]
        expected = env_names(SETTINGS_CLASSES[name]) - NOT_SET_FROM_OUTSIDE
        assert set(environment) == expected, (
            f"{name}: missing {sorted(expected - set(environment))}, unknown {sorted(set(environment) - expected)}"
        )


def test_the_settings_each_service_gets_are_valid(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        environment = {key: str(value) for key, value in services_of(compose)[name]["environment"].items()}
        assert environment["REELFLOW_HEALTH_HOST"] == "0.0.0.0"  # noqa: S104 - a container listens on all
        settings_class = SETTINGS_CLASSES[name]
        settings = settings_class(**field_values(settings_class, environment))  # type: ignore[arg-type]
        assert settings.nats_url == "nats://nats:4222"
        assert settings.s3_endpoint == "http://minio:9000"


def test_env_example_names_every_setting(env_file: EnvFile) -> None:
    settings = all_setting_names()
    undocumented = settings - env_file.documented
    assert not undocumented, f"add these settings to .env.example: {sorted(undocumented)}"
    unknown = {name for name in env_file.documented if name.startswith("REELFLOW_")} - settings
    assert not unknown, f".env.example names variables that are not settings: {sorted(unknown)}"
    assert not NOT_SET_FROM_OUTSIDE & set(env_file.values), "REELFLOW_SERVICE_NAME must stay commented out"
