"""Markdown lesson parsing: headings, prose paragraphs, lists, code blocks, and inline syntax stripped."""

import pytest

from reelflow.script.markdown_blocks import CodeBlock, Heading, Paragraph, parse_markdown, strip_inline_markdown


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("Use **strong** and __also strong__ words.", "Use strong and also strong words."),
        (
            "Some *emphasis* and _more_ here, but snake_case_name stays.",
            "Some emphasis and more here, but snake_case_name stays.",
        ),
        ("Run `pip install x` now, or `__init__.py`.", "Run pip install x now, or __init__.py."),
        ("Read [the policy](https://example.com/a_(b)) today.", "Read the policy today."),
        ("See ![a diagram](img/d.png) above and [docs][ref].", "See above and docs."),
        ("Visit <https://example.com> or <b>bold</b> text.", "Visit https://example.com or bold text."),
        ("A ~~wrong~~ right fact[^1] &amp; more \\*stars\\*.", "A wrong right fact & more *stars*."),
        ("2 * 3 * 4 stays arithmetic.", "2 * 3 * 4 stays arithmetic."),
        ("**중요**: `비밀번호`를 [바꾸세요](https://x.kr).", "중요: 비밀번호를 바꾸세요."),
    ],
)
def test_strip_inline_markdown(markdown: str, plain: str) -> None:
    assert strip_inline_markdown(markdown) == plain


def test_parse_markdown_headings_paragraphs_and_lists() -> None:
    source = "\n".join(
        [
            "---",
            "title: front matter is not narrated",
            "---",
            "Intro line one",
            "continues here.",
            "",
            "# First",
            "- item one",
            "* item two",
            "  wraps on",
            "3. item three",
            "- [x] done item",
            "",
            "Setext title",
            "============",
            "",
            "#### Minor heading",
            "",
            "> quoted text",
            "",
            "| Col A | Col B |",
            "|-------|:-----:|",
            "| a1    | b1    |",
            "",
            "<!-- a comment -->",
            "[ref]: https://example.com",
            "***",
            "## Second ##",
        ]
    )
    assert parse_markdown(source) == [
        Paragraph(("Intro line one\ncontinues here.",)),
        Heading(1, "First"),
        Paragraph(("item one", "item two\nwraps on", "item three", "done item"), "list"),
        Heading(1, "Setext title"),
        Paragraph(("Minor heading",), "heading"),
        Paragraph(("quoted text",)),
        Paragraph(("Col A, Col B", "a1, b1"), "table"),
        Heading(2, "Second"),
    ]


def test_fenced_code_blocks_are_kept_apart_verbatim() -> None:
    source = "Before.\n\n```python\n# not a heading\nprint('x')\n```\n\n~~~\n  code\n~~~\nAfter."
    assert parse_markdown(source) == [
        Paragraph(("Before.",)),
        CodeBlock("# not a heading\nprint('x')", "python"),
        CodeBlock("  code"),
        Paragraph(("After.",)),
    ]


def test_unclosed_fence_swallows_the_rest_as_code() -> None:
    assert parse_markdown("Text.\n\n```\nnever closed\n# heading inside") == [
        Paragraph(("Text.",)),
        CodeBlock("never closed\n# heading inside"),
    ]


def test_indented_code_is_code_but_not_inside_a_paragraph_or_under_a_list() -> None:
    source = "\n".join(
        [
            "Run this:",
            "",
            "    openssl rand -base64 24",
            "",
            "    echo done",
            "",
            "A paragraph",
            "    with a lazy continuation.",
            "",
            "- an item",
            "",
            "    the item's second paragraph",
        ]
    )
    assert parse_markdown(source) == [
        Paragraph(("Run this:",)),
        CodeBlock("openssl rand -base64 24\n\necho done"),
        Paragraph(("A paragraph\nwith a lazy continuation.",)),
        Paragraph(("an item",), "list"),
        Paragraph(("the item's second paragraph",)),
    ]


def test_a_list_right_after_prose_starts_its_own_block() -> None:
    assert parse_markdown("Three signs:\n- rush\n- odd sender\n\n| a | b |\n| 1 | 2 |") == [
        Paragraph(("Three signs:",)),
        Paragraph(("rush", "odd sender"), "list"),
        Paragraph(("a, b", "1, 2"), "table"),
    ]


def test_hash_without_space_is_not_a_heading() -> None:
    assert parse_markdown("#hashtag is text") == [Paragraph(("#hashtag is text",))]


def test_image_only_paragraph_is_dropped() -> None:
    assert parse_markdown("![logo](logo.png)\n\nText.") == [Paragraph(("Text.",))]
