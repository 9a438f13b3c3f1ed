"""Per-language text conventions the outline writer needs: language families and length limits."""

# Dense scripts carry as much speech in far fewer characters, so their limits are lower.
DENSE_SCRIPT_FAMILIES = frozenset({"ko", "ja", "zh"})


def language_family(language: str) -> str:
    """The primary subtag of a BCP 47 tag, lower-cased: ``"en-GB"`` → ``"en"``."""
    return language.split("-", 1)[0].lower()


def scene_soft_max_chars(language: str) -> int:
    """How long a scene's narration may grow before the next sentence starts a new scene."""
    return 200 if language_family(language) in DENSE_SCRIPT_FAMILIES else 350


def scene_hard_max_chars(language: str) -> int:
    """The most narration one scene may carry when scenes are merged to respect ``max_scenes_per_chapter``."""
    return 4 * scene_soft_max_chars(language)


def on_screen_max_chars(language: str) -> int:
    """The longest key phrase shown on screen (and used as a generated chapter title)."""
    return 40 if language_family(language) in DENSE_SCRIPT_FAMILIES else 60
