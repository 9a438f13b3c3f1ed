"""Per-language text conventions the writers need: language families, names and on-screen length limits."""

# Dense scripts carry as much speech in far fewer characters, so their limits are lower.
DENSE_SCRIPT_FAMILIES = frozenset({"ko", "ja", "zh"})

_LANGUAGE_NAMES = {
    "ko": "Korean",
    "en": "English",
    "ja": "Japanese",
    "zh": "Chinese",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "vi": "Vietnamese",
    "th": "Thai",
    "id": "Indonesian",
}


def language_family(language: str) -> str:
    """The primary subtag of a BCP 47 tag, lower-cased: ``"en-GB"`` → ``"en"``."""
    return language.split("-", 1)[0].lower()


def language_name(language: str) -> str:
    """An English name for a prompt: ``"ko"`` → ``"Korean"``, ``"en-GB"`` → ``"English (en-GB)"``."""
    name = _LANGUAGE_NAMES.get(language_family(language))
    if name is None:
        return f"the language with BCP 47 tag {language!r}"
    return name if language == language_family(language) else f"{name} ({language})"


def on_screen_max_chars(language: str) -> int:
    """The on-screen limit: key phrases and generated chapter titles are always shorter than this."""
    return 40 if language_family(language) in DENSE_SCRIPT_FAMILIES else 60
