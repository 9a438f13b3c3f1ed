"""The first admin of a stack that `reelflow up` or `reelflow render` starts, and the API key the CLI uses.

`reelflow up` makes them once per data dir: an admin with a made-up password (printed once; set
REELFLOW_ADMIN_PASSWORD to choose it) and an admin API key kept in ``<data-dir>/admin-api-key`` (mode 0600), which
``reelflow render`` then reads to use that stack. ``reelflow render`` with a temporary stack makes a key of its own.
"""

import os
from dataclasses import dataclass
from pathlib import Path

ADMIN_KEY_FILE = "admin-api-key"
API_KEY_ENV = "REELFLOW_API_KEY"
DEFAULT_ADMIN_EMAIL = "admin@reelflow.local"


@dataclass(frozen=True)
class StackCredentials:
    api_key: str
    email: str
    password: str | None  # made up here on first start: show it once; None when it was chosen or made before

    def gateway_env(self) -> dict[str, str]:
        env = {"REELFLOW_ADMIN_API_KEY": self.api_key, "REELFLOW_ADMIN_EMAIL": self.email}
        return env | ({"REELFLOW_ADMIN_PASSWORD": self.password} if self.password else {})


def _new_key_and_password() -> tuple[str, str]:
    from reelflow.gateway.accounts import mint_api_key, new_password

    return mint_api_key().plaintext, new_password()


def credentials_for(data_dir: Path) -> StackCredentials:
    """The data dir's admin key (made and saved on its first start, with a password to show once)."""
    email = os.environ.get("REELFLOW_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
    key_file = data_dir / ADMIN_KEY_FILE
    if key_file.is_file():
        return StackCredentials(key_file.read_text(encoding="utf-8").strip(), email, None)
    api_key, password = _new_key_and_password()
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(api_key + "\n", encoding="utf-8")
    chosen = os.environ.get("REELFLOW_ADMIN_PASSWORD")
    return StackCredentials(api_key, email, None if chosen else password)


def throwaway_credentials() -> StackCredentials:
    """An admin key for a stack that lives as long as one command."""
    api_key, _ = _new_key_and_password()
    return StackCredentials(api_key, DEFAULT_ADMIN_EMAIL, None)


def api_key_for_running_stack(explicit: str | None, data_dir: Path) -> str | None:
    """The key to call a running stack with: ``--api-key``, else $REELFLOW_API_KEY, else the one `reelflow up`
    saved in its data dir."""
    if explicit:
        return explicit
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV]
    key_file = data_dir / ADMIN_KEY_FILE
    return key_file.read_text(encoding="utf-8").strip() if key_file.is_file() else None
