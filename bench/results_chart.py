"""The render benchmark's bar chart, drawn with Pillow (already a reelflow dependency; no plotting library).

Two panels, wall time and peak RSS, each with one group of bars per mode (reelflow beside MoviePy) and
the MoviePy/reelflow ratio written above the group; the end-to-end time, when it ran, under the title.
"""

import math
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.render_results import MOVIEPY, REELFLOW, BenchReport, Ratio, RunResult
from reelflow.compose.fonts import find_fonts
from reelflow.runtime.failures import RenderError

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Rgb = tuple[int, int, int]

CANVAS = (1200, 640)
BACKGROUND: Rgb = (255, 255, 255)
INK: Rgb = (33, 37, 41)
GRID: Rgb = (222, 226, 230)
MUTED: Rgb = (108, 117, 125)
ENGINE_COLOURS: dict[str, Rgb] = {REELFLOW: (255, 153, 51), MOVIEPY: (70, 110, 170)}
ENGINE_LABELS = {REELFLOW: "reelflow", MOVIEPY: "MoviePy 2.x"}
TITLE_BAND = 96
LEGEND_BAND = 56
PANEL_MARGIN = 40
AXIS_LABEL_WIDTH = 64
BAR_WIDTH = 72
BAR_GAP = 8
TARGET_TICKS = 5


def nice_step(maximum: float, target_ticks: int = TARGET_TICKS) -> float:
    """A 1/2/5 × 10ⁿ gridline step giving about ``target_ticks`` lines up to ``maximum``."""
    if maximum <= 0:
        return 1.0
    raw = maximum / target_ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(step * magnitude for step in (1.0, 2.0, 5.0, 10.0) if step * magnitude >= raw)


def bar_label(value: float) -> str:
    """Whole numbers for big values, one decimal for small ones (a 3.6 s run must not read as 4)."""
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def draw_chart(report: BenchReport, path: Path) -> Path:
    """Write the chart PNG for ``report`` to ``path`` and return it."""
    image = Image.new("RGB", CANVAS, BACKGROUND)
    draw = ImageDraw.Draw(image)
    fonts = _Fonts.load()
    width, height = CANVAS
    lesson = report.lesson
    title = "Rendering a lesson" + (" and a ranking short" if report.short is not None else "")
    draw.text((PANEL_MARGIN, 12), f"{title}: reelflow vs MoviePy 2.x", font=fonts.title, fill=INK)
    subtitle = (
        f"lesson: {lesson.scenes} scenes, {lesson.total_sec:.0f} s, {lesson.size} at {lesson.fps} fps, burned captions"
    )
    if report.short is not None:
        short = report.short
        subtitle += f"; short: {short.clips} clips, {short.total_sec:.1f} s, {short.size}"
    subtitle += f" - {report.machine.get('cpu_count')} CPUs - lower is better"
    draw.text((PANEL_MARGIN, 48), subtitle, font=fonts.small, fill=MUTED)
    if report.end_to_end is not None:
        end_to_end = (
            f"end to end, the lesson's text through a running stack (REST to COMPLETED): "
            f"{report.end_to_end['total_sec']:.1f} s"
        )
        draw.text((PANEL_MARGIN, 70), end_to_end, font=fonts.small, fill=INK)
    ratios = {ratio.mode: ratio for ratio in report.ratios}
    panel_width = (width - 3 * PANEL_MARGIN) // 2
    top, bottom = TITLE_BAND + 16, height - LEGEND_BAND - 28
    panels: list[tuple[str, Callable[[RunResult], float], Callable[[Ratio], float]]] = [
        ("Wall time (s)", lambda run: run.wall_sec, lambda ratio: ratio.wall_time),
        ("Peak RSS of the process tree (MiB)", lambda run: run.peak_rss_mib, lambda ratio: ratio.peak_rss),
    ]
    succeeded = [run for run in report.runs if run.succeeded]  # a failed run's time and memory mean nothing
    for index, (label, value_of, ratio_of) in enumerate(panels):
        left = PANEL_MARGIN + index * (panel_width + PANEL_MARGIN)
        _draw_panel(
            draw,
            fonts,
            (left, top, left + panel_width, bottom),
            label,
            succeeded,
            value_of,
            {mode: ratio_of(ratio) for mode, ratio in ratios.items()},
        )
    _draw_legend(draw, fonts, (PANEL_MARGIN, height - LEGEND_BAND + 8), report)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
    return path


