"""Contract validation: the errors a caller sees name the field, and the Spring backend's JSON is accepted."""

from typing import Any

import pydantic
import pytest
from pydantic import TypeAdapter

from reelflow.contracts import (
    MAX_LEXICON_ENTRIES,
    Asset,
    Chapter,
    LessonSpec,
    RankingSpec,
    RenderDefaults,
    RenderRequested,
    RenderSpec,
    Scene,
    ScriptRequested,
    VideoScript,
    Voice,
)

SPEC = TypeAdapter[LessonSpec | RankingSpec](RenderSpec)


def one_chapter_script() -> dict[str, Any]:
    return {
        "chapters": [
            {"chapter_id": "c1", "title": "Intro", "scenes": [{"scene_id": "s1", "narration": "Hello there."}]}
        ]
    }


def error_locations(error: pydantic.ValidationError) -> list[str]:
    return [".".join(str(part) for part in problem["loc"]) for problem in error.errors()]


@pytest.mark.parametrize("narration", ["", "   ", "\n\t"])
def test_blank_scene_narration_is_refused_naming_the_field(narration: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Scene(scene_id="s1", narration=narration)
    assert error_locations(caught.value) == ["narration"]


def test_narration_is_stripped_of_surrounding_whitespace() -> None:
    assert Scene(scene_id="s1", narration="  Hello.  ").narration == "Hello."


def test_negative_scene_duration_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Scene(scene_id="s1", narration="n", duration_sec=-1)
    assert error_locations(caught.value) == ["duration_sec"]


@pytest.mark.parametrize("visual", [None, "a lighthouse at dusk", "uploads/" + "a" * 64 + ".png"])
def test_only_an_uploaded_video_visual_may_start_later(visual: str | None) -> None:
    with pytest.raises(pydantic.ValidationError, match="visual_start_sec, which starts a video visual later"):
        Scene(scene_id="s1", narration="n", visual=visual, visual_start_sec=2)
    assert Scene(scene_id="s1", narration="n", visual=visual).visual_start_sec == 0
    video = Scene(scene_id="s1", narration="n", visual="uploads/" + "a" * 64 + ".mp4", visual_start_sec=2.5)
    assert video.visual_start_sec == 2.5
    with pytest.raises(pydantic.ValidationError) as caught:
        Scene(scene_id="s1", narration="n", visual="uploads/" + "a" * 64 + ".mp4", visual_start_sec=-1)
    assert error_locations(caught.value) == ["visual_start_sec"]
    with pytest.raises(pydantic.ValidationError, match="visual_end_sec, which stops a video visual early"):
        Scene(scene_id="s1", narration="n", visual=visual, visual_end_sec=2)


def test_a_video_visual_ends_after_it_starts() -> None:
    video = "uploads/" + "a" * 64 + ".mp4"
    assert Scene(scene_id="s1", narration="n", visual=video, visual_start_sec=1, visual_end_sec=1.5).visual_end_sec
    with pytest.raises(pydantic.ValidationError, match=r"visual_end_sec \(1\) must be after visual_start_sec \(1\.5\)"):
        Scene(scene_id="s1", narration="n", visual=video, visual_start_sec=1.5, visual_end_sec=1)


def test_duplicate_scene_ids_across_chapters_are_refused() -> None:
    first = Chapter(chapter_id="c1", title="One", scenes=[Scene(scene_id="s1", narration="a")])
    second = Chapter(
        chapter_id="c2", title="Two", scenes=[Scene(scene_id="s2", narration="b"), Scene(scene_id="s1", narration="c")]
    )
    with pytest.raises(pydantic.ValidationError, match="scene_id 's1' appears twice"):
        VideoScript(chapters=[first, second])


def test_a_script_needs_a_chapter_and_a_chapter_needs_a_scene() -> None:
    with pytest.raises(pydantic.ValidationError) as no_chapters:
        VideoScript(chapters=[])
    assert error_locations(no_chapters.value) == ["chapters"]
    with pytest.raises(pydantic.ValidationError) as no_scenes:
        VideoScript.model_validate({"chapters": [{"chapter_id": "c1", "title": "t", "scenes": []}]})
    assert error_locations(no_scenes.value) == ["chapters.0.scenes"]


def test_spring_style_json_with_numeric_ids_validates_as_strings() -> None:
    body = (
        '{"chapters":[{"chapter_id":1,"title":"t","scenes":'
        '[{"scene_id":1,"narration":"n","on_screen_text":"x","duration_sec":2.5}]}]}'
    )
    script = VideoScript.model_validate_json(body)
    chapter = script.chapters[0]
    assert chapter.chapter_id == "1"
    assert chapter.scenes[0].scene_id == "1"
    assert chapter.scenes[0].on_screen_text == "x"
    assert chapter.scenes[0].duration_sec == 2.5


def test_unknown_fields_are_named_instead_of_ignored() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        LessonSpec.model_validate({"script": one_chapter_script(), "visual_stlye": "animated"})
    assert error_locations(caught.value) == ["visual_stlye"]


def test_contracts_are_immutable() -> None:
    scene = Scene(scene_id="s1", narration="n")
    with pytest.raises(pydantic.ValidationError):
        scene.narration = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("size", ["1281x720", "1280x721", "62x62", "12x720", "1280×720", "1280x720x3", "wide"])
def test_odd_tiny_or_malformed_frame_sizes_are_refused(size: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        LessonSpec.model_validate({"script": one_chapter_script(), "size": size})
    assert error_locations(caught.value) == ["size"]


@pytest.mark.parametrize("size", ["1280x720", "1920x1080", "64x64", "1080x1920"])
def test_even_frame_sizes_are_accepted(size: str) -> None:
    assert LessonSpec.model_validate({"script": one_chapter_script(), "size": size}).size == size


def test_the_template_field_picks_the_spec_model() -> None:
    lesson = SPEC.validate_python({"template": "lesson", "script": one_chapter_script()})
    ranking = SPEC.validate_python({"template": "ranking", "clips": [{"media_key": "uploads/a.mp4", "rank": 1}]})
    assert isinstance(lesson, LessonSpec)
    assert isinstance(ranking, RankingSpec)
    assert ranking.size == "1080x1920"
    assert lesson.size == "1280x720"


def test_the_template_decides_which_fields_are_allowed() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        SPEC.validate_python({"template": "ranking", "script": one_chapter_script()})
    locations = error_locations(caught.value)
    assert "ranking.clips" in locations
    assert "ranking.script" in locations


def test_an_unknown_template_is_refused_naming_the_choices() -> None:
    with pytest.raises(pydantic.ValidationError, match="'lesson', 'ranking'"):
        SPEC.validate_python({"template": "slideshow", "script": one_chapter_script()})


def test_a_render_request_error_names_the_nested_field_path() -> None:
    body = {"job_id": "j1", "video_id": "v1", "spec": {"template": "lesson", "script": {"chapters": []}}}
    with pytest.raises(pydantic.ValidationError) as caught:
        RenderRequested.model_validate(body)
    assert error_locations(caught.value) == ["spec.lesson.script.chapters"]


def test_duplicate_ranks_are_refused() -> None:
    clips = [{"media_key": "uploads/a.mp4", "rank": 1}, {"media_key": "uploads/b.mp4", "rank": 1}]
    with pytest.raises(pydantic.ValidationError, match=r"every rank must be unique, got \[1, 1\]"):
        RankingSpec.model_validate({"clips": clips})


def test_a_clip_must_end_after_it_starts() -> None:
    clip = {"media_key": "uploads/a.mp4", "rank": 1, "start": 5.0, "end": 5.0}
    with pytest.raises(pydantic.ValidationError, match=r"end \(5.0\) must be after start \(5.0\)"):
        RankingSpec.model_validate({"clips": [clip]})


def test_a_ranking_needs_between_one_and_twenty_clips() -> None:
    with pytest.raises(pydantic.ValidationError):
        RankingSpec.model_validate({"clips": []})
    many = [{"media_key": f"uploads/{rank}.mp4", "rank": rank} for rank in range(1, 22)]
    with pytest.raises(pydantic.ValidationError):
        RankingSpec.model_validate({"clips": many})


def test_a_script_request_needs_text_or_a_title() -> None:
    with pytest.raises(pydantic.ValidationError, match="source_text"):
        ScriptRequested(video_id="v1", script_id="s1", title="  ", source_text="")
    assert ScriptRequested(video_id="v1", script_id="s1", title="Phishing").source_text == ""


@pytest.mark.parametrize("language", ["ko", "en", "en-GB", "fil"])
def test_language_codes_are_accepted(language: str) -> None:
    assert LessonSpec.model_validate({"script": one_chapter_script(), "language": language}).language == language


@pytest.mark.parametrize("language", ["EN", "english", "e", "en_GB"])
def test_malformed_language_codes_are_refused(language: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        LessonSpec.model_validate({"script": one_chapter_script(), "language": language})
    assert error_locations(caught.value) == ["language"]


@pytest.mark.parametrize("sha256", ["A" * 64, "a" * 63, "g" * 64, ""])
def test_asset_sha256_must_be_lowercase_hex(sha256: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Asset.model_validate(
            {
                "kind": "video",
                "bucket": "reelflow-media",
                "key": "videos/v/s/j/video.mp4",
                "size_bytes": 1,
                "content_type": "video/mp4",
                "sha256": sha256,
            }
        )
    assert error_locations(caught.value) == ["sha256"]


def test_callback_url_must_be_http() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        LessonSpec.model_validate({"script": one_chapter_script(), "callback_url": "ftp://example.com/hook"})
    assert error_locations(caught.value) == ["callback_url"]


# ---- the one formatter of validation problems ------------------------------------------------------------------
def test_problems_name_the_field_as_the_caller_wrote_it_and_say_what_is_wrong() -> None:
    from reelflow.contracts.validation import describe_problems, field_path, problems_of

    with pytest.raises(pydantic.ValidationError) as invalid:
        ScriptRequested.model_validate({"video_id": "v", "script_id": "s", "source_text": "", "title": ""})
    [problem] = problems_of(invalid.value)
    assert problem["field"] == "body", "a rule over several fields names the body"
    assert problem["problem"].startswith("source_text: give the lesson text"), "without pydantic's 'Value error, '"

    with pytest.raises(pydantic.ValidationError) as invalid:
        RenderDefaults.model_validate({"size": "1281x720", "fps": 5})
    problems = problems_of(invalid.value, within="render_defaults")
    assert [p["field"] for p in problems] == ["render_defaults.size", "render_defaults.fps"]
    assert describe_problems(problems).startswith("render_defaults.size: size '1281x720' must be WIDTHxHEIGHT")
    assert field_path(("body", "options", "language")) == "options.language"
    assert field_path((), whole="the script") == "the script"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://example.com/hook", True),
        ("http://10.0.0.1:8080/x?y=1", True),
        ("ftp://example.com", False),
        ("https://", False),
        ("https://exa mple.com", False),
        ("https://example.com:99999/", False),
        ("https://example.com/\x00", False),
    ],
)
def test_a_callback_url_is_a_real_http_url(url: str, accepted: bool) -> None:
    body = {"callback_url": url}
    if accepted:
        assert RenderDefaults.model_validate(body).callback_url == url
    else:
        with pytest.raises(pydantic.ValidationError, match="callback_url"):
            RenderDefaults.model_validate(body)


def test_render_defaults_keep_the_specs_frame_rules() -> None:
    assert RenderDefaults(size="640x360", fps=15).size == "640x360"
    for bad in ({"size": "63x64"}, {"size": "640x361"}, {"size": "640*360"}, {"fps": 61}):
        with pytest.raises(pydantic.ValidationError):
            RenderDefaults.model_validate(bad)


def test_a_voice_lexicon_defaults_to_empty_and_keeps_its_words() -> None:
    assert Voice().lexicon == {}
    voice = Voice.model_validate({"lexicon": {" SQL ": "sequel", "119": "일일구"}})
    assert voice.lexicon == {"SQL": "sequel", "119": "일일구"}
    spec = SPEC.validate_python(
        {"template": "lesson", "script": one_chapter_script(), "voice": {"lexicon": {"SQL": "sequel"}}}
    )
    assert isinstance(spec, LessonSpec)
    assert spec.voice.lexicon == {"SQL": "sequel"}


@pytest.mark.parametrize(
    "lexicon",
    [
        {"": "blank word"},
        {"word": "  "},
        {"w" * 101: "too long a word"},
        {"word": "s" * 201},
        {f"word{index}": "spoken" for index in range(MAX_LEXICON_ENTRIES + 1)},
    ],
)
def test_a_voice_lexicon_is_bounded(lexicon: dict[str, str]) -> None:
    with pytest.raises(pydantic.ValidationError, match="lexicon"):
        Voice.model_validate({"lexicon": lexicon})
