"""espeak_voice_for: language tags to espeak-ng voice names."""

import pytest

from reelflow.tts.voices import espeak_voice_for


@pytest.mark.parametrize(
    ("language", "voice"),
    [
        ("ko", "ko"),
        ("ko-KR", "ko"),
        ("en", "en-us"),
        ("en-US", "en-us"),
        ("en-GB", "en-gb"),
        ("en-AU", "en-us"),
        ("de", "de"),
        ("pt-BR", "pt"),
        ("ja", "ja"),
    ],
)
def test_espeak_voice_for_language(language: str, voice: str) -> None:
    assert espeak_voice_for(language) == voice


def test_override_wins_unless_blank() -> None:
    assert espeak_voice_for("ko", "en-gb-x-rp") == "en-gb-x-rp"
    assert espeak_voice_for("en", "  ") == "en-us"
    assert espeak_voice_for("en", None) == "en-us"
