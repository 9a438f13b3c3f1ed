"""Pillow slides: a themed still per scene and a title card for the thumbnail, laid out for the frame's size.

Slide text is fitted inside the area that stays visible and clear at every size (see :func:`content_area`):
it shrinks until it fits, and is ellipsised at a word boundary only if even the smallest size is too big.
"""

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw

from reelflow.compose.fonts import FontSet
from reelflow.compose.text_fitting import Box, load_font

# Re-exported: other layouts (ranking badges) fit their text with these through this module.
from reelflow.compose.text_fitting import TextBlock as TextBlock
from reelflow.compose.text_fitting import fit_text as fit_text
from reelflow.contracts import BrandColours, LessonSpec, Scene

Rgb = tuple[int, int, int]

# Burned subtitles sit in the bottom 22% of the frame; slide text never goes there.
SUBTITLE_ZONE = 0.22
# A Ken Burns move may later zoom a slide by up to this much and pan it. That crops up to ~6% off one
# side, and pushes a point at height y down to y * 1.06 when the zoom is anchored at the top.
KEN_BURNS_MAX_ZOOM = 1.06
SAFE_X = 0.08  # inset on the left and right: more than the 7% a Ken Burns crop and title-safe need
SAFE_TOP = 0.07
SAFE_BOTTOM = 0.07  # for the title card, which is not zoomed and has no subtitles
# Font sizes as shares of the layout unit (see layout_unit): a landscape frame's height, an upright one's width.
HEADLINE_MAX_SHARE = 0.11
HEADLINE_MIN_SHARE = 0.03  # about 22 px at 720p: still legible on a phone
CHAPTER_MAX_SHARE = 0.045
CHAPTER_MIN_SHARE = 0.025
TITLE_MAX_SHARE = 0.14
TITLE_MIN_SHARE = 0.035
CARD_SUBTITLE_MAX_SHARE = 0.06
CARD_SUBTITLE_MIN_SHARE = 0.025
HEADLINE_FALLBACK_CHARS = 60
UPRIGHT_UNIT_PER_WIDTH = 0.75
# The bullets layout: rows on a slide, and the largest text of the current point and of the earlier ones.
MAX_BULLETS = 5
BULLET_CURRENT_MAX_SHARE = 0.075
BULLET_EARLIER_MAX_SHARE = 0.055
BULLET_ROW_MAX_SHARE = 0.2
IMAGE_SLIDE_TEXT_SCALE = 0.8  # beside or under a picture, the headline's largest size is a little smaller
# A logo's height as a share of the layout unit, on a scene slide and on a title or outro card, and its widest.
SLIDE_LOGO_SHARE = 0.08
CARD_LOGO_SHARE = 0.16
LOGO_MAX_WIDTH_SHARE = 0.2

_CLAUSE_END = re.compile(r"(?<=[.!?。！？…,，;:])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+")


@dataclass(frozen=True)
class SlideTheme:
    background_top: Rgb
    background_bottom: Rgb
    headline: Rgb
    chapter: Rgb
    accent: Rgb
    logo: Path | None = None  # the brand's logo: small at the top right of each slide, above the title on cards


DEFAULT_THEME = SlideTheme(
    background_top=(22, 34, 58),
    background_bottom=(10, 14, 26),
    headline=(245, 247, 250),
    chapter=(168, 186, 214),
    accent=(255, 183, 77),
)
LIGHT_THEME = SlideTheme(
    background_top=(250, 251, 253),
    background_bottom=(226, 232, 242),
    headline=(18, 26, 42),
    chapter=(84, 100, 128),
    accent=(0, 112, 224),
)
DARK_TEXT: Rgb = (18, 22, 30)
LIGHT_TEXT: Rgb = (248, 249, 251)
# A full-frame picture is darkened by this share of black, and its chapter line is a light grey on it.
PICTURE_DIMMING = 0.5
PICTURE_CHAPTER_TEXT: Rgb = (214, 222, 235)


