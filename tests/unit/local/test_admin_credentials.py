"""The first admin of a data dir: made once, its password shown only on that first start, its key kept private."""

from pathlib import Path

import pytest

from reelflow.local.admin_credentials import (
    ADMIN_KEY_FILE,
    DEFAULT_ADMIN_EMAIL,
    api_key_for_running_stack,
    credentials_for,
)


@pytest.fixture(autouse=True)
def no_admin_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REELFLOW_ADMIN_EMAIL", "REELFLOW_ADMIN_PASSWORD", "REELFLOW_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_a_fresh_data_dir_makes_an_admin_whose_password_is_shown_on_the_first_start_only(tmp_path: Path) -> None:
    first = credentials_for(tmp_path / "data")
    assert first.email == DEFAULT_ADMIN_EMAIL
    assert first.password is not None and len(first.password) >= 20
    key_file = tmp_path / "data" / ADMIN_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().strip() == first.api_key
    assert first.gateway_env()["REELFLOW_ADMIN_PASSWORD"] == first.password

    again = credentials_for(tmp_path / "data")
    assert again.api_key == first.api_key
    assert again.password is None  # the gateway already has the admin; the password is not shown again
    assert "REELFLOW_ADMIN_PASSWORD" not in again.gateway_env()


def test_a_chosen_password_is_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_ADMIN_PASSWORD", "chosen-by-the-operator")
    monkeypatch.setenv("REELFLOW_ADMIN_EMAIL", "ops@example.test")
    chosen = credentials_for(tmp_path)
    assert chosen.password is None and chosen.email == "ops@example.test"


def test_the_cli_finds_the_saved_key_unless_one_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api_key_for_running_stack(None, tmp_path) is None
    saved = credentials_for(tmp_path).api_key
    assert api_key_for_running_stack(None, tmp_path) == saved
    monkeypatch.setenv("REELFLOW_API_KEY", "from-the-environment")
    assert api_key_for_running_stack(None, tmp_path) == "from-the-environment"
    assert api_key_for_running_stack("from-the-flag", tmp_path) == "from-the-flag"
