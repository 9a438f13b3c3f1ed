"""The offline outline writer on realistic Korean and English lessons, with and without headings."""

import re
import time
from pathlib import Path

import pytest

from reelflow.contracts import ErrorCode, ScriptOptions, VideoScript
from reelflow.runtime.failures import InvalidScriptError
from reelflow.script.outline import write_outline
from reelflow.script.samples import sample_lesson
from reelflow.script.sentences import split_sentences

DATA = Path(__file__).parent / "data"
KO = ScriptOptions(language="ko")
EN = ScriptOptions(language="en")
FINAL_PUNCTUATION = tuple(".?!。？！:;\"'”)")


def lesson(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def letters(text: str) -> str:
    """Only the letters and digits, in order: what must survive from source to narration."""
    return "".join(re.findall(r"[^\W_]", text))


def expected_letters(markdown: str) -> str:
    """Letters of the prose a lesson should narrate, derived independently of the writer."""
    text = re.sub(r"^(```|~~~).*?^\1[ \t]*$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"^#{1,6} .*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s", "", text, flags=re.MULTILINE)
    return letters(text)


def narration(script: VideoScript) -> str:
    return " ".join(scene.narration for scene in script.scenes())


def assert_well_formed(script: VideoScript, options: ScriptOptions, on_screen_limit: int) -> None:
    assert 1 <= len(script.chapters) <= options.max_chapters
    for number, chapter in enumerate(script.chapters, start=1):
        assert chapter.chapter_id == f"ch{number}"
        assert 1 <= len(chapter.scenes) <= options.max_scenes_per_chapter
        for index, scene in enumerate(chapter.scenes, start=1):
            assert scene.scene_id == f"ch{number}-s{index}"
            assert scene.on_screen_text
            assert len(scene.on_screen_text) <= on_screen_limit
            assert not scene.on_screen_text.endswith((".", ",", ";", ":", "!", "?", " "))
            assert scene.narration.startswith(scene.on_screen_text)
            # Whole sentences only: every scene ends where a sentence ends.
            assert scene.narration.endswith(FINAL_PUNCTUATION), scene.narration
            for marker in ("**", "`", "](", "![", "# ", "\n"):
                assert marker not in scene.narration
    assert VideoScript.model_validate_json(script.model_dump_json()) == script


def test_korean_lesson_with_headings() -> None:
    source = lesson("lesson_ko_headings.md")
    script = write_outline(source, KO)

    assert [chapter.title for chapter in script.chapters] == [
        "안전한 비밀번호 만들기",
        "좋은 비밀번호의 조건",
        "비밀번호 관리자 쓰기",
        "이중 인증 켜기",
    ]
    assert [len(chapter.scenes) for chapter in script.chapters] == [1, 3, 2, 2]
    assert_well_formed(script, KO, on_screen_limit=40)
    assert letters(narration(script)) == expected_letters(source)
    assert "openssl" not in narration(script)  # fenced code is not narrated
    assert "images/lock.png" not in narration(script)
    assert "비밀번호 관리자를 쓰면" in narration(script)  # link text stays, the URL goes
    for scene in script.scenes():
        assert len(scene.narration) <= 200 or len(split_sentences(scene.narration, "ko")) == 1
    # A list item without a period still ends its sentence so the voice pauses.
    assert "사이트마다 다른 비밀번호를 쓰세요." in narration(script)


def test_korean_lesson_without_headings_is_grouped_into_three_chapters() -> None:
    source = lesson("lesson_ko_plain.md")
    script = write_outline(source, KO)

    assert len(script.chapters) == 3
    for chapter in script.chapters:
        first = chapter.scenes[0]
        assert chapter.title == first.on_screen_text
        assert len(chapter.title) <= 40
    assert [chapter.title for chapter in script.chapters] == [
        "사무실을 나설 때 화면을 잠그는 습관은 작지만",
        "회사 밖에서 일할 때는 주변을 더 살펴야 합니다",
        "USB 메모리도 위험할 수 있습니다",
    ]
    assert_well_formed(script, KO, on_screen_limit=40)
    assert letters(narration(script)) == expected_letters(source)


def test_english_lesson_with_headings() -> None:
    source = lesson("lesson_en_headings.md")
    script = write_outline(source, EN)

    assert [chapter.title for chapter in script.chapters] == [
        "Working safely with email attachments",
        "Know the risky file types",
        "Check before you open",
    ]
    assert_well_formed(script, EN, on_screen_limit=60)
    assert letters(narration(script)) == expected_letters(source)
    assert "open_attachment" not in narration(script)
    scenes = [scene.narration for scene in script.scenes()]
    # Sentences with abbreviations and decimals are never cut apart.
    for sentence in (
        "Dr. Alvarez from our security team puts it simply: if a file asks for more permissions than it "
        "needs, it is not what it claims to be.",
        "Our scanner blocks about 3.5 million suspicious files a year, but it cannot catch everything.",
        "A single click on the wrong file can give an attacker a foothold on your laptop, e.g. through a "
        "macro or a disguised program.",
    ):
        assert sum(sentence in scene for scene in scenes) == 1
    for scene in script.scenes():
        assert len(scene.narration) <= 350 or len(split_sentences(scene.narration, "en")) == 1
        assert len(split_sentences(scene.narration, "en")) <= 3


def test_english_lesson_without_headings_is_grouped_into_three_chapters() -> None:
    source = lesson("lesson_en_plain.md")
    script = write_outline(source, EN)

    assert len(script.chapters) == 3
    assert script.chapters[0].title == "Social engineering is the art of getting people to hand over"
    assert all(len(chapter.title) <= 60 for chapter in script.chapters)
    assert_well_formed(script, EN, on_screen_limit=60)
    assert letters(narration(script)) == expected_letters(source)
    # Chapters hold whole paragraphs: each chapter's narration starts a paragraph of the source.
    paragraphs = [" ".join(block.split()) for block in source.split("\n\n")]
    for chapter in script.chapters:
        assert any(paragraph.startswith(chapter.scenes[0].narration) for paragraph in paragraphs)


def test_durations_follow_the_reading_speed() -> None:
    english = write_outline(lesson("lesson_en_plain.md"), EN)
    for scene in english.scenes():
        words = len(scene.narration.split())
        assert scene.duration_sec == pytest.approx(max(1.0, round(words / 2.6, 1)), abs=0.051)
    korean = write_outline(lesson("lesson_ko_plain.md"), KO)
    for scene in korean.scenes():
        syllables = len(re.findall(r"[가-힣]", scene.narration))
        assert scene.duration_sec is not None
        assert syllables / 7 - 0.05 <= scene.duration_sec <= syllables / 7 + 2.0
    total_syllables = len(re.findall(r"[가-힣]", lesson("lesson_ko_plain.md")))
    total_sec = sum(scene.duration_sec or 0 for scene in korean.scenes())
    assert total_syllables / 7 - 0.5 <= total_sec <= total_syllables / 7 + 4.0


def test_max_chapters_merges_adjacent_chapters_without_losing_text() -> None:
    source = lesson("lesson_ko_headings.md")
    options = ScriptOptions(language="ko", max_chapters=2)
    script = write_outline(source, options)

    assert len(script.chapters) == 2
    titles = [chapter.title for chapter in script.chapters]
    all_titles = ["안전한 비밀번호 만들기", "좋은 비밀번호의 조건", "비밀번호 관리자 쓰기", "이중 인증 켜기"]
    assert titles[0] == all_titles[0]
    assert titles[1] in all_titles[1:]
    assert_well_formed(script, options, on_screen_limit=40)
    assert letters(narration(script)) == expected_letters(source)


def test_max_chapters_bounds_the_grouping_of_plain_text() -> None:
    script = write_outline(lesson("lesson_en_plain.md"), ScriptOptions(language="en", max_chapters=2))
    assert len(script.chapters) == 2
    assert letters(narration(script)) == expected_letters(lesson("lesson_en_plain.md"))


def test_max_scenes_per_chapter_merges_scenes_into_longer_ones() -> None:
    source = lesson("lesson_en_headings.md")
    options = ScriptOptions(language="en", max_scenes_per_chapter=1)
    script = write_outline(source, options)

    assert [len(chapter.scenes) for chapter in script.chapters] == [1, 1, 1]
    assert_well_formed(script, options, on_screen_limit=60)
    assert letters(narration(script)) == expected_letters(source)
    assert max(len(scene.narration) for scene in script.scenes()) > 350  # merged past the usual size


def test_max_scenes_per_chapter_truncates_only_past_the_scene_cap() -> None:
    paragraph = " ".join(
        f"Sentence number {i} explains one more detail of the lesson at some length." for i in range(8)
    )
    source = "# Long chapter\n\n" + "\n\n".join([paragraph] * 3)
    script = write_outline(source, ScriptOptions(language="en", max_scenes_per_chapter=1))

    (scene,) = script.chapters[0].scenes
    full_text = " ".join([paragraph] * 3)
    assert len(full_text) > 1400
    assert len(scene.narration) <= 1400  # four times the usual 350 characters
    assert full_text.startswith(scene.narration)
    assert scene.narration.endswith(".")


def test_text_before_the_first_heading_gets_the_given_title_or_its_key_phrase() -> None:
    source = "Welcome to the course, everyone. Today is short.\n\n# Part one\n\nThe body of part one."
    titled = write_outline(source, EN, title="Security basics")
    assert [chapter.title for chapter in titled.chapters] == ["Security basics", "Part one"]
    untitled = write_outline(source, EN)
    assert [chapter.title for chapter in untitled.chapters] == ["Welcome to the course", "Part one"]


def test_a_heading_without_prose_makes_no_chapter() -> None:
    source = (
        "# Lesson title\n\n## Part one\n\nFirst body.\n\n## Empty part\n\n```\ncode only\n```\n\n## Part two\n\nLast."
    )
    script = write_outline(source, EN)
    assert [chapter.title for chapter in script.chapters] == ["Part one", "Part two"]
    assert [scene.narration for scene in script.scenes()] == ["First body.", "Last."]


def test_short_plain_text_is_one_chapter() -> None:
    script = write_outline("피싱을 조심하세요. 링크를 누르기 전에 확인하세요.", KO)
    assert len(script.chapters) == 1
    assert script.chapters[0].title == "피싱을 조심하세요"
    assert script.chapters[0].scenes[0].narration == "피싱을 조심하세요. 링크를 누르기 전에 확인하세요."


def test_other_languages_use_the_character_fallback() -> None:
    script = write_outline("Das ist ein kurzer Satz. Noch einer folgt hier.", ScriptOptions(language="de"))
    (scene,) = script.scenes()
    assert scene.duration_sec == pytest.approx(round(len(re.findall(r"\w", scene.narration)) / 14, 1))


def test_output_is_deterministic() -> None:
    source = lesson("lesson_ko_headings.md")
    assert write_outline(source, KO).model_dump_json() == write_outline(source, KO).model_dump_json()


@pytest.mark.parametrize(
    "source",
    ["", "   \n\t  ", "```python\nprint('only code')\n```", "# Only\n\n## Headings"],
)
def test_nothing_to_narrate_is_an_invalid_script(source: str) -> None:
    with pytest.raises(InvalidScriptError, match="source_text") as caught:
        write_outline(source, KO)
    assert caught.value.code is ErrorCode.INVALID_SCRIPT
    assert not caught.value.retryable
    assert "paste the lesson" in caught.value.message


@pytest.mark.parametrize(
    ("language", "titles"),
    [
        ("ko", ["피싱이란 무엇일까요?", "피싱 메일을 알아보는 법", "의심스러울 때 이렇게 하세요"]),
        ("en", ["What is phishing?", "How to spot a phishing email", "What to do when something looks wrong"]),
    ],
)
def test_bundled_sample_lessons(language: str, titles: list[str]) -> None:
    source = sample_lesson(language)
    assert 1000 <= len(source.encode()) <= 1500
    script = write_outline(source, ScriptOptions(language=language))
    assert [chapter.title for chapter in script.chapters] == titles
    assert letters(narration(script)) == expected_letters(source)


def test_sample_lesson_rejects_a_language_without_a_sample() -> None:
    assert sample_lesson("en-GB") == sample_lesson("en")
    with pytest.raises(ValueError, match="no sample lesson"):
        sample_lesson("fr")


def test_very_long_input_is_handled_in_near_linear_time() -> None:
    paragraph = " ".join(f"Sentence {i} says a little more about the topic." for i in range(10))
    wall_of_text = " ".join([paragraph] * 400)  # one 4,000-sentence paragraph, about 190 KB
    many_headings = "\n\n".join(f"## Part {i}\n\n{paragraph}" for i in range(400))
    started = time.monotonic()
    walled = write_outline(wall_of_text, EN)
    headed = write_outline(many_headings, EN)
    assert time.monotonic() - started < 5.0
    assert len(walled.chapters) == 1
    assert len(walled.scenes()) == EN.max_scenes_per_chapter
    assert len(headed.chapters) == EN.max_chapters
    assert all(len(chapter.scenes) <= EN.max_scenes_per_chapter for chapter in headed.chapters)
