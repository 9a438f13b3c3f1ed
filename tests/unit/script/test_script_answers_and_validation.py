"""The pure parts of the LLM writer: JSON out of an answer, normalisation, the shared check, prompts, settings."""

import json

import pydantic
import pytest
from tests.unit.script.conftest import ScriptMaker

from reelflow.contracts import ScriptOptions, ScriptRequested
from reelflow.runtime.failures import LlmError
from reelflow.script.llm_answers import AnswerNotJsonError, extract_json, normalise_script
from reelflow.script.prompts import MAX_QUOTED_PROBLEMS, data_block, fix_prompt, request_prompt
from reelflow.script.settings import ScriptSettings
from reelflow.script.validation import ScriptCheckError, validate_video_script
from reelflow.script.writing import ScriptWriter

OBJECT = {"chapters": [{"title": "A", "scenes": [{"narration": "Hello {there}."}]}]}
TEXT = json.dumps(OBJECT)


@pytest.mark.parametrize(
    "answer",
    [
        TEXT,
        f"  \n{TEXT}\n",
        f"```json\n{TEXT}\n```",
        f"```\n{TEXT}\n```",
        f"Here you go:\n```json\n{json.dumps(OBJECT, indent=2)}\n```\nEnjoy.",
        f"Here you go: {TEXT} -- done.",
        f"```python\nprint('not it')\n```\n\n```json\n{TEXT}\n```",
        f"Note {{this}} first.\n{TEXT}",
    ],
)
def test_extract_json_finds_the_object(answer: str) -> None:
    assert extract_json(answer) == OBJECT


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "the answer is empty"),
        ("No script today.", "contains no JSON object"),
        ('[{"chapter_id": "ch1"}]', "is a list, not an object"),
        ('{"chapters": [{"title": "A", "scenes": [', "not valid JSON: Expecting value at line 1 column 41"),
        ('```json\n{"chapters": [}\n```', "not valid JSON: Expecting value at line 1 column 15"),
    ],
)
def test_extract_json_says_what_is_wrong(answer: str, message: str) -> None:
    with pytest.raises(AnswerNotJsonError, match=message.replace("[", r"\[")):
        extract_json(answer)


def test_a_cut_off_answer_is_not_mistaken_for_its_inner_objects() -> None:
    cut = '{"chapters": [{"chapter_id": "ch1", "title": "A", "scenes": [{"narration": "Hi."}, {"narr'
    with pytest.raises(AnswerNotJsonError, match="not valid JSON"):
        extract_json(cut)


def test_normalise_fills_ids_strips_whitespace_and_never_writes_narration() -> None:
    data = {
        "title": "dropped: never narrated",
        "chapters": [
            {
                "chapter_id": " ",
                "title": "  Intro \n",
                "scenes": [
                    {"narration": "  First   line.\nSecond line. ", "scene_id": "x"},
                    {"narration": "Third.", "scene_id": "x", "on_screen_text": "A" * 90, "duration_sec": 3},
                    {"on_screen_text": "no narration here"},
                ],
            },
            {"chapter_id": 2, "title": "Two", "scenes": [{"narration": "Fourth."}]},
        ],
    }
    tidy = normalise_script(data, "en")
    assert list(tidy) == ["chapters"]
    first, second = tidy["chapters"]
    assert (first["chapter_id"], first["title"]) == ("ch1", "Intro")
    assert [scene["scene_id"] for scene in first["scenes"]] == ["x", "ch1-s2", "ch1-s3"]
    assert first["scenes"][0]["narration"] == "First line. Second line."
    assert first["scenes"][0]["on_screen_text"] == "First line"
    assert first["scenes"][0]["duration_sec"] == 1.5
    assert first["scenes"][1]["duration_sec"] == 3  # the model's own value is kept
    assert len(first["scenes"][1]["on_screen_text"]) < 60 and first["scenes"][1]["on_screen_text"].endswith("…")
    assert "narration" not in first["scenes"][2]  # not invented: validation will ask for it
    assert second["chapter_id"] == "2"
    with pytest.raises(ScriptCheckError) as caught:
        validate_video_script(tidy, ScriptOptions(language="en"), check_length=False)
    assert caught.value.problems == ["chapters.0.scenes.2.narration: Field required"]


def test_normalise_unwraps_a_wrapper_object() -> None:
    assert normalise_script({"script": OBJECT}, "en")["chapters"][0]["chapter_id"] == "ch1"


def test_validation_lists_every_contract_problem_with_its_path() -> None:
    data = {"chapters": [{"chapter_id": "ch1", "title": "", "scenes": [{"scene_id": "s", "narration": "x", "v": 1}]}]}
    with pytest.raises(ScriptCheckError) as caught:
        validate_video_script(data, ScriptOptions(), check_length=False)
    assert caught.value.problems == [
        "chapters.0.title: String should have at least 1 character",
        "chapters.0.scenes.0.v: Extra inputs are not permitted",
    ]


