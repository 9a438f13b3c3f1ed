"""The uploader's YouTube settings: a channel is all three OAuth settings or none, chunks are whole 256 KiB units."""

import pytest
from pydantic import SecretStr, ValidationError

from reelflow.uploader.settings import UploaderSettings


def test_no_channel_is_a_valid_install_that_cannot_publish() -> None:
    assert UploaderSettings().youtube_configured is False


def test_a_whole_channel_is_configured_and_its_secrets_stay_hidden() -> None:
    settings = UploaderSettings(
        youtube_client_id="id",
        youtube_client_secret=SecretStr("client-secret"),
        youtube_refresh_token=SecretStr("refresh-token"),
    )
    assert settings.youtube_configured is True
    assert "client-secret" not in repr(settings)
    assert "refresh-token" not in repr(settings)


def test_a_partial_channel_is_refused_naming_what_is_missing() -> None:
    with pytest.raises(ValidationError, match="REELFLOW_YOUTUBE_REFRESH_TOKEN not set"):
        UploaderSettings(youtube_client_id="id", youtube_client_secret=SecretStr("client-secret"))


def test_chunks_must_be_whole_256_kib_units() -> None:
    with pytest.raises(ValidationError, match="multiple of 262144"):
        UploaderSettings(youtube_chunk_bytes=300_000)
    assert UploaderSettings(youtube_chunk_bytes=2 * 262144).youtube_chunk_bytes == 524288


def test_a_blank_ca_bundle_means_the_default_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_YOUTUBE_CA_BUNDLE", "")
    assert UploaderSettings().youtube_ca_bundle is None
