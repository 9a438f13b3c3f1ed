"""The offline outline writer: lesson text (plain or Markdown) → a chaptered, timed VideoScript, no LLM needed.

It narrates the lesson as written: it never invents a word, and it drops prose only in the one extreme case
described under "Bounds". The output is deterministic and passes the same check as LLM output
(``validation.validate_video_script``, without the length bound: the length is the lesson's).
"""

import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from reelflow.contracts import MAX_NARRATION_CHARS, Chapter, Scene, ScriptOptions, VideoScript
from reelflow.runtime.failures import InvalidScriptError, ReelflowError
from reelflow.script.key_phrase import ELLIPSIS, join_phrases, key_phrase, shorten_phrase
from reelflow.script.markdown_blocks import Block, CodeBlock, Heading, Paragraph, ParagraphKind, parse_markdown
from reelflow.script.pacing import MERGED_SCENE_MAX_SEC, SCENE_MAX_SEC, preferred_scene_sec
from reelflow.script.partitioning import merge_smallest_adjacent, proportional_partition
from reelflow.script.reading_speed import estimate_speech_sec, scene_duration_sec
from reelflow.script.sentences import cut_to_length, split_sentences
from reelflow.script.validation import ScriptCheckError, validate_video_script

_FINAL_PUNCTUATION = re.compile(r"[.!?。？！…:;][\"'”’»」』)\]）】]*$")
# Scene planning: a scene may hold at most this many pieces (sentences or list items) ...
MAX_PIECES_PER_SCENE = 16
# ... and each change of source block inside a scene (paragraph → paragraph, paragraph → list) costs this
# much, in the units of the squared relative deviation from the preferred length: a 3-second paragraph
# still joins its neighbour, two 8-second paragraphs stay apart.
BLOCK_CROSSING_COST = 0.3
# Code shown on screen: at most this many lines of at most this many characters.
MAX_CODE_LINES = 12
MAX_CODE_LINE_CHARS = 80
# The longest piece before its final period is added: a scene of one piece then fits MAX_NARRATION_CHARS.
PIECE_MAX_CHARS = MAX_NARRATION_CHARS - 1
_TRAILING_COMMAS = ",，、 "


@dataclass
class _Piece:
    """The smallest unit a scene is built from: one sentence of prose, or one list item or table row."""

    text: str
    seconds: float
    block: int  # which block of its document it came from; pieces of one block prefer to share a scene
    kind: ParagraphKind
    starts_item: bool = False  # the first piece of a list item or table row
    code: list[str] = field(default_factory=list)  # code blocks shown while this piece is narrated


@dataclass
class _Section:
    """A chapter before it has scenes: a title (blank when it is to be derived) and its pieces in order."""

    title: str
    pieces: list[_Piece] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(piece.seconds for piece in self.pieces)


