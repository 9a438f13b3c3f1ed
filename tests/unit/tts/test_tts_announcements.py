"""What a ranking short's voice says for each clip: the rank in the spec's language, then the label."""

import pytest

from reelflow.contracts import RankingClip, RankingSpec, Voice
from reelflow.tts.announcements import announcement_text, ranking_announcements
from reelflow.tts.spoken_text import spoken_form


@pytest.mark.parametrize(
    ("rank", "label", "language", "said"),
    [
        (3, "Red sunset", "en", "Number 3. Red sunset"),
        (3, "Red sunset", "en-GB", "Number 3. Red sunset"),
        (3, "노을", "ko", "3위. 노을"),
        (12, "  two   spaces \n", "ko-KR", "12위. two spaces"),
        (1, "", "en", "Number 1."),
        (1, "   ", "ko", "1위."),
        (5, "Sol", "es", "5. Sol"),
    ],
)
def test_an_announcement_names_the_rank_in_the_language_then_the_label(
    rank: int, label: str, language: str, said: str
) -> None:
    assert announcement_text(rank, label, language) == said


@pytest.mark.parametrize(("language", "spoken"), [("en", "Number three. Red sunset"), ("ko", "삼위. Red sunset")])
def test_the_voice_hears_the_rank_as_a_word(language: str, spoken: str) -> None:
    assert spoken_form(announcement_text(3, "Red sunset", language), language) == spoken


def test_a_spec_with_a_voice_announces_every_clip_and_one_without_announces_none() -> None:
    clips = [
        RankingClip(media_key=f"uploads/{'a' * 64}.mp4", rank=1, label="Winner"),
        RankingClip(media_key=f"uploads/{'b' * 64}.mp4", rank=2),
    ]
    assert ranking_announcements(RankingSpec(clips=clips)) == []
    announced = ranking_announcements(RankingSpec(clips=clips, voice=Voice(), language="en"))
    assert [(said.scene_id, said.rank, said.text) for said in announced] == [
        ("rank-1", 1, "Number 1. Winner"),
        ("rank-2", 2, "Number 2."),
    ]
