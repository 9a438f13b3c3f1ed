"""Where the deployment files are, the validator binaries of the dev group, and the settings they must match."""

import shutil
import sys
from pathlib import Path

from pydantic_settings import BaseSettings

from reelflow.compose.settings import ComposeSettings
from reelflow.gateway.settings import GatewaySettings
from reelflow.runtime.settings import ServiceSettings
from reelflow.script.settings import ScriptSettings
from reelflow.storage.settings import StorageSettings
from reelflow.tts.settings import TtsSettings
from reelflow.uploader.settings import UploaderSettings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SCHEMAS = REPO / "deploy" / "schemas"
COMPOSE_SPEC_SCHEMA = SCHEMAS / "compose-spec" / "compose-spec.json"
KEDA_SCALEDOBJECT_CRD = SCHEMAS / "keda" / "keda.sh_scaledobjects.yaml"
HEALTHCHECK_SCRIPT = REPO / "deploy" / "docker" / "healthcheck.py"

SETTINGS_CLASSES: dict[str, type[ServiceSettings]] = {
    "script": ScriptSettings,
    "tts": TtsSettings,
    "compose": ComposeSettings,
    "storage": StorageSettings,
    "uploader": UploaderSettings,
    "gateway": GatewaySettings,
}
SERVICES = tuple(SETTINGS_CLASSES)
ENV_PREFIX = "REELFLOW_"
# Each service names itself by its class default; setting it from outside would rename every service at once.
NOT_SET_FROM_OUTSIDE = frozenset({"REELFLOW_SERVICE_NAME"})


def env_names(settings_class: type[BaseSettings]) -> set[str]:
    """The environment variable of every field of a settings class (prefix REELFLOW_, upper case)."""
    return {f"{ENV_PREFIX}{name.upper()}" for name in settings_class.model_fields}


def all_setting_names() -> set[str]:
    return set().union(*(env_names(settings_class) for settings_class in SETTINGS_CLASSES.values()))


def field_values(settings_class: type[BaseSettings], env: dict[str, str]) -> dict[str, str]:
    """``REELFLOW_X=value`` pairs as keyword arguments of the settings class (``x=value``)."""
    known = env_names(settings_class)
    return {name.removeprefix(ENV_PREFIX).lower(): value for name, value in env.items() if name in known}


def dev_tool(name: str) -> Path:
    """A binary of the dev dependency group (kubectl, hadolint), next to this interpreter.

    The interpreter's own bin directory first: a machine may have another kubectl on PATH (a cloud SDK's),
    whose kustomize differs from the locked one.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: run scripts/bootstrap.sh (uv sync installs the dev group)")
    return Path(found)