def write_outline(source_text: str, options: ScriptOptions, *, title: str = "") -> VideoScript:
    """Turn lesson text into chapters of narrated scenes, deterministically and without losing prose.

    Chapters:
      - Markdown headings ``#``/``##``/``###`` start chapters titled with the heading text. Prose before
        the first heading forms a chapter titled ``title`` (or its first sentence's key phrase).
        A heading with no prose under it (such as a document title directly above a ``##``, or a section
        holding only code) makes no chapter of its own.
      - Without headings, paragraphs are grouped into evenly long chapters: one for a short text, about three
        for a 2–5 KB lesson, more for longer ones (and enough that 12-second scenes would fit within
        ``max_scenes_per_chapter``), each titled by its first key phrase.
      - Over ``max_chapters``, the adjacent pair of chapters with the least narration is merged (keeping
        the first title) until the count fits, so no text is lost.

    Scenes (see ``pacing``):
      - A scene is made of whole sentences and whole list items of one chapter, aiming at the preferred
        length (9 s of speech, between 6 and 12 s depending on how the lesson's length compares with
        ``target_minutes``) and never over 12 s unless one sentence or item is longer on its own.
        The split is the one closest to the preferred length overall; a scene crosses from one paragraph or
        list into the next only when that avoids a much too short scene. So short consecutive list items are
        grouped, a long one stands alone, and a minor heading (``####``) always starts a scene.
      - ``duration_sec`` is the reading-speed estimate (see ``reading_speed``).
      - ``on_screen_text`` is a key phrase shorter than 40 characters (Korean, Japanese, Chinese) or 60
        (others), never cut inside a word (see ``key_phrase``): a minor heading's text; for a scene of
        several list items, their key phrases joined with `` · `` as far as they fit; otherwise the main clause
        of the narration's first sentence, or its warning, fitted without an ellipsis.
      - Code is never narrated. A fenced or indented code block is shown as the ``on_screen_text`` of the
        scene narrating the sentence just before it (the first sentence after it when it opens a chapter),
        at most 12 lines of 80 characters; a scene never holds two code blocks unless merged to fit bounds.

    Bounds:
      - Over ``max_scenes_per_chapter``, the adjacent pair of scenes with the shortest combined narration
        is merged until the count fits. A merged scene may hold up to 90 s of speech; if no pair can merge
        within that, the chapter keeps its first ``max_scenes_per_chapter`` scenes and the rest of its text
        is dropped. This truncation is the only way text is lost, and only happens for extreme options such
        as one scene per chapter over a long chapter.

    Narration is plain text: Markdown inline syntax is stripped, and a sentence without final punctuation
    (a list item, a table row, a minor heading) gets a period so that the voice pauses.
    ``style`` is not used: this writer keeps the lesson's own words.

    Raises :class:`InvalidScriptError` when there is no prose to narrate.
    """
    language = options.language
    blocks = parse_markdown(source_text)
    sections = _sections(blocks, language, title.strip())
    total_sec = sum(section.seconds for section in sections)
    preferred_sec = preferred_scene_sec(total_sec, options.target_minutes)
    if len(sections) == 1 and not any(isinstance(block, Heading) for block in blocks):
        sections = _group_blocks(sections[0], options)
    sections = _fit_chapter_count(sections, options.max_chapters)
    chapters = []
    for number, section in enumerate(sections, start=1):
        chapter_id = f"ch{number}"
        runs = _plan_scenes(section.pieces, preferred_sec)
        runs = _fit_scene_count(section.pieces, runs, options.max_scenes_per_chapter)
        scenes = [
            _scene(f"{chapter_id}-s{index}", section.pieces[start:end], language)
            for index, (start, end) in enumerate(runs, start=1)
        ]
        chapter_title = section.title or key_phrase(section.pieces[0].text, language)
        chapters.append(Chapter(chapter_id=chapter_id, title=chapter_title, scenes=scenes))
    try:
        return validate_video_script(VideoScript(chapters=chapters), options, check_length=False)
    except ScriptCheckError as problems:  # the writer's own bug, not the user's text
        raise ReelflowError(f"the offline writer made an invalid script: {problems}") from problems


# ---- chapters ------------------------------------------------------------------------------------


def _sections(blocks: Sequence[Block], language: str, title: str) -> list[_Section]:
    """Chapters at headings, each with its pieces; code attached to the piece it belongs with."""
    sections: list[_Section] = []
    current = _Section(title=title)
    pending_code: list[str] = []  # code at the top of a section, waiting for the section's first piece
    for number, block in enumerate(blocks):
        if isinstance(block, Heading):
            sections.append(current)
            current = _Section(title=block.text)
            pending_code = []
        elif isinstance(block, CodeBlock):
            if current.pieces:
                current.pieces[-1].code.append(block.code)
            else:
                pending_code.append(block.code)
        else:
            pieces = _pieces(block, number, language)
            if pieces and pending_code:
                pieces[0].code.extend(pending_code)
                pending_code = []
            current.pieces.extend(pieces)
    sections.append(current)
    sections = [section for section in sections if section.pieces]
    if not sections:
        has_headings = any(isinstance(block, Heading) for block in blocks)
        what = "only headings" if has_headings else "empty, blank or only code blocks"
        raise InvalidScriptError(
            f"source_text has no prose to narrate (it is {what}); "
            "paste the lesson as paragraphs of text, optionally under Markdown headings",
            details={"field": "source_text"},
        )
    return sections


