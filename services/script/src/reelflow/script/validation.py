"""The one check every written script passes, from the LLM or the offline writer: contract, then bounds.

:func:`validate_video_script` turns a JSON-like value into a :class:`VideoScript` or raises
:class:`ScriptCheckError`, whose ``problems`` are precise one-line descriptions such as
``chapters.0.scenes.2.narration: Field required``. The LLM writer quotes them back to the model in its fix
prompt; the offline writer treats any problem as its own bug.

Bounds, from :class:`ScriptOptions`:

- at most ``max_chapters`` chapters, and at most ``max_scenes_per_chapter`` scenes in each;
- (when ``check_length`` is on) a total spoken length within ±50% of ``target_minutes``: between half and
  one and a half times the target. The length is estimated from the narration text at the language's reading
  speed (``reading_speed``), not taken from ``duration_sec``: what makes a video long is the words it reads
  out, and a model's own ``duration_sec`` guesses are often far off.

The offline writer is checked without the length bound: it narrates the lesson as written, never inventing or
dropping prose to reach a length, so its length is the lesson's.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pydantic

from reelflow.contracts import ScriptOptions, VideoScript
from reelflow.script.languages import language_family
from reelflow.script.reading_speed import ENGLISH_WORDS_PER_SEC, KOREAN_SYLLABLES_PER_SEC, estimate_speech_sec

# The accepted total length is target_minutes × (1 ± LENGTH_TOLERANCE).
LENGTH_TOLERANCE = 0.5


class ScriptCheckError(ValueError):
    """A script that does not pass :func:`validate_video_script`; ``problems`` has one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class LengthBounds:
    """The accepted spoken length of a script, in seconds."""

    target_sec: float
    low_sec: float
    high_sec: float

    @classmethod
    def for_options(cls, options: ScriptOptions) -> "LengthBounds":
        target = options.target_minutes * 60
        return cls(target, target * (1 - LENGTH_TOLERANCE), target * (1 + LENGTH_TOLERANCE))


def validate_video_script(data: Any, options: ScriptOptions, *, check_length: bool = True) -> VideoScript:
    """``data`` (a parsed JSON value or a :class:`VideoScript`) as a contract-valid script within bounds.

    Raises :class:`ScriptCheckError` listing every contract error (pydantic's field path and message), or,
    once the contract holds, every bound that is broken.
    """
    if isinstance(data, VideoScript):
        data = data.model_dump(mode="json")
    try:
        script = VideoScript.model_validate(data)
    except pydantic.ValidationError as error:
        raise ScriptCheckError(describe_contract_errors(error)) from error
    problems = bound_problems(script, options, check_length=check_length)
    if problems:
        raise ScriptCheckError(problems)
    return script


def describe_contract_errors(error: pydantic.ValidationError) -> list[str]:
    """One line per pydantic error: ``chapters.0.scenes.2.narration: Field required``."""
    lines = []
    for problem in error.errors(include_url=False):
        location = ".".join(str(part) for part in problem["loc"]) or "the script"
        lines.append(f"{location}: {problem['msg']}")
    return lines


def spoken_sec(script: VideoScript, language: str) -> float:
    """How long the whole narration takes to read aloud, estimated at the language's reading speed."""
    return sum(estimate_speech_sec(scene.narration, language) for scene in script.scenes())


def bound_problems(script: VideoScript, options: ScriptOptions, *, check_length: bool = True) -> list[str]:
    """The bounds ``script`` breaks, each a sentence that says what to change; empty when it fits."""
    problems = []
    if len(script.chapters) > options.max_chapters:
        problems.append(
            f"chapters: there are {len(script.chapters)} chapters but at most {options.max_chapters} are allowed "
            "(max_chapters); merge related chapters"
        )
    for index, chapter in enumerate(script.chapters):
        if len(chapter.scenes) > options.max_scenes_per_chapter:
            problems.append(
                f"chapters.{index}.scenes: chapter {chapter.chapter_id!r} has {len(chapter.scenes)} scenes but at "
                f"most {options.max_scenes_per_chapter} are allowed per chapter (max_scenes_per_chapter); merge "
                "neighbouring scenes or move some to another chapter"
            )
    if check_length:
        bounds = LengthBounds.for_options(options)
        spoken = spoken_sec(script, options.language)
        if not bounds.low_sec <= spoken <= bounds.high_sec:
            direction = "lengthen" if spoken < bounds.low_sec else "shorten"
            problems.append(
                f"length: the narration takes about {spoken / 60:.1f} minutes to read aloud, but the target is "
                f"{options.target_minutes:g} minutes (accepted: {bounds.low_sec / 60:.1f} to "
                f"{bounds.high_sec / 60:.1f} minutes, about {length_in_units(bounds.target_sec, options.language)} "
                f"in total); {direction} the narration"
            )
    return problems


def length_in_units(seconds: float, language: str) -> str:
    """A spoken length as a count a writer can aim for: words in English, Hangul syllables in Korean."""
    family = language_family(language)
    if family == "ko":
        return f"{round(seconds * KOREAN_SYLLABLES_PER_SEC / 10) * 10} Hangul syllables"
    if family == "en":
        return f"{round(seconds * ENGLISH_WORDS_PER_SEC / 10) * 10} words"
    return f"{round(seconds)} seconds of speech"