def theme_for(theme: str, brand: BrandColours | None = None) -> SlideTheme:
    """The slides' colours for ``LessonSpec.theme``: dark (the default), light, or the brand's own."""
    if theme == "light":
        return LIGHT_THEME
    if theme != "brand" or brand is None:
        return DEFAULT_THEME
    background = _rgb(brand.background)
    light = _luminance(background) > 0.45
    headline = _rgb(brand.text) if brand.text else (DARK_TEXT if light else LIGHT_TEXT)
    top = _mix(background, (255, 255, 255), 0.08)
    bottom = _mix(background, (0, 0, 0), 0.06 if light else 0.18)
    chapter = _mix(headline, background, 0.3)
    if min(_contrast(chapter, top), _contrast(chapter, bottom)) < 3.0:
        chapter = headline  # a muted chapter line must still read
    return SlideTheme(
        background_top=top, background_bottom=bottom, headline=headline, chapter=chapter, accent=_rgb(brand.accent)
    )


def _rgb(hex_colour: str) -> Rgb:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def _mix(colour: Rgb, other: Rgb, share: float) -> Rgb:
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(colour, other, strict=True))
    return red, green, blue


def _contrast(first: Rgb, second: Rgb) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: Rgb) -> float:
    """Relative luminance (sRGB, WCAG), 0 for black to 1 for white."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@dataclass(frozen=True)
class SlideContent:
    """What one scene's slide shows."""

    headline: str
    chapter_title: str = ""
    # The bullets layout: the key points of the chapter's earlier scenes, shown dimmed above this one's.
    earlier_points: tuple[str, ...] = ()
    image: Path | None = None  # the scene's visual, placed beside (landscape) or above (upright) the text
    full_frame: bool = False  # the image fills the frame instead, darkened under the text

    @classmethod
    def for_scene(cls, chapter_title: str, scene: Scene) -> "SlideContent":
        """The scene's ``on_screen_text``, or the opening clause of its narration when it has none."""
        text = (scene.on_screen_text or "").strip() or headline_from_narration(scene.narration)
        return cls(headline=text, chapter_title=chapter_title, full_frame=scene.visual_placement == "full_frame")

    @property
    def picture_behind(self) -> bool:
        """Whether the slide is its picture, full frame, with the text over it."""
        return self.image is not None and self.full_frame


@dataclass(frozen=True)
class SlideLayout:
    size: tuple[int, int]
    chapter: TextBlock | None
    accent_bar: Box | None
    headline: TextBlock
    earlier_points: tuple[TextBlock, ...] = ()
    image_box: Box | None = None
    logo_box: Box | None = None


def logo_size(logo: Path, size: tuple[int, int], share: float) -> tuple[int, int]:
    """The logo scaled to ``share`` of the layout unit high, keeping its shape, at most a fifth of the frame wide."""
    with Image.open(logo) as opened:
        aspect = opened.width / max(1, opened.height)
    height = max(1, round(layout_unit(size) * share))
    width = round(height * aspect)
    widest = round(size[0] * LOGO_MAX_WIDTH_SHARE)
    if width > widest:
        width, height = widest, max(1, round(widest / aspect))
    return width, height


