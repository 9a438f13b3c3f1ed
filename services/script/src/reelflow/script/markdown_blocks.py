"""Markdown lesson text → headings, narratable paragraphs and code blocks, with inline syntax stripped.

Code is kept apart from everything that is narrated: fenced and indented code blocks become
:class:`CodeBlock` (shown on screen, never read aloud), and inline code spans keep only their text.
"""

import html
import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


ParagraphKind = Literal["prose", "list", "table", "heading"]


@dataclass(frozen=True)
class Paragraph:
    """One block of narratable text. Each segment ends a sentence: a list item or table row stands on its own.

    ``kind`` says where it came from: ``prose``, a ``list`` (one segment per item), a ``table`` (one per
    row), or a minor ``heading`` (``####`` and deeper, narrated as a line of its own).
    """

    segments: tuple[str, ...]
    kind: ParagraphKind = "prose"


@dataclass(frozen=True)
class CodeBlock:
    """A fenced or indented code block, verbatim (indentation kept, trailing blank lines dropped)."""

    code: str
    info: str = ""


Block = Heading | Paragraph | CodeBlock

CHAPTER_HEADING_LEVELS = (1, 2, 3)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([^`]*?)[ \t]*$")
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BLOCKQUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(.*)$")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+")
_TABLE_SEPARATOR = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
_TABLE_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:[A-Za-z0-9_-]+:.*\n|[ \t]+.*\n|-[ \t].*\n)*---[ \t]*(?:\n|\Z)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\](?:\((?:[^()]|\([^()]*\))*\)|\[[^\]]*\])")
_FOOTNOTE_REFERENCE = re.compile(r"\[\^[^\]]+\]")
_INLINE_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^()]*\))*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+|[^@>\s]+@[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.DOTALL)
_EMPHASIS_STAR = re.compile(r"(?<!\*)\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?!\*)")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![\w\\])_(?=[^\s_])([^_]+?)(?<=[^\s_])_(?!\w)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")


def strip_inline_markdown(text: str) -> str:
    """Plain narration text from Markdown inline syntax.

    Emphasis and code-span markers are dropped (their text stays), links become their text,
    images and footnote markers disappear, HTML tags are removed and entities decoded.
    Newlines are kept so that callers can still see line structure; runs of spaces collapse.
    """
    # Code spans and backslash escapes are literal text: hold them aside so no other rule rewrites them.
    held: list[str] = []

    def hold(literal: str) -> str:
        held.append(literal)
        return f"\ue000{len(held) - 1}\ue001"

    text = _CODE_SPAN.sub(lambda match: hold(match.group(2).strip()), text)
    text = _ESCAPE.sub(lambda match: hold(match.group(1)), text)
    text = _IMAGE.sub("", text)
    text = _FOOTNOTE_REFERENCE.sub("", text)
    text = _INLINE_LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMPHASIS_STAR.sub(r"\1", text)
    text = _EMPHASIS_UNDERSCORE.sub(r"\1", text)
    text = _PLACEHOLDER.sub(lambda match: held[int(match.group(1))], text)
    text = html.unescape(text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def document_title(source: str) -> str:
    """The lesson's own title: the text of a ``#`` heading that opens it (after any front matter), else ``""``.

    A ``# Title`` directly above ``##`` sections names the whole video, not its first section.
    """
    blocks = parse_markdown(source)
    first = blocks[0] if blocks else None
    return first.text if isinstance(first, Heading) and first.level == 1 else ""


def parse_markdown(source: str) -> list[Block]:
    """Split a lesson into headings, narratable paragraphs and code blocks, in document order.

    YAML front matter, HTML comments, thematic breaks, link reference definitions and table separator rows
    produce nothing. ATX (``#``) and setext (``===``/``---``) headings become :class:`Heading`; consecutive
    list items and table rows form one paragraph with one segment each. Fenced code blocks (an unclosed
    fence runs to the end) and indented code blocks (four spaces after a blank line, not under a list
    item) become :class:`CodeBlock`. Blocks whose text is empty once inline syntax is stripped are dropped.
    """
    source = _FRONT_MATTER.sub("", source.replace("\r\n", "\n").replace("\r", "\n"), count=1)
    source = _HTML_COMMENT.sub("", source)
    blocks: list[Block] = []
    segments: list[list[str]] = []  # the open paragraph: each segment is a list of raw lines
    kind: ParagraphKind = "prose"
    fence: str | None = None
    code: list[str] = []  # the open code block's lines
    code_info = ""
    indented = False  # whether the open code block is an indented one

    def flush() -> None:
        nonlocal kind
        texts = tuple(text for text in (strip_inline_markdown("\n".join(lines)) for lines in segments) if text)
        if texts:
            blocks.append(Paragraph(texts, kind))
        segments.clear()
        kind = "prose"

    def close_code() -> None:
        nonlocal fence, indented
        while code and not code[-1].strip():
            code.pop()
        if code:
            blocks.append(CodeBlock("\n".join(code), code_info))
        code.clear()
        fence, indented = None, False

    def after_list() -> bool:
        return bool(blocks) and isinstance(blocks[-1], Paragraph) and blocks[-1].kind in ("list", "table")

    for raw_line in source.split("\n"):
        if fence is not None:
            stripped = raw_line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                close_code()
            else:
                code.append(raw_line)
            continue
        if indented:
            if not raw_line.strip() or _INDENTED_CODE.match(raw_line):
                code.append(raw_line[4:] if raw_line.startswith("    ") else raw_line[1:])
                continue
            close_code()
        line = _BLOCKQUOTE.sub("", raw_line)
        if opening := _FENCE.match(line):
            flush()
            fence, code_info = opening.group(1), opening.group(2)
            continue
        if not line.strip():
            flush()
            continue
        if not segments and _INDENTED_CODE.match(raw_line) and not _BLOCKQUOTE.match(raw_line) and not after_list():
            # Indented code cannot interrupt a paragraph, and under a list item the indent is the item's.
            indented, code_info = True, ""
            code.append(line[4:] if line.startswith("    ") else line[1:])
            continue
        if heading := _ATX_HEADING.match(line):
            flush()
            _add_heading(blocks, len(heading.group(1)), heading.group(2) or "")
            continue
        if segments and kind == "prose" and len(segments) == 1 and (underline := _SETEXT_UNDERLINE.match(line)):
            text = "\n".join(segments[0])
            segments.clear()
            _add_heading(blocks, 1 if underline.group(1).startswith("=") else 2, text)
            continue
        if _THEMATIC_BREAK.match(line):
            flush()
            continue
        if _REFERENCE_DEFINITION.match(line) or _TABLE_SEPARATOR.match(line):
            continue
        if row := _TABLE_ROW.match(line):
            if kind != "table":
                flush()
                kind = "table"
            cells = [cell.strip() for cell in row.group(1).split("|")]
            segments.append([", ".join(cell for cell in cells if cell)])
            continue
        if item := _LIST_ITEM.match(line):
            if kind != "list":
                flush()
                kind = "list"
            segments.append([item.group(1)])
            continue
        if segments:
            segments[-1].append(line)  # a paragraph line, or a list item's continuation
        else:
            segments.append([line])
    flush()
    close_code()
    return blocks


def _add_heading(blocks: list[Block], level: int, raw_text: str) -> None:
    text = " ".join(strip_inline_markdown(raw_text).split())
    if level in CHAPTER_HEADING_LEVELS:
        blocks.append(Heading(level, text))
    elif text:
        # Minor headings (#### and deeper) are narrated as a line of their own, not made into chapters.
        blocks.append(Paragraph((text,), "heading"))
