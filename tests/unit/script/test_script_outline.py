"""The offline outline writer on realistic Korean and English lessons, with and without headings, lists and code."""

import re
import statistics
import time
from pathlib import Path

import pytest

from reelflow.contracts import MAX_NARRATION_CHARS, ErrorCode, Scene, ScriptOptions, VideoScript
from reelflow.runtime.failures import InvalidScriptError
from reelflow.script.markdown_blocks import CodeBlock, parse_markdown
from reelflow.script.outline import MAX_CODE_LINES, write_outline
from reelflow.script.pacing import MERGED_SCENE_MAX_SEC, SCENE_MAX_SEC
from reelflow.script.reading_speed import estimate_speech_sec, scene_duration_sec
from reelflow.script.samples import sample_lesson
from reelflow.script.sentences import split_sentences
from reelflow.script.validation import validate_video_script

DATA = Path(__file__).parent / "data"
KO = ScriptOptions(language="ko")
EN = ScriptOptions(language="en")
FINAL_PUNCTUATION = tuple(".?!。？！:;\"'”)")
LESSONS = {
    "lesson_ko_headings.md": KO,
    "lesson_ko_plain.md": KO,
    "lesson_en_headings.md": EN,
    "lesson_en_plain.md": EN,
}


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


def code_blocks(markdown: str) -> list[str]:
    return [block.code for block in parse_markdown(markdown) if isinstance(block, CodeBlock)]


def assert_key_phrase(scene: Scene, limit: int) -> None:
    """A real key phrase: under the limit, from the scene's own narration, never cut inside a word."""
    phrase = scene.on_screen_text
    assert phrase
    assert len(phrase) < limit, phrase
    assert "\n" not in phrase
    for part in phrase.split(" · "):
        head = part.removesuffix("…")
        assert head and not head.endswith((".", ",", ";", ":", "!", "?", " ")), phrase
        end = _end_in(scene.narration, head)
        assert end >= 0, (phrase, scene.narration)
        following = scene.narration[end : end + 1]
        assert not following.isalnum(), (phrase, scene.narration)  # the phrase ends where a word ends


def _end_in(narration: str, head: str) -> int:
    """Where ``head`` ends in ``narration`` (-1: it is not there). A main clause may open the slide capitalised
    ("Bend your knees"), and a Korean one may carry its sentence's topic ("피싱은") from the clause before it."""
    for candidate in (head, head[:1].lower() + head[1:]):
        if (at := narration.find(candidate)) >= 0:
            return at + len(candidate)
    words = head.split(" ")
    for split in range(1, len(words)):
        topic, rest = " ".join(words[:split]), " ".join(words[split:])
        if topic.endswith(("은", "는")) and topic in narration and (at := narration.find(rest)) >= 0:
            return at + len(rest)
    return -1


def assert_well_formed(script: VideoScript, options: ScriptOptions, source: str = "") -> None:
    limit = 40 if options.language.startswith("ko") else 60
    codes = code_blocks(source)
    assert 1 <= len(script.chapters) <= options.max_chapters
    for number, chapter in enumerate(script.chapters, start=1):
        assert chapter.chapter_id == f"ch{number}"
        assert 1 <= len(chapter.scenes) <= options.max_scenes_per_chapter
        for index, scene in enumerate(chapter.scenes, start=1):
            assert scene.scene_id == f"ch{number}-s{index}"
            assert scene.duration_sec == scene_duration_sec(scene.narration, options.language)
            if scene.on_screen_text and any(scene.on_screen_text.split("\n")[0] in code for code in codes):
                assert scene.on_screen_text.count("\n") < MAX_CODE_LINES
            else:
                assert_key_phrase(scene, limit)
            # Whole sentences only: every scene ends where a sentence ends.
            assert scene.narration.endswith(FINAL_PUNCTUATION), scene.narration
            for marker in ("**", "`", "](", "![", "# ", "\n"):
                assert marker not in scene.narration
    for code in codes:  # code is shown, never read aloud
        for line in code.splitlines():
            if len(line.strip()) > 8:
                assert line.strip() not in narration(script)
    # The same check the LLM writer's answers pass, without the length bound.
    assert validate_video_script(script.model_dump(mode="json"), options, check_length=False) == script


