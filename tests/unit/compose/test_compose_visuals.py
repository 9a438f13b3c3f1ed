"""Scene visuals that move in a lesson: a full-frame picture's slow Ken Burns in a basic lesson (its text still on
top, the other scenes held), and uploaded videos as scene visuals."""

from pathlib import Path

import pytest
from PIL import Image
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import decode_errors, frames_at, make_tone, mean_abs_diff, run_tool, video_facts

from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson import Timeline, compose_lesson
from reelflow.compose.picture_plan import HeldPicture, MovingShot, plan_pictures_and_shots
from reelflow.compose.subtitles import Cue
from reelflow.contracts import LessonSpec, SubtitleMode, VisualStyle
from reelflow.runtime.failures import MediaInvalidError

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


GREEN = (0, 200, 0)
VIDEO_KEY = "uploads/" + "b" * 64 + ".mp4"


def _moving_box_clip(path: Path, *, seconds: float, size: str = "192x108") -> Path:
    """Green with a white box sliding right, and a tone the lesson must not play."""
    moving_box = (
        f"color=c=0x00c800:s={size}:r=25:d={seconds}[back];color=c=white:s=30x30:r=25:d={seconds}[box];"
        "[back][box]overlay=x=t*150:y=20:shortest=1"
    )
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", moving_box,
        "-f", "lavfi", "-i", f"sine=frequency=3000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )  # fmt: skip
    return path


def _with_scene_fields(spec: LessonSpec, fields: dict[str, dict[str, object]]) -> LessonSpec:
    """``spec`` (one chapter) whose scenes named in ``fields`` take those field values."""
    chapter = spec.script.chapters[0]
    scenes = [scene.model_copy(update=fields.get(scene.scene_id, {})) for scene in chapter.scenes]
    script = spec.script.model_copy(update={"chapters": [chapter.model_copy(update={"scenes": scenes})]})
    return spec.model_copy(update={"script": script})


def _with_visuals(spec: LessonSpec, **placements: str) -> LessonSpec:
    """``spec`` whose scenes named in ``placements`` show the uploaded video, placed as given."""
    return _with_scene_fields(
        spec, {scene: {"visual": VIDEO_KEY, "visual_placement": place} for scene, place in placements.items()}
    )


def _green_pixels(frame: Image.Image) -> int:
    """Pixels of the clip's green (undimmed or darkened by half), nothing a slide is drawn in."""
    return sum(1 for red, green, blue in _pixels(frame) if green > 70 and green > 2 * (red + blue))


def _pixels(frame: Image.Image) -> list[tuple[int, int, int]]:
    data = frame.convert("RGB").tobytes()
    return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]


def _rgb_frame(video: Path, folder: Path, at_sec: float) -> Image.Image:
    folder.mkdir(parents=True, exist_ok=True)
    run_tool("ffmpeg", "-v", "error", "-y", "-ss", f"{at_sec:.3f}", "-i", str(video), "-frames:v", "1",
             str(folder / "f.png"))  # fmt: skip
    with Image.open(folder / "f.png") as frame:
        return frame.convert("RGB")


async def test_an_animated_lesson_joins_drawn_slides_and_a_video_scene_without_a_decoding_error(
    tmp_path: Path, fonts: FontSet, narration: list[Path]
) -> None:
    """Scene 1's parts are drawn in Python and piped to FFmpeg, scene 2's (a video) are filtered by FFmpeg: the
    concat demuxer copies both into one stream, so both must write the same H.264 parameter sets."""
    spec = _with_visuals(lesson_spec(2, size="320x180", fps=FPS, visual_style=VisualStyle.ANIMATED), s2="full_frame")
    scenes = await narrated_scenes(spec, narration)
    timeline = Timeline.from_durations([item.duration_sec for item in scenes], FPS)
    clip = _moving_box_clip(tmp_path / "clip.mp4", seconds=0.8)

    result = await compose_lesson(
        spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, images={"s2": clip}, transition_sec=0.2
    )

    facts = video_facts(result.video)
    assert facts.frames == timeline.boundaries[-1]
    assert decode_errors(result.video) == ""
    first = _rgb_frame(result.video, tmp_path / "first", 0.3)
    assert _green_pixels(first) < 0.05 * 320 * 180  # scene 1 shows its own slide
    assert _green_pixels(_rgb_frame(result.video, tmp_path / "second", timeline.start_sec(1) + 0.4)) > 0.6 * 320 * 180


