"""Markdown lesson text → headings and narratable paragraphs, with inline syntax and code stripped."""

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """One block of prose. Each segment ends a sentence: a list item or table row stands on its own."""

    segments: tuple[str, ...]


Block = Heading | Paragraph

CHAPTER_HEADING_LEVELS = (1, 2, 3)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
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


def parse_markdown(source: str) -> list[Block]:
    """Split a lesson into headings and prose paragraphs, in document order.

    Fenced code blocks, YAML front matter, HTML comments, thematic breaks, link reference
    definitions and table separator rows produce nothing. ATX (``#``) and setext (``===``/``---``)
    headings become :class:`Heading`; consecutive list items and table rows form one paragraph
    with one segment each. Blocks whose text is empty once inline syntax is stripped are dropped.
    """
    source = _FRONT_MATTER.sub("", source.replace("\r\n", "\n").replace("\r", "\n"), count=1)
    source = _HTML_COMMENT.sub("", source)
    blocks: list[Block] = []
    segments: list[list[str]] = []  # the open paragraph: each segment is a list of raw lines
    in_list = False
    fence: str | None = None

    def flush() -> None:
        nonlocal in_list
        texts = tuple(text for text in (strip_inline_markdown("\n".join(lines)) for lines in segments) if text)
        if texts:
            blocks.append(Paragraph(texts))
        segments.clear()
        in_list = False

    for raw_line in source.split("\n"):
        if fence is not None:
            stripped = raw_line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
            continue
        line = _BLOCKQUOTE.sub("", raw_line)
        if opening := _FENCE.match(line):
            flush()
            fence = opening.group(1)
            continue
        if not line.strip():
            flush()
            continue
        if heading := _ATX_HEADING.match(line):
            flush()
            _add_heading(blocks, len(heading.group(1)), heading.group(2) or "")
            continue
        if segments and not in_list and len(segments) == 1 and (underline := _SETEXT_UNDERLINE.match(line)):
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
            if not in_list:
                flush()
                in_list = True
            cells = [cell.strip() for cell in row.group(1).split("|")]
            segments.append([", ".join(cell for cell in cells if cell)])
            continue
        if item := _LIST_ITEM.match(line):
            if not in_list:
                flush()
                in_list = True
            segments.append([item.group(1)])
            continue
        if segments:
            segments[-1].append(line)  # a paragraph line, or a list item's continuation
        else:
            segments.append([line])
    flush()
    return blocks


def _add_heading(blocks: list[Block], level: int, raw_text: str) -> None:
    text = " ".join(strip_inline_markdown(raw_text).split())
    if level in CHAPTER_HEADING_LEVELS:
        blocks.append(Heading(level, text))
    elif text:
        # Minor headings (#### and deeper) are narrated as a line of their own, not made into chapters.
        blocks.append(Paragraph((text,)))