def test_korean_lesson_with_headings() -> None:
    source = lesson("lesson_ko_headings.md")
    script = write_outline(source, KO)

    assert [chapter.title for chapter in script.chapters] == [
        "안전한 비밀번호 만들기",
        "좋은 비밀번호의 조건",
        "비밀번호 관리자 쓰기",
        "이중 인증 켜기",
    ]
    assert_well_formed(script, KO, source)
    assert letters(narration(script)) == expected_letters(source)
    assert "openssl" not in narration(script)  # fenced code is not narrated ...
    [code_scene] = [scene for scene in script.scenes() if "openssl" in (scene.on_screen_text or "")]
    assert code_scene.on_screen_text == "# 이 코드는 화면에만 보이고 읽지 않습니다\nopenssl rand -base64 24"
    # ... it is shown while the sentence just before it is read.
    assert code_scene.narration.endswith("마스터 비밀번호 하나만 잘 지키면 됩니다.")
    assert "images/lock.png" not in narration(script)
    assert "비밀번호 관리자를 쓰면" in narration(script)  # link text stays, the URL goes
    # A list item without a period still ends its sentence so the voice pauses.
    assert "사이트마다 다른 비밀번호를 쓰세요." in narration(script)
    # The three short list items share one scene, headed by the first item's phrase.
    [list_scene] = [scene for scene in script.scenes() if "서너 개를" in scene.narration]
    assert list_scene.narration == (
        "서로 관계없는 단어 서너 개를 이어 붙이세요. 이름, 전화번호, 생일처럼 알려진 정보는 빼세요. "
        "사이트마다 다른 비밀번호를 쓰세요."
    )
    assert list_scene.on_screen_text == "서로 관계없는 단어 서너 개를 이어 붙이세요"


def test_korean_lesson_without_headings_is_grouped_into_three_chapters() -> None:
    source = lesson("lesson_ko_plain.md")
    script = write_outline(source, KO)

    assert len(script.chapters) == 3
    for chapter in script.chapters:
        assert chapter.title == chapter.scenes[0].on_screen_text
        assert len(chapter.title) < 40
    assert [chapter.title for chapter in script.chapters] == [
        "사무실을 나설 때 화면을 잠그는 습관은 중요한 보안 수칙입니다",
        "회사 밖에서 일할 때는 주변을 더 살펴야 합니다",
        "USB 메모리도 위험할 수 있습니다",
    ]
    assert_well_formed(script, KO, source)
    assert letters(narration(script)) == expected_letters(source)


def test_english_lesson_with_headings() -> None:
    source = lesson("lesson_en_headings.md")
    script = write_outline(source, EN)

    assert [chapter.title for chapter in script.chapters] == [
        "Working safely with email attachments",
        "Know the risky file types",
        "Check before you open",
    ]
    assert_well_formed(script, EN, source)
    assert letters(narration(script)) == expected_letters(source)
    assert "open_attachment" not in narration(script)
    [code_scene] = [scene for scene in script.scenes() if "open_attachment" in (scene.on_screen_text or "")]
    assert code_scene.narration.endswith("Does the message push you to act right now?")
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
    # Each list item is whole in exactly one scene.
    for item in (
        "Enable macros only for files you requested from someone you know.",
        "Open unexpected archives in the browser preview, not on your desktop.",
        "Forward anything odd to the security mailbox.",
    ):
        assert sum(item in scene for scene in scenes) == 1


def test_english_lesson_without_headings_is_grouped_into_three_chapters() -> None:
    source = lesson("lesson_en_plain.md")
    script = write_outline(source, EN)

    assert len(script.chapters) == 3
    assert script.chapters[0].title == "Social engineering is the art of getting people"
    assert all(len(chapter.title) < 60 for chapter in script.chapters)
    assert_well_formed(script, EN, source)
    assert letters(narration(script)) == expected_letters(source)
    # Chapters hold whole paragraphs: each chapter's narration starts a paragraph of the source.
    paragraphs = [" ".join(block.split()) for block in source.split("\n\n")]
    for chapter in script.chapters:
        assert any(paragraph.startswith(chapter.scenes[0].narration) for paragraph in paragraphs)


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_scenes_are_neither_tiny_nor_huge(name: str) -> None:
    options = LESSONS[name]
    script = write_outline(lesson(name), options)
    lengths = []
    for scene in script.scenes():
        seconds = estimate_speech_sec(scene.narration, options.language)
        lengths.append(seconds)
        if len(split_sentences(scene.narration, options.language)) > 1:
            assert seconds <= SCENE_MAX_SEC, scene.narration  # only a single long sentence may run over
    assert 5.0 <= statistics.median(lengths) <= SCENE_MAX_SEC
    assert sum(seconds < 3.0 for seconds in lengths) <= len(lengths) // 4


