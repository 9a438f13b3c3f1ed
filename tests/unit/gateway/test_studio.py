"""The web studio as the gateway serves it: its pages, its static files, its security headers and its dictionaries."""

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from reelflow.contracts import AssetKind, JobStatus, ScriptStatus, Step, SubtitleStyle
from reelflow.gateway.app import build_api
from reelflow.gateway.schedule_bodies import ItemStatus
from reelflow.gateway.studio import PAGES, STATIC_DIR, TEMPLATES_DIR, preferred_language

JS_DIR = STATIC_DIR / "js"
DICTIONARY_ENTRY = re.compile(r"^\s*'([^']+)':\s*'((?:[^'\\]|\\.)*)',?\s*$")
KEY_LITERAL = re.compile(r"'([a-z]+(?:\.[A-Za-z0-9_]+)+)'")
TEMPLATE_KEY = re.compile(r'data-i18n="([^"]+)"')
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# String literals in the modules that look like keys but are not UI text.
NOT_UI_TEXT = {"reelflow.studio.language"}
PAGE_PATHS = [
    "/studio/",
    "/studio/login",
    "/studio/new",
    "/studio/scripts/abc123",
    "/studio/videos/lesson-1/progress",
    "/studio/videos/lesson-1",
    "/studio/ranking",
    "/studio/account",
    "/studio/schedules",
]


def dictionary(language: str) -> dict[str, str]:
    entries = {}
    for line in (JS_DIR / "i18n" / f"{language}.js").read_text(encoding="utf-8").splitlines():
        match = DICTIONARY_ENTRY.match(line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def studio_modules() -> list[Path]:
    return sorted(path for path in JS_DIR.rglob("*.js") if path.parent.name != "i18n")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_the_root_and_the_bare_studio_path_lead_to_the_studio(client: httpx.AsyncClient) -> None:
    for path in ("/", "/studio"):
        response = await client.get(path)
        assert (response.status_code, response.headers["location"]) == (307, "/studio/")


class _ShellParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []
        self.style_attributes = 0
        self.body: dict[str, str | None] = {}
        self._in_script = False
        self.script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.inline_handlers += [name for name in names if name.startswith("on")]
        self.style_attributes += "style" in names
        if tag == "script":
            self.scripts.append(names)
            self._in_script = True
        if tag == "body":
            self.body = names

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


@pytest.mark.parametrize("path", PAGE_PATHS)
async def test_each_page_is_a_shell_with_one_module_and_nothing_inline(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe-inline" not in policy
    shell = _ShellParser()
    shell.feed(response.text)
    assert shell.scripts == [{"type": "module", "src": f"/studio/static/js/pages/{shell.body['data-page']}.js"}]
    assert (shell.script_text, shell.inline_handlers, shell.style_attributes) == ("", [], 0)
    module = await client.get(shell.scripts[0]["src"] or "")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]


async def test_a_page_names_its_ids_for_the_module_escaped(client: httpx.AsyncClient) -> None:
    response = await client.get('/studio/scripts/a"b<c')
    shell = _ShellParser()
    shell.feed(response.text)
    assert shell.body["data-script-id"] == 'a"b<c'
    assert '"b<c' not in response.text
    assert (await client.get("/studio/videos/not a valid id")).status_code == 422


async def test_the_page_language_follows_the_browser(client: httpx.AsyncClient) -> None:
    korean = await client.get("/studio/login", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert '<html lang="ko">' in korean.text
    assert preferred_language("fr-FR,ko;q=0.5") == "ko"
    assert [preferred_language(header) for header in ("fr-FR,en;q=0.5", None, "de")] == ["en", "en", "en"]


@pytest.mark.parametrize("path", ["../app.py", "..%2F..%2Fapp.py", "js/nothing.js", "js"])
async def test_static_files_stay_inside_the_studio_folder(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/studio/static/{path}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_studio_routes_are_not_part_of_the_api_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/studio")]


def test_both_dictionaries_have_the_same_keys_and_placeholders() -> None:
    english, korean = dictionary("en"), dictionary("ko")
    assert len(english) > 100
    assert sorted(set(english) ^ set(korean)) == []
    for key, text in english.items():
        assert text and korean[key], key
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(korean[key])), key


def test_every_key_the_studio_uses_is_in_the_dictionaries() -> None:
    known = set(dictionary("en"))
    used = {page.title_key for page in PAGES.values()}
    used |= set(TEMPLATE_KEY.findall((TEMPLATES_DIR / "page.html").read_text(encoding="utf-8")))
    for module in studio_modules():
        used |= set(KEY_LITERAL.findall(module.read_text(encoding="utf-8"))) - NOT_UI_TEXT
    # Keys built from API values (`status.${job.status}`): every value the API can send has its text.
    used |= {f"status.{status}" for status in [*JobStatus, *ScriptStatus, "SCRIPT"]}
    used |= {f"step.{step}" for step in Step} | {f"asset.{kind}" for kind in AssetKind}
    used |= {f"review.{decision}" for decision in ("PENDING", "APPROVED", "REJECTED")}
    used |= {f"itemStatus.{status}" for status in ItemStatus}
    used |= {f"progress.{outcome}.{status}" for outcome in ("ended", "noDetail") for status in ("FAILED", "CANCELED")}
    assert sorted(used - known) == []


def test_the_modules_never_write_html_or_evaluate_strings() -> None:
    for module in studio_modules():
        source = module.read_text(encoding="utf-8")
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert forbidden not in source, (module.name, forbidden)


JS_STRING_OR_KEY = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"|^(\s*)(\w+):", re.MULTILINE)


def js_constant(source: str, name: str) -> Any:
    """A module's `const NAME = ...;` of plain literals (strings without escapes, bare keys), as Python values."""
    match = re.search(rf"^const {name} = (.*?);$", source, re.MULTILINE | re.DOTALL)
    assert match, name

    def as_json(token: re.Match[str]) -> str:
        single, double, indent, key = token.groups()
        return f"{indent}{json.dumps(key)}:" if key else json.dumps(single if single is not None else double)

    literal = JS_STRING_OR_KEY.sub(as_json, match.group(1))
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", literal))


def test_the_subtitle_look_picker_offers_the_contracts_faces_places_and_defaults() -> None:
    source = (JS_DIR / "subtitle-style.js").read_text(encoding="utf-8")
    fields = SubtitleStyle.model_fields
    assert js_constant(source, "DEFAULT_LOOK") == SubtitleStyle().model_dump()
    assert [value for value, _ in js_constant(source, "FONTS")] == list(get_args(fields["font"].annotation))
    assert [value for value, _ in js_constant(source, "POSITIONS")] == list(get_args(fields["position"].annotation))
    assert set(js_constant(source, "CSS_FACES")) == set(get_args(fields["font"].annotation))