def _pieces(paragraph: Paragraph, block: int, language: str) -> list[_Piece]:
    """Prose → one piece per sentence; a list item or table row → one piece (per sentence if it is long).

    A sentence too long for one narration (see :data:`PIECE_MAX_CHARS`) becomes several pieces, cut at clause
    ends or spaces, so no scene is ever longer than the TTS accepts.
    """
    pieces: list[_Piece] = []
    for segment in paragraph.segments:
        sentences = [
            _with_final_punctuation(part.rstrip(_TRAILING_COMMAS))
            for sentence in split_sentences(segment, language)
            for part in cut_to_length(sentence, PIECE_MAX_CHARS)
        ]
        if not sentences:
            continue
        seconds = [estimate_speech_sec(sentence, language) for sentence in sentences]
        joined = " ".join(sentences)
        if paragraph.kind in ("list", "table") and sum(seconds) <= SCENE_MAX_SEC and len(joined) <= MAX_NARRATION_CHARS:
            pieces.append(_Piece(joined, sum(seconds), block, paragraph.kind, starts_item=True))
            continue
        for index, (sentence, sentence_sec) in enumerate(zip(sentences, seconds, strict=True)):
            starts_item = paragraph.kind in ("list", "table") and index == 0
            pieces.append(_Piece(sentence, sentence_sec, block, paragraph.kind, starts_item=starts_item))
    return pieces


def _with_final_punctuation(sentence: str) -> str:
    return sentence if _FINAL_PUNCTUATION.search(sentence) else f"{sentence}."


def _group_blocks(section: _Section, options: ScriptOptions) -> list[_Section]:
    """Chapters for text without headings: whole blocks grouped evenly, about three for a typical lesson."""
    block_ids = sorted({piece.block for piece in section.pieces})
    by_block = [[piece for piece in section.pieces if piece.block == block] for block in block_ids]
    sizes = [len(" ".join(piece.text for piece in pieces).encode()) for pieces in by_block]
    # Enough chapters that even scenes at the longest usual length fit within max_scenes_per_chapter.
    scenes_needed = math.ceil(section.seconds / SCENE_MAX_SEC)
    wanted = max(_chapter_count_for(sum(sizes)), math.ceil(scenes_needed / options.max_scenes_per_chapter))
    wanted = min(wanted, options.max_chapters, len(by_block))
    grouped = []
    for number, (start, end) in enumerate(proportional_partition(sizes, wanted)):
        title = section.title if number == 0 else ""
        grouped.append(_Section(title=title, pieces=[piece for pieces in by_block[start:end] for piece in pieces]))
    return grouped


def _chapter_count_for(text_bytes: int) -> int:
    if text_bytes < 600:
        return 1
    if text_bytes < 1500:
        return 2
    if text_bytes <= 6000:
        return 3
    return math.ceil(text_bytes / 2000)


def _fit_chapter_count(sections: list[_Section], max_chapters: int) -> list[_Section]:
    """Merge the adjacent chapters with the least speech until ``max_chapters`` remain; keep the first title."""
    if len(sections) <= max_chapters:
        return sections
    spans = merge_smallest_adjacent(_tenths(section.seconds for section in sections), max_chapters, cap=sys.maxsize)
    return [
        _Section(
            title=sections[start].title, pieces=[piece for section in sections[start:end] for piece in section.pieces]
        )
        for start, end in spans
    ]


# ---- scenes --------------------------------------------------------------------------------------


def _plan_scenes(pieces: Sequence[_Piece], preferred_sec: float) -> list[tuple[int, int]]:
    """Cut a chapter's pieces into scenes ``[start, end)`` with the lowest total cost (see :func:`_run_cost`).

    Dynamic programming over where each scene ends, each scene at most :data:`MAX_PIECES_PER_SCENE` pieces:
    linear in the number of pieces. Ties go to the earlier cut, so the plan is deterministic.
    """
    count = len(pieces)
    prefix = [0.0, *accumulate(piece.seconds for piece in pieces)]
    code_prefix = [0, *accumulate(1 if piece.code else 0 for piece in pieces)]
    chars_prefix = _chars_prefix(pieces)
    best = [0.0] + [math.inf] * count
    cut = [0] * (count + 1)
    for end in range(1, count + 1):
        for start in range(max(0, end - MAX_PIECES_PER_SCENE), end):
            if best[start] == math.inf:
                continue
            if end - start > 1 and _narration_chars(chars_prefix, start, end) > MAX_NARRATION_CHARS:
                continue
            cost = _run_cost(pieces, start, end, prefix, code_prefix, preferred_sec)
            if best[start] + cost < best[end]:
                best[end] = best[start] + cost
                cut[end] = start
    runs: list[tuple[int, int]] = []
    end = count
    while end > 0:
        runs.append((cut[end], end))
        end = cut[end]
    return runs[::-1]