def test_target_minutes_sets_the_pace() -> None:
    """A lesson much longer than its target gets longer (so fewer) scenes than one much shorter."""
    source = lesson("lesson_en_plain.md")
    rushed = write_outline(source, ScriptOptions(language="en", target_minutes=0.5, max_scenes_per_chapter=20))
    leisurely = write_outline(source, ScriptOptions(language="en", target_minutes=10, max_scenes_per_chapter=20))
    assert len(rushed.scenes()) < len(leisurely.scenes())
    assert narration(rushed) == narration(leisurely)  # the pace changes, never the words


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


def test_short_list_items_are_grouped_and_long_ones_stand_alone() -> None:
    short = (
        "# Habits\n\nEvery day:\n\n- Lock your screen.\n- Use a password manager.\n- Report phishing.\n- Update apps."
    )
    script = write_outline(short, EN)
    [chapter] = script.chapters
    assert len(chapter.scenes) <= 2
    for item in ("Lock your screen.", "Use a password manager.", "Report phishing.", "Update apps."):
        assert sum(item in scene.narration for scene in chapter.scenes) == 1
    assert chapter.scenes[0].on_screen_text == "Lock your screen"  # the instruction, not its lead-in

    script = write_outline("# Habits\n\n- Lock your screen.\n- Use a password manager.\n- Report phishing.", EN)
    [scene] = script.scenes()
    assert scene.on_screen_text == "Lock your screen · Use a password manager · Report phishing"

    long_items = [
        "Lock your screen every single time you step away from the desk, even if it is only for a coffee.",
        "Use the company password manager to create and remember a different long password for every site.",
        "Report anything that looks like phishing to the security team, even when you are not sure about it.",
    ]
    script = write_outline("# Habits\n\n" + "\n".join(f"- {item}" for item in long_items), EN)
    assert [scene.narration for scene in script.scenes()] == long_items
    assert_well_formed(script, EN)


def test_code_is_shown_never_read() -> None:
    source = "\n".join(
        [
            "# Generate a password",
            "",
            "```bash",
            "pwgen -s 24 1",
            "```",
            "",
            "The command above prints one random password. Copy it into the password manager.",
            "",
            "Then check that it was saved. Run this to list your vault:",
            "",
            "    vault list --all",
            "",
            "The new entry should be at the top of the list.",
        ]
    )
    script = write_outline(source, EN)
    assert_well_formed(script, EN, source)
    assert "pwgen" not in narration(script) and "vault list" not in narration(script)
    shown = {scene.on_screen_text: scene.narration for scene in script.scenes()}
    # Code that opens a chapter goes with the chapter's first sentence; other code with the sentence before it.
    assert shown["pwgen -s 24 1"].startswith("The command above prints one random password.")
    assert shown["vault list --all"].endswith("Run this to list your vault:")


def test_long_code_is_capped_on_screen() -> None:
    code = "\n".join(f"line_{number} = {'x' * 100}" for number in range(40))
    script = write_outline(f"# Code\n\nHere is a long listing.\n\n```\n{code}\n```\n", EN)
    [scene] = script.scenes()
    lines = (scene.on_screen_text or "").split("\n")
    assert len(lines) == MAX_CODE_LINES
    assert lines[-1] == "…"
    assert all(len(line) <= 80 for line in lines)
    assert scene.narration == "Here is a long listing."


def test_a_minor_heading_starts_a_scene_and_is_its_key_phrase() -> None:
    source = "# Topic\n\nA first short sentence.\n\n#### Extra tip\n\nKeep your software up to date."
    script = write_outline(source, EN)
    tip = next(scene for scene in script.scenes() if "Extra tip" in scene.narration)
    assert tip.narration.startswith("Extra tip.")
    assert tip.on_screen_text == "Extra tip"


