"""A ranking short's narrated labels: when each clip's announcement plays, and the filter text that lays them
over the short's soundtrack.

Each announcement starts when its clip takes over the screen (halfway through its transition in, when its
caption appears) and may last as long as the clip holds the screen. One that is longer is cut there with a short
fade: the short's timing is the clips', set before anything is said, and the next clip's announcement must not
be talked over. The gateway cannot refuse it earlier, as only the voice knows how long a label takes to say.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reelflow.compose.ffmpeg import AUDIO_SAMPLE_RATE, STEREO_48K, seconds_text
from reelflow.compose.ranking import RankingPlan

logger = logging.getLogger(__name__)

# An announcement cut at its clip's end fades out over this long, so it stops without a click.
CUT_FADE_SEC = 0.15
VOICE_LABEL = "announced"


@dataclass(frozen=True)
class AnnouncementSlot:
    """Where one clip's announcement plays on the short's timeline, and for how long."""

    rank: int
    at_sec: float
    play_sec: float
    cut: bool  # the announcement lasts longer than its clip holds the screen, and is cut there

    @property
    def end_sec(self) -> float:
        return self.at_sec + self.play_sec


def plan_announcements(plan: RankingPlan, durations: Mapping[int, float]) -> list[AnnouncementSlot]:
    """One slot per clip in ``durations`` (rank → the announcement's measured length), in countdown order."""
    slots = []
    for index, planned in enumerate(plan.clips):
        duration = durations.get(planned.rank)
        if duration is None:
            continue
        at_sec = plan.shown_from_sec(index)
        room = plan.shown_until_sec(index) - at_sec
        cut = duration > room
        if cut:
            logger.warning(
                "the announcement of clip #%d lasts %.2fs but the clip holds the screen for %.2fs; it is cut there",
                planned.rank,
                duration,
                room,
            )
        slots.append(AnnouncementSlot(rank=planned.rank, at_sec=at_sec, play_sec=min(duration, room), cut=cut))
    return slots


def announcements_filter(
    slots: Sequence[AnnouncementSlot], *, first_input: int, levelling: str, total_sec: float, out: str = VOICE_LABEL
) -> str:
    """Filter text: announcement inputs ``first_input``… (one per slot, in order) trimmed to their slots (a cut
    one faded out), levelled by ``levelling`` (one filter for them all, as a lesson's narration), each delayed to
    its start and mixed at unit gain into ``[out]``, exactly ``total_sec`` long."""
    if not slots:
        raise ValueError("no announcements to lay over the soundtrack")
    chains = []
    for index, slot in enumerate(slots):
        fade = min(CUT_FADE_SEC, slot.play_sec / 2)
        fade_out = f",afade=t=out:st={seconds_text(slot.play_sec - fade)}:d={seconds_text(fade)}" if slot.cut else ""
        delay_samples = round(slot.at_sec * AUDIO_SAMPLE_RATE)
        chains.append(
            f"[{first_input + index}:a]aresample={AUDIO_SAMPLE_RATE},{STEREO_48K},"
            f"atrim=end={seconds_text(slot.play_sec)},asetpts=PTS-STARTPTS{fade_out},{levelling},"
            f"adelay=delays={delay_samples}S:all=1[{out}{index}]"
        )
    fit = f"apad,atrim=end={seconds_text(total_sec)},asetpts=PTS-STARTPTS[{out}]"
    joined = "".join(f"[{out}{index}]" for index in range(len(slots)))
    if len(slots) == 1:
        chains.append(f"{joined}{fit}")
    else:
        chains.append(f"{joined}amix=inputs={len(slots)}:duration=longest:dropout_transition=0:normalize=0,{fit}")
    return ";".join(chains)