def _run_cost(
    pieces: Sequence[_Piece],
    start: int,
    end: int,
    prefix: list[float],
    code_prefix: list[int],
    preferred_sec: float,
) -> float:
    """How far one scene of ``pieces[start:end]`` is from ideal; ``inf`` when it is not allowed.

    Not allowed (unless it is a single piece): longer than 12 s, two code blocks, or a minor heading that
    does not open the scene. Otherwise: the squared relative deviation from ``preferred_sec``, plus
    :data:`BLOCK_CROSSING_COST` per move into another block (moving on from a minor heading is free: the
    heading introduces what follows).
    """
    seconds = prefix[end] - prefix[start]
    if end - start > 1:
        if seconds > SCENE_MAX_SEC or code_prefix[end] - code_prefix[start] > 1:
            return math.inf
        if any(piece.kind == "heading" for piece in pieces[start + 1 : end]):
            return math.inf
    cost = ((seconds - preferred_sec) / preferred_sec) ** 2
    for index in range(start + 1, end):
        if pieces[index].block != pieces[index - 1].block and pieces[index - 1].kind != "heading":
            cost += BLOCK_CROSSING_COST
    return cost


def _fit_scene_count(pieces: Sequence[_Piece], runs: list[tuple[int, int]], max_scenes: int) -> list[tuple[int, int]]:
    """Merge neighbouring scenes, the shortest pair first, until ``max_scenes`` remain (see the bounds above)."""
    if len(runs) <= max_scenes:
        return runs
    seconds = [sum(piece.seconds for piece in pieces[start:end]) for start, end in runs]
    chars_prefix = _chars_prefix(pieces)

    def fits_one_narration(first: int, last: int) -> bool:
        return _narration_chars(chars_prefix, runs[first][0], runs[last - 1][1]) <= MAX_NARRATION_CHARS

    spans = merge_smallest_adjacent(
        _tenths(seconds), max_scenes, cap=round(MERGED_SCENE_MAX_SEC * 10), allowed=fits_one_narration
    )
    merged = [(runs[first][0], runs[last - 1][1]) for first, last in spans]
    return merged[:max_scenes]


def _chars_prefix(pieces: Sequence[_Piece]) -> list[int]:
    return [0, *accumulate(len(piece.text) for piece in pieces)]


def _narration_chars(chars_prefix: list[int], start: int, end: int) -> int:
    """The length of the narration of ``pieces[start:end]`` joined with spaces."""
    return chars_prefix[end] - chars_prefix[start] + (end - start - 1)


def _scene(scene_id: str, pieces: Sequence[_Piece], language: str) -> Scene:
    narration = " ".join(piece.text for piece in pieces)
    return Scene(
        scene_id=scene_id,
        narration=narration,
        on_screen_text=_on_screen_text(pieces, narration, language),
        duration_sec=scene_duration_sec(narration, language),
    )


def _on_screen_text(pieces: Sequence[_Piece], narration: str, language: str) -> str:
    codes = [code for piece in pieces for code in piece.code]
    if codes:
        return _code_on_screen("\n\n".join(codes))
    first = pieces[0]
    if first.kind == "heading":
        return shorten_phrase(first.text.rstrip("."), language)
    items = [piece for piece in pieces if piece.starts_item]
    if len(items) > 1 and first.starts_item:
        return join_phrases([key_phrase(item.text, language) for item in items], language)
    return key_phrase(narration, language)


def _code_on_screen(code: str) -> str:
    """Code as shown on a slide: at most :data:`MAX_CODE_LINES` lines, each cut to :data:`MAX_CODE_LINE_CHARS`."""
    lines = [line.rstrip() for line in code.split("\n")]
    shown = [line if len(line) <= MAX_CODE_LINE_CHARS else line[: MAX_CODE_LINE_CHARS - 1] + ELLIPSIS for line in lines]
    if len(shown) > MAX_CODE_LINES:
        shown = [*shown[: MAX_CODE_LINES - 1], ELLIPSIS]
    return "\n".join(shown)


def _tenths(values: Iterable[float]) -> list[int]:
    """Seconds as whole tenths: the merge compares sums, and integers keep them exact."""
    return [round(value * 10) for value in values]
