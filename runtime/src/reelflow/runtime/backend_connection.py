"""The Spring backend as reelflow's services reach it: its settings (``BACKEND_*``, the names its documents use,
or ``REELFLOW_BACKEND_*``) and the connection made from them (base URL, Bearer token, timeout).

The gateway fetches render specs and sends callbacks through it; the storage service asks it for presigned upload
URLs when REELFLOW_STORAGE_PROVIDER=backend_presigned.
"""

from dataclasses import dataclass
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from reelflow.runtime.settings import ServiceSettings


def absolute_base_url(value: str, setting: str) -> str:
    """``value`` without its trailing slash, or "" when blank; anything but http(s)://host[:port][/path] is refused
    naming ``setting``."""
    value = value.strip()
    if not value:
        return value
    url = urlparse(value)
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        raise ValueError(f"{setting} must be http(s)://host[:port][/path] with no query, got {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True)
class BackendConnection:
    """Where the backend is and how reelflow authenticates to it."""

    base_url: str
    api_token: str = ""
    timeout_sec: float = 10.0

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer BACKEND_API_TOKEN`` (when there is one) and JSON."""
        bearer = {"authorization": f"Bearer {self.api_token}"} if self.api_token else {}
        return {"accept": "application/json", "content-type": "application/json", **bearer}


class BackendSettings(ServiceSettings):
    """The settings of a service that calls the backend."""

    # The name is read too (as a keyword), beside the aliases the backend settings declare; of those, the first one
    # set wins, so REELFLOW_<NAME> is preferred to the backend documents' bare name.
    model_config = SettingsConfigDict(validate_by_name=True)

    backend_base_url: str = Field(
        default="",
        validation_alias=AliasChoices("REELFLOW_BACKEND_BASE_URL", "BACKEND_BASE_URL"),
        description="The Spring backend (also read from BACKEND_BASE_URL), e.g. http://backend:8080: where POST "
        "/video/job/{job_id}/start fetches render specs, where the job and script callbacks go, and (with "
        "REELFLOW_STORAGE_PROVIDER=backend_presigned) where the storage service asks for upload URLs. Empty: those "
        "routes answer 503 BACKEND_UNAVAILABLE and no callback is queued.",
    )
    backend_api_token: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("REELFLOW_BACKEND_API_TOKEN", "BACKEND_API_TOKEN"),
        description="The token reelflow sends the backend as `Authorization: Bearer` (also read from "
        "BACKEND_API_TOKEN); empty sends none.",
    )
    backend_timeout_sec: float = Field(
        default=10.0,
        gt=0,
        le=120,
        validation_alias=AliasChoices("REELFLOW_BACKEND_TIMEOUT_SEC", "BACKEND_TIMEOUT_SEC"),
        description="How long one request to the backend may take (a render spec, one callback attempt, or one "
        "upload URL); also read from BACKEND_TIMEOUT_SEC.",
    )

    @field_validator("backend_base_url")
    @classmethod
    def _backend_base_url_is_absolute(cls, value: str, info: ValidationInfo) -> str:
        return absolute_base_url(value, "REELFLOW_BACKEND_BASE_URL")

    def backend_connection(self) -> BackendConnection | None:
        """The Spring backend, when this service was given one (BACKEND_BASE_URL)."""
        if not self.backend_base_url:
            return None
        return BackendConnection(
            self.backend_base_url, self.backend_api_token.get_secret_value(), self.backend_timeout_sec
        )
