"""The studio's voice picker: the voices of the form's language from GET /api/voices, a sample heard from
GET /api/voices/sample, and the chosen voice carried into the render request (a lesson's and a ranking short's)."""

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.workers import GATEWAY
from tests.browser.conftest import StudioPages
from tests.browser.studio_flows import api_get, completed_job, sign_in
from tests.browser.test_studio_ranking import make_clip
from tests.conftest import RunningServices
from tests.service_replicas import ServiceReplicas

pytestmark = [pytest.mark.connected, pytest.mark.browser]

LESSON = """# Voices

A voice reads the lesson aloud.

## Samples

Hear a voice before the render.
"""
VOICE = "select[name=voice]"
GATEWAY_READY_TIMEOUT_SEC = 60.0


def listed_voices(page: Page, language: str) -> list[str]:
    """The distinct espeak-ng voice names GET /api/voices lists for a language, in its order."""
    status, listing = api_get(page, f"/api/voices?language={language}")
    assert status == 200, listing
    names: list[str] = []
    for voice in listing["voices"]:
        if voice["provider"] == "espeak" and voice["voice"] not in names:
            names.append(voice["voice"])
    return names


def offered_voices(page: Page) -> list[str]:
    """The voices the picker offers, once it has listed them."""
    expect(page.locator(VOICE)).to_be_enabled()
    offered: list[str] = page.locator(f"{VOICE} option[data-voice]").evaluate_all(
        "options => options.map((option) => option.dataset.voice)"
    )
    return offered


def expect_chosen(page: Page, voice: str) -> None:
    expect(page.locator(VOICE)).to_be_enabled()
    expect(page.locator(f"{VOICE} option:checked")).to_have_attribute("data-voice", voice)


def choose_voice(page: Page, voice: str) -> None:
    value = page.locator(f"{VOICE} option[data-voice='{voice}']").get_attribute("value")
    assert value is not None, voice
    page.select_option(VOICE, value)


def test_a_voice_heard_then_sent_with_the_lesson(studio: StudioPages) -> None:
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/new")
    page.select_option("select[name=language]", "en")
    expect(page.locator(f"{VOICE} option[data-voice='en-gb']")).to_have_count(1)
    # espeak-ng's voices for English, grouped under their provider, the language's own chosen (tts's default).
    assert offered_voices(page) == listed_voices(page, "en")
    expect(page.locator(f"{VOICE} optgroup")).to_have_attribute("label", "espeak-ng (offline)")
    expect_chosen(page, "en-us")

    choose_voice(page, "en-gb")
    with page.expect_response(re.compile(r"/api/voices/sample\?voice=en-gb$")) as answered:
        page.click("button.play-sample")
    sample = answered.value
    assert sample.status == 200
    assert sample.headers["content-type"] == "audio/wav"
    audio = page.locator("audio.voice-sample")
    expect(audio).to_be_visible()
    expect(audio).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(
        "() => { const sample = document.querySelector('audio.voice-sample');"
        " return sample.readyState >= 1 && sample.duration > 0.5; }"
    )
    expect(page.locator("button.play-sample")).to_be_enabled()

    page.fill("input[name=title]", "Voices")
    page.fill("textarea[name=source_text]", LESSON)
    page.fill("input[name=target_minutes]", "0.5")
    page.select_option("select[name=size]", "640x360")
    page.fill("input[name=rate]", "1.2")
    page.fill("input[name=pitch]", "2")
    studio.snap(page, "new-lesson-voice-en")
    page.select_option("#lang-switch", "ko")
    expect(page.locator("button.play-sample")).to_have_text("샘플 듣기")
    expect(page.locator(f"{VOICE} optgroup")).to_have_attribute("label", "espeak-ng (오프라인)")
    studio.snap(page, "new-lesson-voice-ko")
    page.select_option("#lang-switch", "en")
    page.click("form button[type=submit]")

    # The script's review offers the same choice for its render, and the job's spec carries it.
    page.wait_for_url("**/studio/scripts/*")
    expect(page.locator(".scene textarea[name=narration]").first).to_be_visible(timeout=30_000)
    page.click("button.approve")
    expect(page.locator(".render-panel select[name=voice] option[data-voice='en-gb']")).to_have_count(1)
    expect_chosen(page, "en-gb")
    expect(page.locator(".render-panel input[name=pitch]")).to_have_value("2")
    page.click("button.start-render")
    job = completed_job(page)
    voice = job["spec"]["voice"]
    assert (voice["provider"], voice["voice"], voice["rate"], voice["pitch"]) == ("espeak", "en-gb", 1.2, 2.0), voice


def test_a_sample_that_fails_says_why(studio: StudioPages) -> None:
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/new")
    page.select_option("select[name=language]", "ko")
    expect_chosen(page, "ko")

    # The gateway's own refusal, for a voice espeak-ng does not have (the list never offers one, so the request is
    # rewritten on its way out).
    def unknown_voice(route: Route) -> None:
        route.continue_(url=route.request.url.replace("voice=ko", "voice=zz-nowhere"))

    page.route(re.compile(r"/api/voices/sample\?"), unknown_voice)
    with page.expect_response(re.compile(r"/api/voices/sample\?")) as answered:
        page.click("button.play-sample")
    assert answered.value.status == 422
    error = page.locator(".voice-picker .error")
    expect(error.locator(".error-code")).to_have_text("VALIDATION_FAILED")
    expect(error).to_contain_text("zz-nowhere")
    expect(page.locator("audio.voice-sample")).to_be_hidden()
    expect(page.locator("button.play-sample")).to_be_enabled()
    studio.snap(page, "new-lesson-voice-sample-refused-en")


