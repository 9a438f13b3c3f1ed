"""Every lesson layout comes out at its size and length, constant-rate, as H.264 High with AAC at 48 kHz."""

from pathlib import Path

import pytest
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import decode_errors, make_tone, top_level_boxes, video_facts

from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson import compose_lesson
from reelflow.contracts import VisualStyle

# 43 and 47 frames at 30 fps: neither length is a whole number of milliseconds, which is what used to make
# the concat demuxer shift every later timestamp (avg_frame_rate 28400640/946693 instead of 30/1).
SCENE_SECONDS = (43 / 30, 47 / 30)


@pytest.fixture(scope="module")
def narration(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("layout-narration")
    return [
        make_tone(folder / f"scene-{i}.wav", seconds=seconds, frequency=330 + 110 * i, volume=0.5)
        for i, seconds in enumerate(SCENE_SECONDS)
    ]


@pytest.mark.parametrize(
    ("size", "style"),
    [
        ("1280x720", VisualStyle.BASIC),
        ("1920x1080", VisualStyle.BASIC),
        ("1080x1920", VisualStyle.BASIC),
        ("1080x1080", VisualStyle.BASIC),
        ("320x180", VisualStyle.ANIMATED),
    ],
)
async def test_compose_layout_has_its_size_length_and_a_constant_frame_rate(
    tmp_path: Path, fonts: FontSet, narration: list[Path], size: str, style: VisualStyle
) -> None:
    spec = lesson_spec(2, size=size, visual_style=style)
    scenes = await narrated_scenes(spec, narration)

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, parallelism=2)

    facts = video_facts(result.video)
    width, height = (int(side) for side in size.split("x"))
    assert (facts.width, facts.height) == (width, height)
    assert abs(facts.duration_sec - sum(SCENE_SECONDS)) <= 0.1
    assert facts.frames == 90  # 43 + 47: every frame of the timeline, none dropped or duplicated at the join
    assert facts.r_frame_rate == facts.avg_frame_rate == "30/1"
    assert (facts.codec, facts.profile, facts.pix_fmt) == ("h264", "High", "yuv420p")
    assert (facts.audio_codec, facts.sample_rate) == ("aac", 48000)
    boxes = top_level_boxes(result.video)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    assert decode_errors(result.video) == ""