def test_max_chapters_merges_adjacent_chapters_without_losing_text() -> None:
    source = lesson("lesson_ko_headings.md")
    options = ScriptOptions(language="ko", max_chapters=2)
    script = write_outline(source, options)

    assert len(script.chapters) == 2
    titles = [chapter.title for chapter in script.chapters]
    all_titles = ["안전한 비밀번호 만들기", "좋은 비밀번호의 조건", "비밀번호 관리자 쓰기", "이중 인증 켜기"]
    assert titles[0] == all_titles[0]
    assert titles[1] in all_titles[1:]
    assert_well_formed(script, options, source)
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
    assert_well_formed(script, options, source)
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
    assert estimate_speech_sec(full_text, "en") > MERGED_SCENE_MAX_SEC
    assert estimate_speech_sec(scene.narration, "en") <= MERGED_SCENE_MAX_SEC
    assert full_text.startswith(scene.narration)
    assert scene.narration.endswith(".")


@pytest.mark.parametrize("name", sorted(LESSONS))
@pytest.mark.parametrize(("max_chapters", "max_scenes"), [(1, 1), (1, 3), (2, 2), (3, 50), (30, 1)])
def test_bounds_always_hold(name: str, max_chapters: int, max_scenes: int) -> None:
    language = LESSONS[name].language
    options = ScriptOptions(language=language, max_chapters=max_chapters, max_scenes_per_chapter=max_scenes)
    script = write_outline(lesson(name), options)
    assert_well_formed(script, options, lesson(name))


def test_text_before_the_first_heading_gets_the_given_title_or_its_key_phrase() -> None:
    source = "Welcome to the course, everyone. Today is short.\n\n# Part one\n\nThe body of part one."
    titled = write_outline(source, EN, title="Security basics")
    assert [chapter.title for chapter in titled.chapters] == ["Security basics", "Part one"]
    untitled = write_outline(source, EN)
    assert [chapter.title for chapter in untitled.chapters] == ["Welcome to the course, everyone", "Part one"]


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


@pytest.mark.parametrize("name", [*sorted(LESSONS), "sample_ko", "sample_en"])
def test_output_is_deterministic(name: str) -> None:
    if name.startswith("sample"):
        source, options = sample_lesson(name[-2:]), ScriptOptions(language=name[-2:])
    else:
        source, options = lesson(name), LESSONS[name]
    assert write_outline(source, options).model_dump_json() == write_outline(source, options).model_dump_json()


@pytest.mark.parametrize(
    "source",
    ["", "   \n\t  ", "```python\nprint('only code')\n```", "# Only\n\n## Headings", "    indented code only"],
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
    options = ScriptOptions(language=language)
    script = write_outline(source, options)
    assert [chapter.title for chapter in script.chapters] == titles
    assert letters(narration(script)) == expected_letters(source)
    assert_well_formed(script, options, source)


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


# ---- the TTS limit -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "language"),
    [
        (" ".join(["the quick brown fox jumps over the lazy dog"] * 70), "en"),  # 3,149 characters, no period
        ("x" * 5000, "en"),  # one "word" a TTS still has to speak
        ("피싱 메일은 조심해야 하는 위험한 공격 " * 150, "ko"),
        (", ".join(["a list of clauses that never ends"] * 120), "en"),
    ],
)
def test_no_scene_is_longer_than_the_tts_accepts(text: str, language: str) -> None:
    script = write_outline(text, ScriptOptions(language=language))
    lengths = [len(scene.narration) for scene in script.scenes()]
    assert len(lengths) >= 2 and max(lengths) <= MAX_NARRATION_CHARS, lengths
    spoken = "".join(scene.narration for scene in script.scenes())
    assert spoken.replace(" ", "").replace(".", "").replace(",", "") == (
        text.replace(" ", "").replace(".", "").replace(",", "")
    ), "no text lost or invented"


def test_merging_scenes_to_fit_the_scene_cap_never_passes_the_tts_limit() -> None:
    text = "\n\n".join(" ".join([f"sentence{n} part"] * 300) for n in range(4))
    script = write_outline(text, ScriptOptions(language="en", max_chapters=1, max_scenes_per_chapter=2))
    assert all(len(scene.narration) <= MAX_NARRATION_CHARS for scene in script.scenes())