def test_the_language_chosen_lists_its_voices(studio: StudioPages) -> None:
    page = studio.new_page(locale="ko-KR")
    sign_in(page)
    page.goto("/studio/new")
    expect(page.locator("select[name=language]")).to_have_value("ko")
    expect(page.locator(f"{VOICE} option[data-voice='ko']")).to_have_count(1)
    korean = offered_voices(page)
    assert korean == listed_voices(page, "ko") and "en-us" not in korean
    expect_chosen(page, "ko")

    page.select_option("select[name=language]", "en")
    expect(page.locator(f"{VOICE} option[data-voice='en-us']")).to_have_count(1)
    english = offered_voices(page)
    assert english == listed_voices(page, "en") and "ko" not in english
    expect_chosen(page, "en-us")
    # Back to Korean: its voices again, its own chosen.
    page.select_option("select[name=language]", "ko")
    expect(page.locator(f"{VOICE} option[data-voice='en-us']")).to_have_count(0)
    assert offered_voices(page) == korean
    expect_chosen(page, "ko")


def test_the_ranking_builder_sends_the_voice_chosen(studio: StudioPages, tmp_path: Path, unique_id: str) -> None:
    clip = make_clip(tmp_path / "only.mp4", "320x240", 1.0, unique_id)
    page = studio.new_page()
    sign_in(page)
    page.goto("/studio/ranking")
    # A short reads nothing aloud unless a voice is chosen.
    expect(page.locator(f"{VOICE} option[data-voice]").first).to_be_attached()
    assert page.locator(VOICE).input_value() == ""
    page.select_option("select[name=voice_language]", "ko")
    expect(page.locator(f"{VOICE} option[data-voice='ko']")).to_have_count(1)
    expect(page.locator(f"{VOICE} option[data-voice='en-us']")).to_have_count(0)
    page.select_option("select[name=voice_language]", "en")
    expect(page.locator(f"{VOICE} option[data-voice='en-us']")).to_have_count(1)
    choose_voice(page, "en-us")
    page.fill("input[name=title]", "One clip")
    page.set_input_files("input.clip-files", [str(clip)])
    expect(page.locator("button.render")).to_be_enabled(timeout=30_000)
    studio.snap(page, "ranking-voice-en")
    page.click("button.render")
    page.wait_for_url(re.compile(r"/studio/videos/[^/]+/progress\?job="))
    job_id = page.url.rsplit("job=", 1)[1]
    status, job = api_get(page, f"/api/render-jobs/{job_id}")
    assert status == 200, job
    spec: dict[str, Any] = job["spec"]
    assert (spec["template"], spec["voice"]["provider"], spec["voice"]["voice"]) == ("ranking", "espeak", "en-us"), spec
    assert spec["language"] == "en", "the labels are announced in the voice's language"


@pytest.fixture
def cloud_voices_gateway(services: RunningServices, tmp_path: Path) -> Iterator[str]:
    """A second gateway on the session's stack with every cloud voice provider enabled. Nothing reaches a provider:
    their voice lists are written down, samples are espeak-ng's, and the test renders nothing. Requested before the
    browser, so its wait runs before Playwright holds this thread's event loop."""
    port = free_port()
    env = services.endpoints.service_env() | {
        "REELFLOW_GATEWAY_HOST": LOOPBACK,
        "REELFLOW_LOG_FORMAT": "json",
        "REELFLOW_VOICE_PROVIDERS": json.dumps(["espeak", "openai", "polly", "google"]),
    }
    gateway = ServiceReplicas(env, tmp_path, {GATEWAY: 1}, gateway_port=port)
    gateway.start()
    try:
        asyncio.run(gateway.wait_ready(GATEWAY_READY_TIMEOUT_SEC))
        yield f"http://{LOOPBACK}:{port}"
    finally:
        gateway.stop()


def test_cloud_voices_are_grouped_by_provider_and_have_no_sample(
    cloud_voices_gateway: str, studio_browser: Browser, screenshot_dir: Path
) -> None:
    studio = StudioPages(studio_browser, cloud_voices_gateway, screenshot_dir)
    try:
        page = studio.new_page(locale="ko-KR")
        sign_in(page)
        page.goto("/studio/new")
        expect(page.locator(f"{VOICE} option[data-voice='Seoyeon']")).to_have_count(1)
        expect_chosen(page, "ko")  # espeak-ng's, as with no cloud provider: nothing changes for who leaves it
        groups = page.locator(f"{VOICE} optgroup").evaluate_all(
            "groups => groups.map((group) => [group.dataset.provider, group.label, group.children.length])"
        )
        assert [(provider, label) for provider, label, _count in groups] == [
            ("espeak", "espeak-ng (오프라인)"),
            ("openai", "OpenAI"),
            ("polly", "Amazon Polly"),
            ("google", "Google Cloud"),
        ], groups
        assert all(count > 0 for _provider, _label, count in groups), groups
        seoyeon = page.locator(f"{VOICE} optgroup[data-provider=polly] option[data-voice='Seoyeon']")
        expect(seoyeon).to_have_text("Seoyeon (ko-KR) · 여성")

        # A cloud voice cannot be heard here (each listen would be a paid call): the button says so by standing down.
        choose_voice(page, "Seoyeon")
        expect(page.locator("button.play-sample")).to_be_disabled()
        expect(page.locator(".voice-status")).to_contain_text("클라우드 목소리")
        studio.snap(page, "new-lesson-voice-cloud-ko")
        choose_voice(page, "ko")
        expect(page.locator("button.play-sample")).to_be_enabled()
        expect(page.locator(".voice-status")).to_be_hidden()
        assert studio.errors == [], studio.errors
    finally:
        studio.close()
