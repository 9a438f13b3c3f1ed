"""The offline outline writer: lesson text (plain or Markdown) → a chaptered, timed VideoScript, no LLM needed."""

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from reelflow.contracts import Chapter, Scene, ScriptOptions, VideoScript
from reelflow.runtime.failures import InvalidScriptError
from reelflow.script.key_phrase import key_phrase
from reelflow.script.languages import scene_hard_max_chars, scene_soft_max_chars
from reelflow.script.markdown_blocks import Heading, Paragraph, parse_markdown
from reelflow.script.partitioning import Span, balanced_partition, merge_smallest_adjacent, proportional_partition
from reelflow.script.reading_speed import scene_duration_sec
from reelflow.script.sentences import split_sentences

MAX_SENTENCES_PER_SCENE = 3
# Evenly spreading a paragraph's sentences costs quadratic time; past this size greedy packing is used.
BALANCED_PARAGRAPH_SENTENCES = 60
_FINAL_PUNCTUATION = re.compile(r"[.!?。？！…:;][\"'”’»」』)\]）】]*$")


@dataclass
class _Section:
    """A chapter before it has scenes: a title (blank when it is to be derived) and its paragraphs' sentences."""

    title: str
    paragraphs: list[list[str]]

    @property
    def chars(self) -> int:
        return sum(len(sentence) + 1 for paragraph in self.paragraphs for sentence in paragraph)


def write_outline(source_text: str, options: ScriptOptions, *, title: str = "") -> VideoScript:
    """Turn lesson text into chapters of narrated scenes, deterministically and without losing prose.

    Chapters:
      - Markdown headings ``#``/``##``/``###`` start chapters titled with the heading text. Prose before
        the first heading forms a chapter titled ``title`` (or its first sentence's key phrase).
        A heading with no prose under it (such as a document title directly above a ``##``) makes
        no chapter of its own.
      - Without headings, paragraphs are grouped into evenly sized chapters: one for a short text,
        about three for a 2–5 KB lesson, more for longer ones, each titled by its first key phrase.
      - Over ``max_chapters``, the adjacent pair of chapters with the least text is merged (keeping
        the first title) until the count fits, so no text is lost.

    Scenes:
      - A scene is 1–3 whole sentences from one paragraph, up to about 200 characters of Korean
        (Japanese, Chinese) or 350 of other languages; a longer sentence is a scene on its own.
        Sentences are never split, and a paragraph's sentences are spread evenly over the fewest
        scenes that hold them (a paragraph of over 60 sentences is packed greedily instead).
      - Over ``max_scenes_per_chapter``, the adjacent pair of scenes with the shortest combined
        narration is merged until the count fits. A merged scene may hold up to four times the usual
        length; if no pair can merge within that cap, the chapter keeps its first
        ``max_scenes_per_chapter`` scenes and the rest of its text is dropped. This truncation is the
        only way text is lost, and only happens for extreme options such as one scene per chapter
        over a long chapter.
      - ``duration_sec`` is the reading-speed estimate (see ``reading_speed``); ``on_screen_text`` is
        the scene's key phrase (see ``key_phrase``).

    Narration is plain text: Markdown inline syntax is stripped, fenced code blocks are skipped, and
    a sentence without final punctuation (a list item, a table row) gets a period so that the voice
    pauses. ``target_minutes`` and ``style`` are not used: this writer narrates the source as written.

    Raises :class:`InvalidScriptError` when there is no prose to narrate.
    """
    language = options.language
    sections = _fit_chapter_count(_sections(source_text, language, title.strip(), options.max_chapters), options)
    chapters = []
    for number, section in enumerate(sections, start=1):
        chapter_id = f"ch{number}"
        narrations = _fit_scene_count(
            _scene_texts(section.paragraphs, language),
            options.max_scenes_per_chapter,
            scene_hard_max_chars(language),
        )
        scenes = [
            Scene(
                scene_id=f"{chapter_id}-s{index}",
                narration=narration,
                on_screen_text=key_phrase(narration, language),
                duration_sec=scene_duration_sec(narration, language),
            )
            for index, narration in enumerate(narrations, start=1)
        ]
        chapter_title = section.title or key_phrase(section.paragraphs[0][0], language)
        chapters.append(Chapter(chapter_id=chapter_id, title=chapter_title, scenes=scenes))
    return VideoScript(chapters=chapters)