def test_validation_checks_bounds_and_the_length_band(script_data: ScriptMaker) -> None:
    options = ScriptOptions(language="en", target_minutes=1, max_chapters=1, max_scenes_per_chapter=2)
    with pytest.raises(ScriptCheckError) as caught:
        validate_video_script(script_data(chapters=2, scenes=3), options)
    assert caught.value.problems[0].startswith(
        "chapters: there are 2 chapters but at most 1 are allowed (max_chapters)"
    )
    assert caught.value.problems[1].startswith("chapters.0.scenes: chapter 'ch1' has 3 scenes but at most 2")
    assert caught.value.problems[2].startswith("chapters.1.scenes:")
    assert len(caught.value.problems) == 3  # one minute of speech: the length is fine

    roomy = ScriptOptions(language="en", target_minutes=1)
    validate_video_script(script_data(chapters=1, scenes=3), roomy)  # 30 s: the low end of ±50%
    with pytest.raises(ScriptCheckError, match="shorten the narration"):
        validate_video_script(script_data(chapters=5, scenes=2), roomy)  # 100 s > 90 s
    # The offline writer's check leaves the length out.
    validate_video_script(script_data(chapters=5, scenes=2), roomy, check_length=False)


def test_prompts_keep_user_text_in_data_blocks() -> None:
    block = data_block("source_text", "Text </source_text> more <SOURCE_TEXT > and < /topic>.")
    assert block == "<source_text>\nText ‹/source_text› more ‹SOURCE_TEXT› and ‹/topic›.\n</source_text>"
    prompt = request_prompt(ScriptOptions(language="en", style="upbeat"), title="Phishing")
    assert "in this style: upbeat" in prompt
    assert prompt.endswith("<topic>\nPhishing\n</topic>")


def test_fix_prompt_quotes_problems_up_to_a_cap() -> None:
    prompt = fix_prompt([f"problem {i}" for i in range(MAX_QUOTED_PROBLEMS + 5)])
    assert "- problem 0\n" in prompt
    assert f"- problem {MAX_QUOTED_PROBLEMS - 1}\n" in prompt
    assert f"- problem {MAX_QUOTED_PROBLEMS}\n" not in prompt
    assert "… and 5 more problems" in prompt


def test_settings_come_from_reelflow_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFLOW_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("REELFLOW_LLM_MODEL", "local-model")
    monkeypatch.setenv("REELFLOW_LLM_API_KEY", "sk-x")
    monkeypatch.setenv("REELFLOW_LLM_TEMPERATURE", "0.7")
    monkeypatch.setenv("REELFLOW_LLM_MAX_TOKENS", "2048")
    monkeypatch.setenv("REELFLOW_LLM_TIMEOUT_SEC", "12.5")
    settings = ScriptSettings()
    assert settings.llm_configured
    assert (settings.llm_model, settings.llm_temperature, settings.llm_max_tokens) == ("local-model", 0.7, 2048)
    assert settings.llm_timeout_sec == 12.5
    assert settings.llm_api_key.get_secret_value() == "sk-x"


def test_settings_defaults_and_the_timeout_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELFLOW_LLM_BASE_URL", raising=False)
    defaults = ScriptSettings()
    assert (defaults.llm_temperature, defaults.llm_max_tokens, defaults.llm_timeout_sec) == (0.3, 4096, 30.0)
    assert not defaults.llm_configured
    assert defaults.llm_missing_settings() == ["REELFLOW_LLM_BASE_URL", "REELFLOW_LLM_MODEL"]
    with pytest.raises(pydantic.ValidationError, match="REELFLOW_LLM_TIMEOUT_SEC=90 is too long"):
        ScriptSettings(llm_timeout_sec=90)


async def test_the_writer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A base URL alone (as the paid-API guard sets it) keeps the offline writer; URL and model switch to the LLM."""
    monkeypatch.delenv("REELFLOW_LLM_MODEL", raising=False)
    guarded = ScriptWriter(ScriptSettings())  # the suite's guard: REELFLOW_LLM_BASE_URL set, no model
    assert guarded.settings.llm_base_url == "http://127.0.0.1:9/v1"
    assert guarded.llm is None
    topic = ScriptRequested(video_id="v", script_id="s", title="Password hygiene")
    with pytest.raises(LlmError, match="set REELFLOW_LLM_MODEL as well"):
        await guarded.write(topic)
    configured = ScriptWriter(ScriptSettings(llm_base_url="http://127.0.0.1:1/v1", llm_model="m"))
    assert configured.llm is not None
    await configured.aclose()


async def test_without_an_llm_lessons_use_the_offline_writer_and_topics_fail_at_once() -> None:
    writer = ScriptWriter(ScriptSettings(llm_base_url="", llm_model=""))
    lesson = ScriptRequested(video_id="v", script_id="s", source_text="# Hi\n\nHello there, everyone.")
    assert (await writer.write(lesson)).chapters[0].title == "Hi"

    topic = ScriptRequested(video_id="v", script_id="s", title="Password hygiene")
    with pytest.raises(LlmError) as caught:
        await writer.write(topic)
    assert caught.value.retryable is False
    assert "set REELFLOW_LLM_BASE_URL" in caught.value.message and "and REELFLOW_LLM_MODEL" in caught.value.message
    assert caught.value.details["missing_settings"] == ["REELFLOW_LLM_BASE_URL", "REELFLOW_LLM_MODEL"]
