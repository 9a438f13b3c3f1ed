"""Sealing a connected channel's grant: it opens with the key it was sealed with and no other, the sealed bytes do
not carry the tokens, and the key setting refuses what is not a Fernet key (and the example key in prod)."""

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from reelflow.runtime.channel_grants import (
    EXAMPLE_CHANNEL_TOKEN_KEY,
    ChannelGrant,
    ChannelTokenKeySettings,
    GrantKeyError,
    GrantSealer,
    grant_key,
)

REFRESH_TOKEN = "1//refresh-token-of-the-channel"
CLIENT_SECRET = "client-secret-of-the-install"


def a_grant() -> ChannelGrant:
    return ChannelGrant(
        workspace_id="ws-1",
        channel_id="UCabcdefghijklmnopqrstuv",
        client_id="client.apps.googleusercontent.com",
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        token_uri="https://oauth2.googleapis.com/token",
    )


def new_key() -> SecretStr:
    return SecretStr(Fernet.generate_key().decode())


def test_a_sealed_grant_opens_with_its_key_as_it_was() -> None:
    sealer = GrantSealer(new_key())
    opened = sealer.open(sealer.seal(a_grant()))
    assert opened == a_grant()
    assert opened.refresh_token.get_secret_value() == REFRESH_TOKEN
    assert opened.client_secret.get_secret_value() == CLIENT_SECRET


def test_the_sealed_bytes_carry_neither_token_nor_secret() -> None:
    sealed = GrantSealer(new_key()).seal(a_grant())
    assert REFRESH_TOKEN.encode() not in sealed and CLIENT_SECRET.encode() not in sealed
    assert b"UCabcdefghijklmnopqrstuv" not in sealed


def test_another_key_cannot_open_it_and_the_error_names_the_setting() -> None:
    sealed = GrantSealer(new_key()).seal(a_grant())
    with pytest.raises(GrantKeyError, match="REELFLOW_CHANNEL_TOKEN_KEY") as refused:
        GrantSealer(new_key()).open(sealed)
    assert REFRESH_TOKEN not in str(refused.value)


def test_a_grant_never_shows_its_secrets() -> None:
    shown = f"{a_grant()!r} {a_grant()}"
    assert REFRESH_TOKEN not in shown and CLIENT_SECRET not in shown


def test_the_key_is_under_the_workspace_and_the_channel() -> None:
    assert grant_key("ws-1", "UCx1") == "channels/ws-1/UCx1.grant"


@pytest.mark.parametrize("key", ["changeme", "secret", "c2hvcnQ=", "not base64 at all!"])
def test_a_key_that_is_not_a_fernet_key_is_refused_naming_the_setting(key: str) -> None:
    with pytest.raises(ValidationError, match="REELFLOW_CHANNEL_TOKEN_KEY must be a Fernet key"):
        ChannelTokenKeySettings(channel_token_key=SecretStr(key))


def test_empty_turns_connecting_off_and_a_real_key_turns_it_on() -> None:
    assert not ChannelTokenKeySettings().channels_connectable
    assert ChannelTokenKeySettings().grant_sealer() is None
    settings = ChannelTokenKeySettings(channel_token_key=new_key())
    assert settings.channels_connectable and settings.grant_sealer() is not None


def test_the_example_key_is_refused_in_prod_only() -> None:
    example = SecretStr(EXAMPLE_CHANNEL_TOKEN_KEY)
    assert ChannelTokenKeySettings(channel_token_key=example).channels_connectable
    with pytest.raises(ValidationError, match="documented example key"):
        ChannelTokenKeySettings(
            environment="prod", s3_secret_key=SecretStr("a-real-s3-secret"), channel_token_key=example
        )


# ---- rotating the key -------------------------------------------------------------------------------------------
def test_while_rotating_the_first_key_seals_and_every_key_opens() -> None:
    old, new = new_key(), new_key()
    sealed_before = GrantSealer(old).seal(a_grant())
    rotating = GrantSealer(SecretStr(f"{new.get_secret_value()}, {old.get_secret_value()}"))

    assert rotating.open(sealed_before) == a_grant()
    sealed_now = rotating.seal(a_grant())
    assert GrantSealer(new).open(sealed_now) == a_grant()
    with pytest.raises(GrantKeyError):
        GrantSealer(old).open(sealed_now)


def test_resealing_moves_a_grant_to_the_first_key_once() -> None:
    old, new = new_key(), new_key()
    rotating = GrantSealer(SecretStr(f"{new.get_secret_value()},{old.get_secret_value()}"))

    resealed = rotating.resealed(GrantSealer(old).seal(a_grant()))

    assert resealed is not None and GrantSealer(new).open(resealed) == a_grant()
    assert rotating.resealed(resealed) is None  # already under the first key
    assert rotating.rotating and not GrantSealer(new).rotating
    with pytest.raises(GrantKeyError):
        rotating.resealed(GrantSealer(new_key()).seal(a_grant()))  # no key of the setting opens it


def test_every_key_of_a_rotating_setting_must_be_a_fernet_key() -> None:
    with pytest.raises(ValidationError, match="key 2 of 2: REELFLOW_CHANNEL_TOKEN_KEY must be a Fernet key"):
        ChannelTokenKeySettings(channel_token_key=SecretStr(f"{new_key().get_secret_value()},changeme"))
    with pytest.raises(ValidationError, match="documented example key"):
        ChannelTokenKeySettings(
            environment="prod",
            s3_secret_key=SecretStr("a-real-s3-secret"),
            channel_token_key=SecretStr(f"{new_key().get_secret_value()},{EXAMPLE_CHANNEL_TOKEN_KEY}"),
        )
