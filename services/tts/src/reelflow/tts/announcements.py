"""What a ranking short's voice says as each clip takes over the screen: its rank, then its label."""

from dataclasses import dataclass

from reelflow.contracts import RankingSpec, announcement_id


@dataclass(frozen=True)
class Announcement:
    """One clip's announcement, written as the subtitles would show it (the voice hears its spoken form)."""

    scene_id: str
    rank: int
    text: str


def announcement_text(rank: int, label: str, language: str) -> str:
    """``Number 3. Label`` in English, ``3위. Label`` in Korean, ``3. Label`` in any other language; the rank
    alone when the label is blank."""
    primary = language.replace("_", "-").partition("-")[0].lower()
    if primary == "en":
        said_rank = f"Number {rank}."
    elif primary == "ko":
        said_rank = f"{rank}위."
    else:
        said_rank = f"{rank}."
    label = " ".join(label.split())
    return f"{said_rank} {label}" if label else said_rank


def ranking_announcements(spec: RankingSpec) -> list[Announcement]:
    """One announcement per clip, in the spec's order, when the spec names a voice; none without one."""
    if spec.voice is None:
        return []
    return [
        Announcement(
            scene_id=announcement_id(clip.rank),
            rank=clip.rank,
            text=announcement_text(clip.rank, clip.label, spec.language),
        )
        for clip in spec.clips
    ]
