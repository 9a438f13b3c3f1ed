"""Reading an LLM answer: the JSON taken out of whatever text surrounds it, then harmless normalisation.

:func:`extract_json` accepts a bare JSON object, one inside a Markdown code fence (```` ```json ````, a
fence with no language, or ``~~~``), or one with prose before or after it. When no JSON object can be read it
raises :class:`AnswerNotJsonError` with the decoder's own message (``Expecting ',' delimiter: line 3 column 5``),
which the fix prompt quotes back to the model.

:func:`normalise_script` tidies what the model wrote without changing what will be said: it strips
whitespace, unwraps a ``{"script": {"chapters": …}}`` wrapper, drops top-level keys other than ``chapters``
(a ``title`` or ``notes`` there is never narrated), fills missing or duplicate ``chapter_id``/``scene_id``
values deterministically, fills a missing ``duration_sec`` from the reading speed, and derives a missing or
over-long ``on_screen_text`` from the scene's own narration (its key phrase, see ``key_phrase``). It never
writes narration: a scene without narration stays without it and fails validation.
"""

import json
import re
from typing import Any

from reelflow.script.key_phrase import key_phrase, shorten_phrase
from reelflow.script.reading_speed import scene_duration_sec

# A fenced block: ``` or ~~~ (three or more), an optional info string, the body, the same fence closing it.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\n`]*)\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_JSON_LANGUAGES = frozenset({"json", "jsonc", "json5", "javascript", "js"})
# How many top-level "{" positions are tried when the JSON object sits somewhere in prose.
_MAX_OBJECT_STARTS = 20


class AnswerNotJsonError(ValueError):
    """The answer holds no readable JSON object; the message says why, for a person and for the model."""


def extract_json(answer: str) -> dict[str, Any]:
    """The JSON object in ``answer``: the whole text, else a fenced block (JSON-labelled ones first), else
    the first ``{`` in the text from which a complete object decodes. Raises :class:`AnswerNotJsonError`."""
    text = answer.strip().lstrip("\ufeff")
    if not text:
        raise AnswerNotJsonError("the answer is empty; it must be a JSON object")
    candidates: list[str] = [text]
    fences = [(info.strip().lower(), body) for _, info, body in _FENCE.findall(text)]
    candidates += [body for info, body in fences if info.split(" ")[0] in _JSON_LANGUAGES]
    candidates += [body for info, body in fences if info.split(" ")[0] not in _JSON_LANGUAGES]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        return _as_object(value)
    value = _object_in_prose(text)
    if value is not None:
        return value
    if "{" not in text:
        raise AnswerNotJsonError("the answer contains no JSON object (no '{' at all)")
    # Report the decoder's complaint about the most JSON-like part: a fenced block, else from the first "{".
    likely = candidates[1] if len(candidates) > 1 else text[text.find("{") :]
    try:
        json.loads(likely)
    except ValueError as error:
        raise AnswerNotJsonError(f"the answer is not valid JSON: {_decode_error(error)}") from None
    raise AnswerNotJsonError("the answer is not valid JSON")  # pragma: no cover - a fenced block that decodes returned


def _decode_error(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno} (character {error.pos})"
    return str(error)


def _as_object(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    kind = "a list" if isinstance(value, list) else f"a {type(value).__name__}"
    raise AnswerNotJsonError(f'the answer\'s JSON is {kind}, not an object of the form {{"chapters": [...]}}')


def _object_in_prose(text: str) -> dict[str, Any] | None:
    """The first complete object starting at a top-level ``{`` of ``text``.

    Only braces outside any other (by a plain count) are tried, so the inner objects of a broken or cut-off
    answer are never mistaken for the script.
    """
    decoder = json.JSONDecoder()
    for start in _top_level_braces(text)[:_MAX_OBJECT_STARTS]:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _top_level_braces(text: str) -> list[int]:
    starts = []
    depth = 0
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                starts.append(index)
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
    return starts


def normalise_script(data: dict[str, Any], language: str) -> dict[str, Any]:
    """A tidied copy of a parsed answer, ready for ``validate_video_script``; see the module docstring."""
    data = _unwrap(data)
    chapters = data.get("chapters")
    if not isinstance(chapters, list):
        return data  # validation names the problem
    used_chapter_ids: set[str] = set()
    used_scene_ids: set[str] = set()
    tidy_chapters: list[Any] = []
    for number, chapter in enumerate(chapters, start=1):
        if not isinstance(chapter, dict):
            tidy_chapters.append(chapter)
            continue
        chapter = _stripped(chapter)
        chapter_id = _unique_id(chapter.get("chapter_id"), f"ch{number}", used_chapter_ids)
        chapter["chapter_id"] = chapter_id
        scenes = chapter.get("scenes")
        if isinstance(scenes, list):
            chapter["scenes"] = [
                _tidy_scene(scene, f"{chapter_id}-s{index}", used_scene_ids, language)
                for index, scene in enumerate(scenes, start=1)
            ]
        tidy_chapters.append(chapter)
    return {"chapters": tidy_chapters}


def _unwrap(data: dict[str, Any]) -> dict[str, Any]:
    if "chapters" not in data:
        nested = [value for value in data.values() if isinstance(value, dict) and "chapters" in value]
        if len(nested) == 1:
            data = nested[0]
    if "chapters" in data:
        return {"chapters": data["chapters"]}
    return data


def _tidy_scene(scene: Any, default_id: str, used: set[str], language: str) -> Any:
    if not isinstance(scene, dict):
        return scene
    scene = _stripped(scene)
    scene["scene_id"] = _unique_id(scene.get("scene_id"), default_id, used)
    narration = scene.get("narration")
    if isinstance(narration, str) and narration:
        if scene.get("duration_sec") is None:
            scene["duration_sec"] = scene_duration_sec(narration, language)
        on_screen = scene.get("on_screen_text")
        if on_screen is None or on_screen == "":
            scene["on_screen_text"] = key_phrase(narration, language)
        elif isinstance(on_screen, str):
            scene["on_screen_text"] = shorten_phrase(" ".join(on_screen.split()), language)
    return scene


def _stripped(mapping: dict[str, Any]) -> dict[str, Any]:
    """A copy with leading/trailing whitespace stripped from string values and inner whitespace runs collapsed."""
    return {key: " ".join(value.split()) if isinstance(value, str) else value for key, value in mapping.items()}


def _unique_id(given: Any, default: str, used: set[str]) -> str:
    """``given`` when it is a fresh non-blank id, else ``default`` (suffixed ``-2``, ``-3`` … if taken)."""
    if isinstance(given, int | float) and not isinstance(given, bool):
        given = str(given)
    candidate = given if isinstance(given, str) and given and given not in used else default
    suffix = 2
    unique = candidate
    while unique in used:
        unique = f"{candidate}-{suffix}"
        suffix += 1
    used.add(unique)
    return unique