def _sections(source_text: str, language: str, title: str, max_chapters: int) -> list[_Section]:
    blocks = parse_markdown(source_text)
    has_headings = any(isinstance(block, Heading) for block in blocks)
    sections: list[_Section] = []
    current = _Section(title=title, paragraphs=[])
    for block in blocks:
        if isinstance(block, Heading):
            sections.append(current)
            current = _Section(title=block.text, paragraphs=[])
        elif sentences := _paragraph_sentences(block, language):
            current.paragraphs.append(sentences)
    sections.append(current)
    sections = [section for section in sections if section.paragraphs]
    if not sections:
        what = "only headings" if has_headings else "empty, blank or only code blocks"
        raise InvalidScriptError(
            f"source_text has no prose to narrate (it is {what}); "
            "paste the lesson as paragraphs of text, optionally under Markdown headings",
            details={"field": "source_text"},
        )
    if has_headings:
        return sections
    return _group_paragraphs(sections[0].paragraphs, max_chapters)


def _paragraph_sentences(paragraph: Paragraph, language: str) -> list[str]:
    return [
        sentence if _FINAL_PUNCTUATION.search(sentence) else f"{sentence}."
        for segment in paragraph.segments
        for sentence in split_sentences(segment, language)
    ]


def _group_paragraphs(paragraphs: list[list[str]], max_chapters: int) -> list[_Section]:
    """Chapters for text without headings: paragraphs grouped evenly, about three for a typical lesson."""
    sizes = [len(" ".join(paragraph).encode()) for paragraph in paragraphs]
    wanted = min(_chapter_count_for(sum(sizes)), max_chapters, len(paragraphs))
    return [
        _Section(title="", paragraphs=paragraphs[start:end]) for start, end in proportional_partition(sizes, wanted)
    ]


def _chapter_count_for(text_bytes: int) -> int:
    if text_bytes < 600:
        return 1
    if text_bytes < 1500:
        return 2
    if text_bytes <= 6000:
        return 3
    return math.ceil(text_bytes / 2000)


def _fit_chapter_count(sections: list[_Section], options: ScriptOptions) -> list[_Section]:
    """Merge the adjacent chapters with the least text until ``max_chapters`` remain; a merge keeps the first title."""
    if len(sections) <= options.max_chapters:
        return sections
    spans = merge_smallest_adjacent([section.chars for section in sections], options.max_chapters, cap=sys.maxsize)
    return [
        _Section(
            title=sections[start].title,
            paragraphs=[paragraph for section in sections[start:end] for paragraph in section.paragraphs],
        )
        for start, end in spans
    ]


def _scene_texts(paragraphs: list[list[str]], language: str) -> list[str]:
    soft_max = scene_soft_max_chars(language)
    scenes: list[str] = []
    for sentences in paragraphs:
        lengths = [len(sentence) for sentence in sentences]
        prefix = [0, *accumulate(lengths)]

        def fits(start: int, end: int, prefix: list[int] = prefix) -> bool:
            chars = prefix[end] - prefix[start] + (end - start - 1)
            return end - start <= MAX_SENTENCES_PER_SCENE and chars <= soft_max

        spans = _greedy_spans(len(lengths), fits)
        if len(lengths) <= BALANCED_PARAGRAPH_SENTENCES:
            spans = balanced_partition(lengths, len(spans), max_run=MAX_SENTENCES_PER_SCENE, allowed=fits)
        scenes.extend(" ".join(sentences[start:end]) for start, end in spans)
    return scenes


def _greedy_spans(count: int, fits: Callable[[int, int], bool]) -> list[Span]:
    """Runs packed as full as ``fits`` allows: the fewest possible, since any part of an allowed run fits too."""
    spans: list[Span] = []
    start = 0
    while start < count:
        end = start + 1
        while end < count and fits(start, end + 1):
            end += 1
        spans.append((start, end))
        start = end
    return spans


def _fit_scene_count(scenes: list[str], max_scenes: int, hard_max_chars: int) -> list[str]:
    lengths = [len(scene) for scene in scenes]
    spans = merge_smallest_adjacent(lengths, max_scenes, cap=hard_max_chars, joiner=1)
    return [" ".join(scenes[start:end]) for start, end in spans[:max_scenes]]