def headline_from_narration(narration: str, max_chars: int = HEADLINE_FALLBACK_CHARS) -> str:
    """The first sentence, or its first clause when the sentence is long, cut at a word under ``max_chars``."""
    text = " ".join(narration.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(sentence) > max_chars:
        sentence = _CLAUSE_END.split(sentence, maxsplit=1)[0]
    sentence = sentence.rstrip(" .,;:，。")
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[:max_chars].rsplit(" ", 1)[0] if " " in sentence[:max_chars] else sentence[:max_chars]
    return cut.rstrip(" ,;:，") + "…"


def layout_unit(size: tuple[int, int]) -> float:
    """The length slide text is sized from. Landscape frames: the height (the width's 9/16 when wider than
    16:9). Upright and square frames: :data:`UPRIGHT_UNIT_PER_WIDTH` of the width, so text on a phone-shaped
    slide is as large as its width allows and wraps onto more lines, instead of a 16:9 layout's small line
    floating in the middle."""
    width, height = size
    if height >= width:
        return width * UPRIGHT_UNIT_PER_WIDTH
    return min(height, width * 9 / 16)


def content_area(size: tuple[int, int]) -> Box:
    """Where scene-slide text may go: at least 7% in from each side and from the top, and above the
    subtitle zone even after the largest Ken Burns zoom (``(1 - SUBTITLE_ZONE) / KEN_BURNS_MAX_ZOOM``, ~74%)."""
    width, height = size
    return (
        _inset(width, SAFE_X),
        _inset(height, SAFE_TOP),
        width - _inset(width, SAFE_X),
        math.floor(height * (1 - SUBTITLE_ZONE) / KEN_BURNS_MAX_ZOOM),
    )


def _inset(length: int, share: float) -> int:
    """Rounded up, so an inset is never a pixel short of its share."""
    return math.ceil(length * share)


def _px(size: tuple[int, int], share: float) -> int:
    return round(layout_unit(size) * share)


def _centred_bar(frame_width: int, top: int, bar_width: int, thickness: int) -> Box:
    """A horizontal bar centred on the frame (an odd ``bar_width`` loses its last pixel, keeping it symmetric)."""
    middle, half = frame_width // 2, bar_width // 2
    return (middle - half, top, middle + half, top + thickness)


def layout_scene_slide(
    content: SlideContent, size: tuple[int, int], fonts: FontSet, *, logo: tuple[int, int] | None = None
) -> SlideLayout:
    """Chapter title at the top of :func:`content_area`, an accent bar, then the headline centred below.

    Each text is fitted to its own box (see :func:`fit_text`), so long text shrinks and nothing
    overflows. The blocks' ``ink_box`` says where each one landed. A ``logo`` (its size) sits in the top right
    corner of the area; the centred chapter title keeps clear of it on both sides.
    """
    width, _ = size
    left, top, right, bottom = content_area(size)
    unit = layout_unit(size)
    chapter_block: TextBlock | None = None
    accent_bar: Box | None = None
    headline_top = top
    logo_box: Box | None = None
    beside_logo = 0
    if logo is not None:
        logo_box = (right - logo[0], top, right, top + logo[1])
        beside_logo = logo[0] + round(unit * 0.03)
        if not content.chapter_title.strip():
            headline_top = logo_box[3] + round(unit * 0.03)
    if content.chapter_title.strip():
        chapter_box = (
            left + beside_logo,
            top,
            right - beside_logo,
            top + max(round(unit * 0.13), logo[1] if logo else 0),
        )
        chapter_block = fit_text(
            content.chapter_title,
            fonts.regular,
            chapter_box,
            max_size=_px(size, CHAPTER_MAX_SHARE),
            min_size=_px(size, CHAPTER_MIN_SHARE),
            align_middle=False,
            max_lines=2,
        )
        bar_top = chapter_block.ink_box[3] + round(unit * 0.025)
        accent_bar = _centred_bar(width, bar_top, round(width * 0.06), max(2, round(unit * 0.006)))
        headline_top = accent_bar[3] + round(unit * 0.04)
    image_box: Box | None = None
    if content.image is not None and not content.full_frame:
        gap = round(unit * 0.04)
        if width > size[1]:  # landscape: the picture on the right, the text beside it
            middle = left + round((right - left) * 0.5)
            image_box, right = (middle + gap // 2, headline_top, right, bottom), middle - gap // 2
        else:  # upright or square: the picture above the text
            middle = headline_top + round((bottom - headline_top) * 0.55)
            image_box, headline_top = (left, headline_top, right, middle - gap // 2), middle + gap // 2
    if content.earlier_points:
        layout = _bullet_layout(content, size, fonts, chapter_block, accent_bar, (left, headline_top, right, bottom))
        return replace(layout, image_box=image_box, logo_box=logo_box)
    headline = fit_text(
        content.headline,
        fonts.bold,
        (left, headline_top, right, bottom),
        max_size=_px(size, HEADLINE_MAX_SHARE * (IMAGE_SLIDE_TEXT_SCALE if image_box else 1.0)),
        min_size=_px(size, HEADLINE_MIN_SHARE),
    )
    return SlideLayout(
        size=size,
        chapter=chapter_block,
        accent_bar=accent_bar,
        headline=headline,
        image_box=image_box,
        logo_box=logo_box,
    )


def _bullet_layout(
    content: SlideContent,
    size: tuple[int, int],
    fonts: FontSet,
    chapter: TextBlock | None,
    accent_bar: Box | None,
    area: Box,
) -> SlideLayout:
    """The chapter's points so far, one row each, the current one last and larger: a list that builds up.

    At most :data:`MAX_BULLETS` rows, the oldest scrolling off the top; the list is centred in its area, each
    row at most :data:`BULLET_ROW_MAX_SHARE` of the layout unit high, so a few points stay together."""
    left, top, right, bottom = area
    earlier = content.earlier_points[-(MAX_BULLETS - 1) :]
    rows = len(earlier) + 1
    row_height = min((bottom - top) // max(rows, 3), round(layout_unit(size) * BULLET_ROW_MAX_SHARE))
    gap = round(layout_unit(size) * 0.015)
    stack_top = top + ((bottom - top) - rows * row_height) // 2  # the list sits in the middle of its area
    blocks = []
    for index, point in enumerate([*earlier, content.headline]):
        current = index == len(earlier)
        row_top = stack_top + index * row_height
        blocks.append(
            fit_text(
                point,
                fonts.bold if current else fonts.regular,
                (left, row_top, right, row_top + row_height - gap),
                max_size=_px(size, BULLET_CURRENT_MAX_SHARE if current else BULLET_EARLIER_MAX_SHARE),
                min_size=_px(size, HEADLINE_MIN_SHARE),
                max_lines=2,
            )
        )
    return SlideLayout(
        size=size, chapter=chapter, accent_bar=accent_bar, headline=blocks[-1], earlier_points=tuple(blocks[:-1])
    )


def video_title(spec: LessonSpec) -> str:
    """The video title the title card and the thumbnail show: ``title``, else ``publish.title`` (or "")."""
    return spec.title.strip() or (spec.publish.title if spec.publish else "")


@dataclass(frozen=True)
class TitleCardLayout:
    size: tuple[int, int]
    title: TextBlock
    accent_bar: Box | None
    subtitle: TextBlock | None
    logo_box: Box | None = None


def layout_title_card(
    title: str, subtitle: str, size: tuple[int, int], fonts: FontSet, *, logo: tuple[int, int] | None = None
) -> TitleCardLayout:
    """The video title large in the upper two thirds, the subtitle under an accent bar, all 7% in from the edges;
    a ``logo`` (its size) centred above the title.

    The thumbnail is neither zoomed nor subtitled, so it may use the frame down to the bottom inset.
    """
    width, height = size
    unit = layout_unit(size)
    left, right = _inset(width, SAFE_X), width - _inset(width, SAFE_X)
    top, bottom = _inset(height, SAFE_TOP), height - _inset(height, SAFE_BOTTOM)
    logo_box: Box | None = None
    if logo is not None:
        logo_left = (width - logo[0]) // 2
        logo_box = (logo_left, top, logo_left + logo[0], top + logo[1])
        top = logo_box[3] + round(unit * 0.04)
    split = top + round((bottom - top) * (0.68 if subtitle.strip() else 1.0))
    title_block = fit_text(
        title,
        fonts.bold,
        (left, top, right, split),
        max_size=_px(size, TITLE_MAX_SHARE),
        min_size=_px(size, TITLE_MIN_SHARE),
    )
    if not subtitle.strip():
        return TitleCardLayout(size=size, title=title_block, accent_bar=None, subtitle=None, logo_box=logo_box)
    bar_top = split + round(unit * 0.02)
    accent_bar = _centred_bar(width, bar_top, round(width * 0.08), max(3, round(unit * 0.008)))
    subtitle_block = fit_text(
        subtitle,
        fonts.regular,
        (left, accent_bar[3] + round(unit * 0.03), right, bottom),
        max_size=_px(size, CARD_SUBTITLE_MAX_SHARE),
        min_size=_px(size, CARD_SUBTITLE_MIN_SHARE),
        max_lines=3,
    )
    return TitleCardLayout(
        size=size, title=title_block, accent_bar=accent_bar, subtitle=subtitle_block, logo_box=logo_box
    )


def render_background(size: tuple[int, int], theme: SlideTheme = DEFAULT_THEME) -> Image.Image:
    """A subtle vertical gradient from ``background_top`` to ``background_bottom``."""
    mask = Image.linear_gradient("L").resize(size)
    top = Image.new("RGB", size, theme.background_top)
    bottom = Image.new("RGB", size, theme.background_bottom)
    return Image.composite(bottom, top, mask)


def _draw_block(draw: ImageDraw.ImageDraw, block: TextBlock, colour: Rgb) -> None:
    font = load_font(block.font_path, block.font_size)
    for line, origin in zip(block.lines, block.origins, strict=True):
        draw.text(origin, line, font=font, fill=colour, anchor="la")


def render_scene_slide(
    content: SlideContent, size: tuple[int, int], fonts: FontSet, theme: SlideTheme = DEFAULT_THEME
) -> Image.Image:
    """One scene's slide (see :func:`layout_scene_slide`); the subtitle zone is left bare."""
    logo = logo_size(theme.logo, size, SLIDE_LOGO_SHARE) if theme.logo is not None else None
    layout = layout_scene_slide(content, size, fonts, logo=logo)
    if content.picture_behind and content.image is not None:
        image = _dimmed(picture_cover(content.image, size))
        theme = replace(theme, headline=LIGHT_TEXT, chapter=PICTURE_CHAPTER_TEXT)
    else:
        image = render_background(size, theme)
    _draw_slide_text(image, layout, theme, content.image)
    return image


def render_text_over_backdrop(
    content: SlideContent, size: tuple[int, int], fonts: FontSet, theme: SlideTheme = DEFAULT_THEME
) -> Image.Image:
    """A full-frame slide's text (and logo) on a transparent frame darkened by :data:`PICTURE_DIMMING`: laid over
    a moving picture or a video (the backdrop), it looks like :func:`render_scene_slide` of a full-frame picture,
    but the backdrop moves under text that stays still and sharp."""
    logo = logo_size(theme.logo, size, SLIDE_LOGO_SHARE) if theme.logo is not None else None
    layout = layout_scene_slide(replace(content, image=None, full_frame=True), size, fonts, logo=logo)
    shade = Image.new("RGBA", size, (0, 0, 0, round(255 * PICTURE_DIMMING)))
    text = Image.new("RGBA", size, (0, 0, 0, 0))
    _draw_slide_text(text, layout, replace(theme, headline=LIGHT_TEXT, chapter=PICTURE_CHAPTER_TEXT), None)
    return Image.alpha_composite(shade, text)


def render_slide_around(
    content: SlideContent,
    size: tuple[int, int],
    fonts: FontSet,
    picture_size: tuple[int, int],
    theme: SlideTheme = DEFAULT_THEME,
) -> tuple[Image.Image, Box]:
    """A slide laid out as if a picture of ``picture_size`` were beside its text, with a transparent rounded
    window where that picture would be: a video shows through it. Returns the slide and the window."""
    logo = logo_size(theme.logo, size, SLIDE_LOGO_SHARE) if theme.logo is not None else None
    layout = layout_scene_slide(replace(content, image=Path("video"), full_frame=False), size, fonts, logo=logo)
    if layout.image_box is None:  # a slide with an image beside its text always has a box for it
        raise ValueError("the slide's layout left no room beside its text")
    window = fitted_window(layout.image_box, picture_size)
    image = render_background(size, theme).convert("RGBA")
    _draw_slide_text(image, layout, theme, None)
    alpha = Image.new("L", size, 255)
    ImageDraw.Draw(alpha).rounded_rectangle(window, radius=_corner_radius(window), fill=0)
    image.putalpha(alpha)
    return image, window


def fitted_window(box: Box, picture_size: tuple[int, int]) -> Box:
    """The largest rectangle of the picture's shape inside ``box``, centred in it, on even pixels (4:2:0 video
    places and scales cleanly only on even coordinates)."""
    left, top, right, bottom = box
    scale = min((right - left) / max(1, picture_size[0]), (bottom - top) / max(1, picture_size[1]))
    width = max(2, math.floor(picture_size[0] * scale / 2) * 2)
    height = max(2, math.floor(picture_size[1] * scale / 2) * 2)
    x = (left + (right - left - width) // 2) // 2 * 2
    y = (top + (bottom - top - height) // 2) // 2 * 2
    return x, y, x + width, y + height


def _draw_slide_text(image: Image.Image, layout: SlideLayout, theme: SlideTheme, picture: Path | None) -> None:
    """The layout's text, accent bar, ``picture`` (in its box, if it has one) and logo, drawn on ``image``."""
    draw = ImageDraw.Draw(image)
    if layout.chapter is not None:
        _draw_block(draw, layout.chapter, theme.chapter)
    if layout.accent_bar is not None:
        draw.rectangle(layout.accent_bar, fill=theme.accent)
    for point in layout.earlier_points:
        _draw_block(draw, point, theme.chapter)
    _draw_block(draw, layout.headline, theme.headline)
    if layout.image_box is not None and picture is not None:
        _place_image(image, picture, layout.image_box)
    if layout.logo_box is not None and theme.logo is not None:
        _place_logo(image, theme.logo, layout.logo_box)


def _dimmed(picture: Image.Image) -> Image.Image:
    """Darkened so light text reads on it."""
    return Image.blend(picture, Image.new("RGB", picture.size, (0, 0, 0)), PICTURE_DIMMING)


def picture_cover(picture_path: Path, size: tuple[int, int]) -> Image.Image:
    """The picture scaled to cover the frame (centred, its overflow cut)."""
    with Image.open(picture_path) as opened:
        picture = opened.convert("RGB")
    scale = max(size[0] / picture.width, size[1] / picture.height)
    scaled = picture.resize(
        (max(size[0], round(picture.width * scale)), max(size[1], round(picture.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (scaled.width - size[0]) // 2, (scaled.height - size[1]) // 2
    return scaled.crop((left, top, left + size[0], top + size[1]))


def _corner_radius(box: Box) -> int:
    return max(4, min(box[2] - box[0], box[3] - box[1]) // 30)


def _place_logo(slide: Image.Image, logo_path: Path, box: Box) -> None:
    """The logo resized into ``box``, its transparency kept."""
    left, top, right, bottom = box
    with Image.open(logo_path) as opened:
        logo = opened.convert("RGBA").resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    slide.paste(logo, (left, top), logo)


def _place_image(slide: Image.Image, picture_path: Path, box: Box) -> None:
    """The picture scaled to fit ``box`` whole (never cropped or stretched), centred in it, rounded corners."""
    left, top, right, bottom = box
    with Image.open(picture_path) as opened:
        picture = opened.convert("RGB")
    picture.thumbnail((right - left, bottom - top), Image.Resampling.LANCZOS)
    if picture.width < right - left and picture.height < bottom - top:  # small: enlarge to fit, not just shrink
        scale = min((right - left) / picture.width, (bottom - top) / picture.height)
        picture = picture.resize(
            (round(picture.width * scale), round(picture.height * scale)), Image.Resampling.LANCZOS
        )
    mask = Image.new("L", picture.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, *picture.size), radius=_corner_radius((0, 0, *picture.size)), fill=255
    )
    x = left + (right - left - picture.width) // 2
    y = top + (bottom - top - picture.height) // 2
    slide.paste(picture, (x, y), mask)


def render_title_card(
    title: str, subtitle: str, size: tuple[int, int], fonts: FontSet, theme: SlideTheme = DEFAULT_THEME
) -> Image.Image:
    """The thumbnail, the title card and the outro card (see :func:`layout_title_card`)."""
    logo = logo_size(theme.logo, size, CARD_LOGO_SHARE) if theme.logo is not None else None
    layout = layout_title_card(title, subtitle, size, fonts, logo=logo)
    image = render_background(size, theme)
    draw = ImageDraw.Draw(image)
    if layout.logo_box is not None and theme.logo is not None:
        _place_logo(image, theme.logo, layout.logo_box)
    _draw_block(draw, layout.title, theme.headline)
    if layout.accent_bar is not None:
        draw.rectangle(layout.accent_bar, fill=theme.accent)
    if layout.subtitle is not None:
        _draw_block(draw, layout.subtitle, theme.chapter)
    return image


def save_png(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=False, compress_level=1)
    return path


def save_bitmap(image: Image.Image, path: Path) -> Path:
    """An uncompressed BMP: several times quicker than PNG to write here and for FFmpeg to read, for a slide
    that only lives as long as one compose job."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, format="BMP")
    return path


def save_jpeg(image: Image.Image, path: Path, *, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("RGB").save(path, format="JPEG", quality=quality, optimize=True, progressive=True)
    return path