@pytest.mark.parametrize("style", [VisualStyle.BASIC, VisualStyle.ANIMATED])
async def test_compose_visuals_an_uploaded_video_plays_full_frame_or_beside_then_holds_its_last_frame(
    tmp_path: Path, fonts: FontSet, narration: list[Path], style: VisualStyle
) -> None:
    spec = _with_visuals(lesson_spec(2, size="320x180", fps=FPS, visual_style=style), s1="full_frame", s2="beside")
    scenes = await narrated_scenes(spec, narration)
    timeline = Timeline.from_durations([item.duration_sec for item in scenes], FPS)
    clip = _moving_box_clip(tmp_path / "clip.mp4", seconds=0.8)  # shorter than either 1.5 s scene

    result = await compose_lesson(
        spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, images={"s1": clip, "s2": clip},
        transition_sec=0.2,
    )  # fmt: skip

    facts = video_facts(result.video)
    assert facts.frames == timeline.boundaries[-1]
    assert facts.r_frame_rate == facts.avg_frame_rate == f"{FPS}/1"
    assert decode_errors(result.video) == ""
    assert abs(result.duration_sec - timeline.total_sec) <= 0.1
    # full frame: the video's green covers the frame (darkened), and its box moves
    start = timeline.start_sec(0)
    early, later = (_rgb_frame(result.video, tmp_path / f"ff{i}", start + at) for i, at in enumerate((0.1, 0.5)))
    assert _green_pixels(early) > 0.6 * 320 * 180
    assert mean_abs_diff(early.convert("L"), later.convert("L")) > 0.5, "the video plays"
    # past its end (0.8 s) the clip's last frame stays on screen
    held = [_rgb_frame(result.video, tmp_path / f"held{i}", start + at) for i, at in enumerate((0.95, 1.15))]
    assert mean_abs_diff(held[0].convert("L"), held[1].convert("L")) < 0.3
    # beside: the video shows through a window in the slide, undimmed, and plays there too
    second = timeline.start_sec(1)
    beside, beside_later = (
        _rgb_frame(result.video, tmp_path / f"b{i}", second + at) for i, at in enumerate((0.3, 0.6))
    )
    assert 0.1 * 320 * 180 < _green_pixels(beside) < 0.5 * 320 * 180
    assert max(green for _, green, _ in _pixels(beside)) > 180, "beside the text the video is not darkened"
    assert mean_abs_diff(beside.convert("L"), beside_later.convert("L")) > 0.1


async def test_compose_visuals_a_video_without_pictures_fails_naming_the_scene(
    tmp_path: Path, fonts: FontSet, narration: list[Path]
) -> None:
    spec = _with_visuals(lesson_spec(2, size="320x180", fps=FPS), s2="beside")
    scenes = await narrated_scenes(spec, narration)

    with pytest.raises(MediaInvalidError, match=r"scene 's2''s visual 'uploads/b+\.mp4' has no video stream") as failed:
        await compose_lesson(
            spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, images={"s2": narration[0]}
        )
    assert failed.value.details == {"key": VIDEO_KEY, "scene_id": "s2"}


def _green_then_blue_clip(path: Path, *, green_sec: float, blue_sec: float) -> Path:
    """A video that is green for ``green_sec``, then blue: which colour shows says where it started playing."""
    colours = (
        f"color=c=0x00c800:s=192x108:r=25:d={green_sec}[green];color=c=0x0000c8:s=192x108:r=25:d={blue_sec}[blue];"
        "[green][blue]concat=n=2:v=1:a=0"
    )
    run_tool("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", colours,
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    return path


def _blue_pixels(frame: Image.Image) -> int:
    return sum(1 for red, green, blue in _pixels(frame) if blue > 70 and blue > 2 * (red + green))


def _starting_at(spec: LessonSpec, scene_id: str, start_sec: float, end_sec: float | None = None) -> LessonSpec:
    return _with_scene_fields(spec, {scene_id: {"visual_start_sec": start_sec, "visual_end_sec": end_sec}})


@pytest.mark.parametrize("style", [VisualStyle.BASIC, VisualStyle.ANIMATED])
async def test_compose_visuals_a_video_visual_starts_and_ends_where_its_scene_says(
    tmp_path: Path, fonts: FontSet, narration: list[Path], style: VisualStyle
) -> None:
    """``visual_start_sec`` 1.2 skips the clip's green second and a bit: scene 1 shows its blue from its first frame,
    while scene 2 (the same clip from its start, ``visual_end_sec`` 0.5) opens green and stays green, never reaching
    the clip's blue second."""
    spec = _with_visuals(lesson_spec(2, size="320x180", fps=FPS, visual_style=style), s1="full_frame", s2="full_frame")
    spec = _starting_at(_starting_at(spec, "s1", 1.2), "s2", 0.0, end_sec=0.5)
    scenes = await narrated_scenes(spec, narration)
    timeline = Timeline.from_durations([item.duration_sec for item in scenes], FPS)
    clip = _green_then_blue_clip(tmp_path / "clip.mp4", green_sec=1.0, blue_sec=2.0)

    result = await compose_lesson(
        spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, images={"s1": clip, "s2": clip},
        transition_sec=0.2,
    )  # fmt: skip

    assert video_facts(result.video).frames == timeline.boundaries[-1]
    assert decode_errors(result.video) == ""
    trimmed = _rgb_frame(result.video, tmp_path / "trimmed", timeline.start_sec(0) + 0.05)
    assert _blue_pixels(trimmed) > 0.6 * 320 * 180 and _green_pixels(trimmed) == 0
    # scene 2 plays the clip from its start (past any crossfade into it), and holds its frame at 0.5 s to its end
    for at in (0.3, 1.3):
        held = _rgb_frame(result.video, tmp_path / f"ended{at}", timeline.start_sec(1) + at)
        assert _green_pixels(held) > 0.6 * 320 * 180 and _blue_pixels(held) == 0, at


async def test_compose_visuals_a_video_started_past_its_end_fails_naming_the_scene(
    tmp_path: Path, fonts: FontSet, narration: list[Path]
) -> None:
    spec = _starting_at(_with_visuals(lesson_spec(2, size="320x180", fps=FPS), s2="beside"), "s2", 5.0)
    scenes = await narrated_scenes(spec, narration)
    clip = _green_then_blue_clip(tmp_path / "clip.mp4", green_sec=0.5, blue_sec=0.5)

    with pytest.raises(MediaInvalidError, match=r"'s2''s visual_start_sec is 5 s but its video .* lasts 1\.0\d s"):
        await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, images={"s2": clip})
