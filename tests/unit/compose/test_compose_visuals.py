"""Scene visuals that move in a lesson: a full-frame picture's slow Ken Burns in a basic lesson (its text still on
top, the other scenes held), and uploaded videos as scene visuals."""

from pathlib import Path

import pytest
from PIL import Image
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import decode_errors, frames_at, make_tone, mean_abs_diff, video_facts

from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson import Timeline, compose_lesson
from reelflow.compose.picture_plan import HeldPicture, MovingShot, plan_pictures_and_shots
from reelflow.compose.subtitles import Cue
from reelflow.contracts import SubtitleMode

FPS = 10  # the fewest frames that still show motion: these tests encode real video


def test_compose_visuals_only_moving_scenes_become_shots() -> None:
    cues = [Cue(0.0, 1.0, "one"), Cue(1.0, 2.0, "two"), Cue(2.0, 3.0, "three")]

    planned = plan_pictures_and_shots([0, 10, 20, 30], cues, FPS, moving={1})

    assert planned == [HeldPicture(0, ("one",), 10), MovingShot(1, 10), HeldPicture(2, ("three",), 10)]
    # a moving scene is one shot whatever its captions; two moving neighbours stay two shots
    assert plan_pictures_and_shots([0, 10, 20], [Cue(0.0, 0.5, "a"), Cue(0.5, 1.0, "b")], FPS, moving={0, 1}) == [
        MovingShot(0, 10),
        MovingShot(1, 10),
    ]
    assert plan_pictures_and_shots([0, 10, 20], cues, FPS, moving=set()) == [
        HeldPicture(0, ("one",), 10),
        HeldPicture(1, ("two",), 10),
    ]


@pytest.fixture(scope="module")
def narration(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("visuals-narration")
    return [
        make_tone(folder / f"scene-{index}.wav", seconds=1.5, frequency=330 + 110 * index, volume=0.5)
        for index in range(2)
    ]


def _photo(path: Path) -> Path:
    """A picture with detail everywhere, so any move of it changes the frame."""
    photo = Image.radial_gradient("L").resize((480, 270)).convert("RGB")
    for x in range(0, 480, 40):
        photo.paste((250, 200, 40), (x, 0, x + 12, 270))
    photo.save(path)
    return path


async def test_compose_visuals_a_basic_lessons_full_frame_picture_moves_and_plain_scenes_hold(
    tmp_path: Path, fonts: FontSet, narration: list[Path]
) -> None:
    spec = lesson_spec(2, size="320x180", fps=FPS, subtitles=SubtitleMode.BURN)
    first, second = spec.script.chapters[0].scenes
    moving = second.model_copy(update={"visual": "uploads/" + "a" * 64 + ".png", "visual_placement": "full_frame"})
    spec = spec.model_copy(update={"script": spec.script.model_copy(update={"chapters": [
        spec.script.chapters[0].model_copy(update={"scenes": [first, moving]})
    ]})})  # fmt: skip
    scenes = await narrated_scenes(spec, narration)
    timeline = Timeline.from_durations([item.duration_sec for item in scenes], FPS)

    result = await compose_lesson(
        spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, images={"s2": _photo(tmp_path / "p.png")}
    )

    facts = video_facts(result.video)
    assert facts.frames == timeline.boundaries[-1]
    assert facts.r_frame_rate == facts.avg_frame_rate == f"{FPS}/1"
    assert decode_errors(result.video) == ""
    plain = frames_at(result.video, tmp_path / "plain", start_sec=0.1, count=1) + frames_at(
        result.video, tmp_path / "plain-late", start_sec=timeline.end_sec(0) - 0.25, count=1
    )
    assert mean_abs_diff(*plain) == 0.0, "a plain scene is held"
    start, end = timeline.start_sec(1), timeline.end_sec(1)
    [early] = frames_at(result.video, tmp_path / "early", start_sec=start + 0.05, count=1)
    [late] = frames_at(result.video, tmp_path / "late", start_sec=end - 0.25, count=1)
    assert mean_abs_diff(early, late) > 1.0, "the full-frame picture moves"
    # the text stays still on top: on the darkened picture only the text is bright, and it is where it was
    bright_early, bright_late = (frame.point(lambda level: 255 if level > 200 else 0) for frame in (early, late))
    assert mean_abs_diff(bright_early, Image.new("L", early.size)) > 0, "there is light text on the picture"
    assert mean_abs_diff(bright_early, bright_late) < 0.5
