"""The web studio's files (page template, CSS, JavaScript modules, UI dictionaries) and the pages it has."""

from dataclasses import dataclass
from pathlib import Path

STUDIO_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = STUDIO_DIR / "templates"
STATIC_DIR = STUDIO_DIR / "static"
LANGUAGES = ("ko", "en")


@dataclass(frozen=True)
class StudioPage:
    """One page: the JavaScript module that builds it and the dictionary key of its title."""

    name: str
    title_key: str
    signed_in: bool = True


PAGES = {
    page.name: page
    for page in (
        StudioPage("login", "page.login", signed_in=False),
        StudioPage("library", "page.library"),
        StudioPage("new-lesson", "page.newLesson"),
        StudioPage("script", "page.script"),
        StudioPage("progress", "page.progress"),
        StudioPage("player", "page.player"),
        StudioPage("ranking", "page.ranking"),
        StudioPage("account", "page.account"),
        StudioPage("schedules", "page.schedules"),
    )
}


def preferred_language(accept_language: str | None) -> str:
    """The first studio language the browser asks for (``Accept-Language``), else English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return "en"
