"""Bundled demo lessons ("what is phishing", Korean and English) for the CLI, the web UI and tests."""

from importlib.resources import files

SAMPLE_LANGUAGES = ("ko", "en")


def sample_lesson(language: str = "ko") -> str:
    """The Markdown text of the bundled lesson in ``language`` (``"ko"`` or ``"en"``; ``"en-GB"`` → ``"en"``)."""
    family = language.split("-", 1)[0].lower()
    if family not in SAMPLE_LANGUAGES:
        raise ValueError(f"no sample lesson in {language!r}; choose one of {', '.join(SAMPLE_LANGUAGES)}")
    return files(__name__).joinpath(f"lesson_{family}.md").read_text(encoding="utf-8")
