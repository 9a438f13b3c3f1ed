"""Which espeak-ng voice speaks a language: a BCP 47 tag in, an espeak-ng voice name out."""

# espeak-ng has regional English voices; every other language is named by its primary subtag.
_ENGLISH_VOICES = {"en": "en-us", "en-us": "en-us", "en-gb": "en-gb", "en-uk": "en-gb"}


def espeak_voice_for(language: str, override: str | None = None) -> str:
    """``"ko"`` → ``"ko"``, ``"en"`` → ``"en-us"``, ``"en-GB"`` → ``"en-gb"``, others → their primary subtag.

    A non-blank ``override`` (the spec's ``voice.voice``) wins and is passed to espeak-ng as given.
    Other English regions fall back to American English.
    """
    if override is not None and override.strip():
        return override.strip()
    tag = language.strip().lower().replace("_", "-")
    family = tag.split("-", 1)[0]
    if family == "en":
        return _ENGLISH_VOICES.get(tag, "en-us")
    return family
