"""Splitting one scene's narration into subtitle-sized chunks: at sentence ends first, then clauses, then spaces.

Each chunk becomes one cue on screen for a share of the scene in proportion to its width in columns
(see :func:`reelflow.compose.subtitles.spread_over`). Width is a fair stand-in for speaking time in both
scripts: about 15 Latin characters or 7 Hangul syllables, so about 14-15 columns, are spoken per second.
"""

import math

from reelflow.compose.line_breaking import MAX_LINES, BreakKind, PieceRun, break_pieces

# Each cue costs this much, so the fewest cues that fit win unless a much better break point needs one more.
_CUE_COST = 4.0
# What ending a cue after a piece costs, by how good a seam that is.
_CUE_BREAK_COST = {
    BreakKind.SENTENCE: 0.0,
    BreakKind.CLAUSE: 1.5,
    BreakKind.CONNECTIVE: 3.0,
    BreakKind.SPACE: 5.0,
    BreakKind.WITHIN_WORD: 9.0,
}
# Among equally many cues, fuller ones (hence evenly filled ones) read more calmly.
_EMPTINESS_COST = 2.0
# Dwarfs every other cost: a cue too short to read is only chosen when every way of fitting has one.
_TOO_SHORT_COST = 100.0


def chunk_narration(text: str, *, max_columns: int, window_sec: float, min_cue_sec: float) -> list[str]:
    """``text`` as cue texts, each in at most two lines of ``max_columns`` (joined with ``\\n``), in order.

    The split has the fewest cues that each fit two lines. Among those it prefers seams at sentence
    ends, then clause punctuation, then Korean connective endings, then plain spaces. It avoids any
    cue that would be on screen for less than ``min_cue_sec`` of ``window_sec``. Every word is kept
    and none is cut.

    Two cases give up a rule, by design:

    * A scene window shorter than ``min_cue_sec`` gets one cue holding all its text. Its two lines
      widen if they must, because a flash of several cues would be unreadable anyway.
    * When speech is denser than two lines per ``min_cue_sec`` (about five times normal speed), no
      split can satisfy both rules. Fitting two lines wins, and some cue is shorter than the minimum.
    """
    pieces = break_pieces(text, max_columns)
    if not pieces:
        return []
    run = PieceRun.of(pieces)
    count = len(run)
    if window_sec < min_cue_sec:
        return ["\n".join(run.wrap(0, count, max_columns))]
    # The whole text's width includes the spaces between cues, which get no time of their own. So this
    # estimate never exceeds a cue's real share, and a cue that passes the minimum here passes on screen.
    sec_per_column = window_sec / run.columns(0, count)
    capacity = MAX_LINES * max_columns

    def cue_cost(first: int, stop: int) -> float:
        width = run.columns(first, stop)
        cost = _CUE_COST + _EMPTINESS_COST * max(0.0, 1 - width / capacity) ** 2
        if stop < count:
            cost += _CUE_BREAK_COST[run.pieces[stop - 1].break_after]
        if width * sec_per_column < min_cue_sec:
            cost += _TOO_SHORT_COST
        return cost

    # best[stop] = (cheapest cost of cutting pieces [0, stop) into cues, where that last cue starts)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * count
    for stop in range(1, count + 1):
        for first in range(stop - 1, -1, -1):
            # Putting more in front of a span never makes it fit in fewer lines: stop at the first misfit.
            if not run.fits_lines(first, stop, max_columns):
                break
            cost = best[first][0] + cue_cost(first, stop)
            if cost < best[stop][0]:
                best[stop] = (cost, first)
    bounds: list[tuple[int, int]] = []
    stop = count
    while stop > 0:
        first = best[stop][1]
        bounds.append((first, stop))
        stop = first
    return ["\n".join(run.wrap(first, stop, max_columns)) for first, stop in reversed(bounds)]