class _Fonts:
    def __init__(self, title: Font, label: Font, small: Font) -> None:
        self.title = title
        self.label = label
        self.small = small

    @classmethod
    def load(cls) -> "_Fonts":
        """reelflow's own slide fonts when installed, Pillow's built-in face otherwise (a chart must not fail)."""
        try:
            found = find_fonts()
            return cls(
                title=ImageFont.truetype(str(found.bold), 28),
                label=ImageFont.truetype(str(found.bold), 18),
                small=ImageFont.truetype(str(found.regular), 16),
            )
        except (RenderError, OSError):
            return cls(
                title=ImageFont.load_default(28), label=ImageFont.load_default(18), small=ImageFont.load_default(16)
            )


def _draw_panel(
    draw: ImageDraw.ImageDraw,
    fonts: _Fonts,
    box: tuple[int, int, int, int],
    label: str,
    runs: Sequence[RunResult],
    value_of: Callable[[RunResult], float],
    ratios: dict[str, float],
) -> None:
    left, top, right, bottom = box
    draw.text((left, top), label, font=fonts.label, fill=INK)
    plot_left, plot_top = left + AXIS_LABEL_WIDTH, top + 64
    maximum = max((value_of(run) for run in runs), default=0.0)
    step = nice_step(maximum)
    axis_max = step * math.ceil(maximum / step) if maximum > 0 else step
    if axis_max - maximum < 0.12 * axis_max:
        axis_max += step  # leave room above the tallest bar for its value and the ratio

    def y_of(value: float) -> float:
        return bottom - (bottom - plot_top) * value / axis_max

    tick = 0.0
    while tick <= axis_max + 1e-9:
        y = y_of(tick)
        draw.line([(plot_left, y), (right, y)], fill=GRID, width=1)
        draw.text((plot_left - 10, y), f"{tick:g}", font=fonts.small, fill=MUTED, anchor="rm")
        tick += step
    modes = list(dict.fromkeys(run.mode for run in runs))
    group_width = (right - plot_left) / max(1, len(modes))
    for group, mode in enumerate(modes):
        members = [run for engine in (REELFLOW, MOVIEPY) for run in runs if run.mode == mode and run.engine == engine]
        span = len(members) * BAR_WIDTH + (len(members) - 1) * BAR_GAP
        centre = plot_left + group_width * (group + 0.5)
        x = centre - span / 2
        tallest = float(bottom)
        for run in members:
            value = value_of(run)
            y = y_of(value)
            tallest = min(tallest, y)
            draw.rectangle([(x, y), (x + BAR_WIDTH, bottom)], fill=ENGINE_COLOURS[run.engine])
            draw.text((x + BAR_WIDTH / 2, y - 4), bar_label(value), font=fonts.small, fill=INK, anchor="md")
            x += BAR_WIDTH + BAR_GAP
        draw.text((centre, bottom + 8), mode, font=fonts.label, fill=INK, anchor="ma")
        if mode in ratios:
            draw.text(
                (centre, tallest - 26),
                f"{ratios[mode]:.1f}x",
                font=fonts.label,
                fill=INK,
                anchor="md",
            )
    draw.line([(plot_left, bottom), (right, bottom)], fill=INK, width=2)


def _draw_legend(draw: ImageDraw.ImageDraw, fonts: _Fonts, origin: tuple[int, int], report: BenchReport) -> None:
    x, y = origin
    for engine in (REELFLOW, MOVIEPY):
        if not any(run.engine == engine for run in report.runs):
            continue
        draw.rectangle([(x, y + 2), (x + 18, y + 20)], fill=ENGINE_COLOURS[engine])
        draw.text((x + 26, y), ENGINE_LABELS[engine], font=fonts.label, fill=INK)
        x += 60 + round(draw.textlength(ENGINE_LABELS[engine], font=fonts.label))
    if report.moviepy.get("skipped"):
        draw.text((x, y), "(MoviePy skipped: no ratio)", font=fonts.small, fill=MUTED)
    else:
        draw.text((x, y), "above each group: MoviePy / reelflow", font=fonts.small, fill=MUTED)
