"""espeak_voice_for: language tags to espeak-ng voice names."""

import pytest

from reelflow.runtime.voice_catalogue import espeak_voice_for


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


LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  af              --/M      Afrikaans          gmw/af
 5  en-gb-x-rp      --/M      English_(Received_Pronunciation) gmw/en-GB-x-rp
 5  ko              --/M      Korean             ko
"""
VARIANTS = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  variant         --/F      f3                 !v/f3
"""


def test_the_catalogue_knows_codes_names_files_and_variants() -> None:
    from reelflow.runtime.voice_catalogue import VoiceCatalogue, voice_names

    catalogue = VoiceCatalogue(voices=voice_names(LISTING), variants=voice_names(VARIANTS))
    for voice in ("ko", "AF", "Afrikaans", "gmw/af", "en-gb-x-rp", "ko+f3"):
        assert catalogue.knows(voice), voice
    for voice in ("xx-nonexistent", "ko+nosuchvariant", ""):
        assert not catalogue.knows(voice), voice
    assert catalogue.closest("en-gb-x-r")[0] == "en-gb-x-rp"


async def test_this_machines_espeak_has_the_default_voices() -> None:
    from reelflow.runtime.voice_catalogue import espeak_catalogue

    catalogue = await espeak_catalogue()
    assert all(catalogue.knows(espeak_voice_for(language)) for language in ("ko", "en", "en-GB", "ja"))
    assert not catalogue.knows("xx-nonexistent")


def test_the_catalogue_knows_other_language_codes_and_names_as_espeak_takes_them() -> None:
    from reelflow.runtime.voice_catalogue import VoiceCatalogue, voice_names

    listing = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)
"""
    catalogue = VoiceCatalogue(voices=voice_names(listing), variants=frozenset())
    for voice in ("zh", "zh-cmn", "fr", "French (France)", "roa/fr"):
        assert catalogue.knows(voice), voice
    assert not catalogue.knows("French_(France)"), "espeak-ng itself refuses the listing's underscores"
