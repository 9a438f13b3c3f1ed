"""Rank badges for ranking shorts: the short's title, a ``#N`` pill and the clip's label on a transparent band
across the top."""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from reelflow.compose.fonts import FontSet
from reelflow.compose.slides import save_png
from reelflow.compose.text_fitting import Box, TextBlock, fit_text, load_font

Rgb = tuple[int, int, int]

# Everything drawn stays at least this far (a share of the frame) from the frame's edges: title-safe on
# phones, where the status bar and rounded corners eat the outer few percent.
SAFE_MARGIN = 0.06
BADGE_FILL: Rgb = (255, 196, 0)
BADGE_TEXT: Rgb = (20, 20, 20)
LABEL_TEXT: Rgb = (255, 255, 255)
TITLE_TEXT: Rgb = (255, 236, 170)  # a warm white: the title reads apart from the label under the pill
LABEL_OUTLINE: Rgb = (0, 0, 0)
# A soft dark gradient behind the badge keeps a white label readable on a bright clip.
SHADE_ALPHA = 150
# Below this share of the badge unit a label is no longer read in passing; it is cut with "…" instead.
MIN_LABEL_SHARE = 0.022


@dataclass(frozen=True)
class BadgeLayout:
    """Where a clip's badge and label sit on the overlay, in pixels of the overlay.

    The overlay is as wide as the frame and is laid at its top-left corner, so overlay pixels are frame
    pixels. Its height is the same for every clip of a size, labelled or not.
    """

    size: tuple[int, int]
    rank_text: str
    rank_font_size: int
    pill: Box
    label: TextBlock | None
    title: TextBlock | None = None


def badge_unit(frame: tuple[int, int]) -> float:
    """The length badge sizes follow: the frame's height, capped for wide (landscape) frames."""
    width, height = frame
    return min(height, width * 16 / 9)


def layout_badge(rank: int, label: str, frame: tuple[int, int], fonts: FontSet, *, title: str = "") -> BadgeLayout:
    """The short's title (up to two lines) under the top safe margin, a pill with ``#rank`` centred under it, and
    the label (up to two lines) beneath that; without a title the pill sits at the safe margin."""
    width, height = frame
    unit = badge_unit(frame)
    margin_x = round(width * SAFE_MARGIN)
    top = round(height * SAFE_MARGIN)
    title_block = None
    if title.strip():
        title_bottom = top + round(unit * 0.075)
        title_block = fit_text(
            " ".join(title.split()),
            fonts.bold,
            (margin_x, top, width - margin_x, title_bottom),
            max_size=round(unit * 0.034),
            min_size=round(unit * MIN_LABEL_SHARE),
            align_middle=False,
            max_lines=2,
        )
        top = title_bottom + round(unit * 0.012)
    rank_text = f"#{rank}"
    rank_size = max(12, round(unit * 0.065))
    text_width = load_font(fonts.bold, rank_size).getlength(rank_text)
    pill_width = min(width - 2 * margin_x, round(text_width + rank_size * 1.1))
    pill_height = round(rank_size * 1.5)
    pill_left = (width - pill_width) // 2
    pill = (pill_left, top, pill_left + pill_width, top + pill_height)
    label_top = pill[3] + round(unit * 0.015)
    label_bottom = label_top + round(unit * 0.11)
    text = " ".join(label.split())
    block = None
    if text:
        block = fit_text(
            text,
            fonts.bold,
            (margin_x, label_top, width - margin_x, label_bottom),
            max_size=round(unit * 0.046),
            min_size=round(unit * MIN_LABEL_SHARE),
            align_middle=False,
            max_lines=2,
        )
    band_height = min(height, label_bottom + round(unit * 0.03))
    return BadgeLayout(
        size=(width, band_height),
        rank_text=rank_text,
        rank_font_size=rank_size,
        pill=pill,
        label=block,
        title=title_block,
    )


def render_badge(layout: BadgeLayout, fonts: FontSet) -> Image.Image:
    """The overlay as RGBA: shaded at the top, fading to fully transparent at its bottom edge."""
    width, band_height = layout.size
    # Eased (quadratic) rather than linear, so the shade melts into the picture without a visible edge.
    ramp = Image.linear_gradient("L").resize((width, band_height))
    fade = ramp.point(lambda v: SHADE_ALPHA * (255 - v) ** 2 // 255**2)
    image = Image.new("RGBA", layout.size, (0, 0, 0, 255))
    image.putalpha(fade)
    marks = Image.new("RGBA", layout.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(marks)
    left, top, right, bottom = layout.pill
    draw.rounded_rectangle(layout.pill, radius=(bottom - top) // 2, fill=(*BADGE_FILL, 255))
    rank_font = load_font(fonts.bold, layout.rank_font_size)
    draw.text(((left + right) / 2, (top + bottom) / 2), layout.rank_text, font=rank_font, fill=BADGE_TEXT, anchor="mm")
    for block, colour in ((layout.title, TITLE_TEXT), (layout.label, LABEL_TEXT)):
        if block is None:
            continue
        font = load_font(block.font_path, block.font_size)
        outline = max(2, block.font_size // 12)
        for line, origin in zip(block.lines, block.origins, strict=True):
            draw.text(
                origin, line, font=font, fill=colour, anchor="la", stroke_width=outline, stroke_fill=LABEL_OUTLINE
            )
    return Image.alpha_composite(image, marks)


def write_badge(
    rank: int, label: str, frame: tuple[int, int], fonts: FontSet, path: Path, *, title: str = ""
) -> BadgeLayout:
    """Render one clip's overlay PNG to ``path``; returns its layout (where the pill landed)."""
    layout = layout_badge(rank, label, frame, fonts, title=title)
    save_png(render_badge(layout, fonts), path)
    return layout
