"""compose_lesson end to end on real FFmpeg: a few tiny scenes become a checked MP4 with its sidecar files."""

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from tests.media_probes import make_tone, top_level_boxes
from tests.unit.compose.clip_factory import max_volume_db

from reelflow.compose.composed_outputs import ComposedFiles
from reelflow.compose.fonts import FontSet, brand_font_set
from reelflow.compose.lesson import (
    CARD_SEC,
    NarratedScene,
    Timeline,
    compose_lesson,
    earlier_points,
    lesson_chapters,
    title_card_text,
)
from reelflow.compose.slides import render_title_card
from reelflow.contracts import (
    BrandColours,
    Chapter,
    LessonSpec,
    PublishTarget,
    Scene,
    Step,
    SubtitleMode,
    SubtitleStyle,
    VideoScript,
    VisualStyle,
)
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import JobCanceledError, MediaInvalidError, RenderError, StepTimeoutError
from reelflow.runtime.media_probe import probe_media

SUBPROCESS_TIMEOUT = 30

SCENES = [
    ("1장. 피싱이란", Scene(scene_id="s1", narration="Phishing steals passwords.", on_screen_text="피싱이란?")),
    ("1장. 피싱이란", Scene(scene_id="s2", narration="피싱 메일은 긴급한 어조로 링크 클릭을 유도합니다.")),
    ("Chapter 2", Scene(scene_id="s3", narration="Check the sender {always} before you click.")),
]


def _spec(**changes: object) -> LessonSpec:
    chapters: dict[str, list[Scene]] = {}
    for title, scene in SCENES:
        chapters.setdefault(title, []).append(scene)
    script = VideoScript(
        chapters=[Chapter(chapter_id=str(i), title=title, scenes=s) for i, (title, s) in enumerate(chapters.items())]
    )
    spec = LessonSpec(script=script, size="320x180", fps=10, title="Phishing 101")
    return spec.model_copy(update=changes)


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One espeak-ng clip and two tones, made once for the module."""
    missing = [tool for tool in ("ffmpeg", "ffprobe", "espeak-ng") if shutil.which(tool) is None]
    assert not missing, f"compose tests need {missing} (apt-get install ffmpeg espeak-ng)"
    folder = tmp_path_factory.mktemp("narration")
    espeak = folder / "espeak.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en", "-w", str(espeak), "Check your links."],
        check=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    # Different rates and channel counts on purpose: the mux must normalise them.
    tones = [
        make_tone(folder / name, seconds=seconds, rate=rate, channels=channels)
        for name, seconds, rate, channels in [("tone-a.wav", 1.3, 24000, 2), ("tone-b.wav", 0.85, 44100, 1)]
    ]
    return [espeak, *tones]


async def _narrated(wavs: list[Path]) -> list[NarratedScene]:
    durations = [(await probe_media(wav)).duration_sec for wav in wavs]
    return [
        NarratedScene(chapter_title=title, scene=scene, audio_path=wav, duration_sec=duration)
        for (title, scene), wav, duration in zip(SCENES, wavs, durations, strict=True)
    ]


class Reports:
    def __init__(self) -> None:
        self.seen: list[tuple[Step, float]] = []

    async def __call__(self, step: Step, fraction: float) -> None:
        self.seen.append((step, fraction))

    def of(self, step: Step) -> list[float]:
        return [fraction for seen_step, fraction in self.seen if seen_step == step]


def _bright_subtitle_pixels(video: Path, at_sec: float, out: Path) -> int:
    """White (subtitle) pixels in the bottom 22% of the frame at ``at_sec``; slides never draw there."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", str(at_sec), "-i", str(video), "-frames:v", "1", str(out)],
        check=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    with Image.open(out) as frame:
        gray = frame.convert("L")
        zone = gray.crop((0, round(gray.height * 0.78), gray.width, gray.height))
        return sum(zone.histogram()[201:])


@pytest.mark.parametrize("style", [VisualStyle.BASIC, VisualStyle.ANIMATED])
async def test_compose_lesson_makes_a_checked_mp4_with_sidecars(
    tmp_path: Path, fonts: FontSet, wavs: list[Path], style: VisualStyle
) -> None:
    scenes = await _narrated(wavs)
    workdir = tmp_path / "job's [1], a:b"  # FFmpeg filter and concat quoting must cope with this
    reports = Reports()

    result = await compose_lesson(
        _spec(visual_style=style), scenes, workdir, fonts=fonts, report=reports, parallelism=2
    )

    expected = sum(scene.duration_sec for scene in scenes)
    info = await probe_media(result.video)
    video, audio = info.first("video"), info.first("audio")
    assert video is not None and audio is not None
    assert (video.codec_name, video.pix_fmt, video.width, video.height) == ("h264", "yuv420p", 320, 180)
    assert video.profile == "High"
    assert (audio.codec_name, audio.sample_rate) == ("aac", 48000)
    assert abs(info.duration_sec - expected) <= 0.1
    assert result.duration_sec == pytest.approx(info.duration_sec)
    # +faststart: the index (moov) comes before the media data (mdat)
    boxes = top_level_boxes(result.video)
    assert boxes.index("moov") < boxes.index("mdat")

    srt = result.subtitles_srt.read_text(encoding="utf-8")
    assert srt.count(" --> ") == 3
    assert "피싱 메일은" in srt
    assert result.subtitles_vtt.read_text(encoding="utf-8").startswith("WEBVTT\n")
    # both chapters last under YouTube's 10 s minimum, so they share the one 00:00 line
    assert result.chapters.read_text(encoding="utf-8").splitlines() == ["00:00 1장. 피싱이란 · Chapter 2"]
    with Image.open(result.thumbnail) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (320, 180))

    assert _bright_subtitle_pixels(result.video, 0.5, tmp_path / "frame.png") > 50

    for step in (Step.GENERATE_SUBTITLE, Step.RENDER_SLIDES, Step.COMPOSE_VIDEO):
        fractions = reports.of(step)
        assert fractions[0] == 0.0 and fractions[-1] == 1.0
        assert fractions == sorted(fractions)
    assert len(reports.of(Step.RENDER_SLIDES)) >= len(scenes) + 1  # one report per slide
    steps_in_order = list(dict.fromkeys(step for step, _ in reports.seen))
    assert steps_in_order == [Step.GENERATE_SUBTITLE, Step.RENDER_SLIDES, Step.COMPOSE_VIDEO]


@pytest.mark.parametrize("style", [VisualStyle.BASIC, VisualStyle.ANIMATED])
async def test_a_title_card_opens_the_lesson_in_silence_before_the_first_scene(
    tmp_path: Path, fonts: FontSet, wavs: list[Path], style: VisualStyle
) -> None:
    scenes = await _narrated(wavs)
    spec = _spec(visual_style=style, title_card=True, size="640x360")

    result = await compose_lesson(spec, scenes, tmp_path / "job", fonts=fonts, report=Reports(), parallelism=2)

    narration = sum(scene.duration_sec for scene in scenes)
    info = await probe_media(result.video)
    assert abs(info.duration_sec - (narration + CARD_SEC)) <= 0.1
    # Every cue comes after the card, which is silent and has no subtitle.
    srt = result.subtitles_srt.read_text(encoding="utf-8")
    first_cue = srt.split("\n")[1].split(" --> ")[0]
    assert first_cue >= "00:00:03,000", srt
    assert srt.count(" --> ") == 3
    assert max_volume_db(result.video, start_sec=0.2, seconds=2.5) < -60.0
    # The card is the title over the first chapter's name, as the thumbnail: the frame at 1 s shows it.
    _bright_subtitle_pixels(result.video, 1.0, tmp_path / "card.png")  # writes the frame at 1 s
    title, subtitle = title_card_text(spec, scenes)
    assert (title, subtitle) == ("Phishing 101", "1장. 피싱이란")
    with Image.open(tmp_path / "card.png") as frame, Image.open(result.thumbnail) as thumbnail:
        assert _mean_difference(frame, thumbnail) < 12, "the opening frame is not the title card"
    # The card belongs to the first chapter, which still starts at 00:00.
    assert result.chapters.read_text(encoding="utf-8").splitlines()[0].startswith("00:00 1장. 피싱이란")


async def test_an_outro_card_ends_the_lesson_in_silence_after_the_last_scene(
    tmp_path: Path, fonts: FontSet, wavs: list[Path]
) -> None:
    scenes = await _narrated(wavs)
    spec = _spec(outro_text="Thanks for watching 시청해 주셔서 감사합니다", size="640x360")

    result = await compose_lesson(spec, scenes, tmp_path / "job", fonts=fonts, report=Reports(), parallelism=2)

    narration = sum(scene.duration_sec for scene in scenes)
    info = await probe_media(result.video)
    assert abs(info.duration_sec - (narration + CARD_SEC)) <= 0.1
    assert max_volume_db(result.video, start_sec=narration + 0.2, seconds=2.5) < -60.0
    last_cue_end = result.subtitles_srt.read_text(encoding="utf-8").strip().split("\n\n")[-1].split("\n")[1]
    assert last_cue_end.split(" --> ")[1] <= f"00:00:0{narration:.3f}".replace(".", ",")[:12]
    _bright_subtitle_pixels(result.video, narration + 1.5, tmp_path / "outro.png")
    expected = render_title_card(spec.outro_text, spec.title, (640, 360), fonts)
    with Image.open(tmp_path / "outro.png") as frame:
        assert _mean_difference(frame, expected) < 12, "the closing frame is not the outro card"


async def test_a_styled_subtitle_font_is_the_one_burned(tmp_path: Path, fonts: FontSet, wavs: list[Path]) -> None:
    scenes = await _narrated(wavs)
    spec = _spec(subtitle_style=SubtitleStyle(font="myeongjo", colour="#FFD400", position="top"))

    result = await compose_lesson(spec, scenes, tmp_path / "job", fonts=fonts, report=Reports(), parallelism=2)

    assert result.video.is_file()
    parts = tmp_path / "job" / "parts"
    burned = (parts / "pictures.ass").read_text(encoding="utf-8")
    assert "Style: Default,NanumMyeongjo," in burned and ",&H0000D4FF," in burned
    assert sorted(path.name for path in (tmp_path / "job" / "fonts").iterdir()) == [
        "NanumMyeongjo.ttf",
        "NanumMyeongjoBold.ttf",
    ]


def test_the_bullets_layout_lists_the_earlier_points_of_the_same_chapter_only() -> None:
    scenes = [NarratedScene(title, scene, Path("x.wav"), 2.0) for title, scene in SCENES]
    card = NarratedScene(SCENES[0][0], None, Path("card.wav"), 3.0)
    with_card = [card, *scenes]
    assert [earlier_points(with_card, index) for index in range(len(with_card))] == [
        (),
        (),
        ("피싱이란?",),  # the first scene's on-screen text; the title card is no point
        (),  # a new chapter starts its own list
    ]


async def test_a_scenes_image_is_on_its_slide_in_the_video(tmp_path: Path, fonts: FontSet, wavs: list[Path]) -> None:
    scenes = await _narrated(wavs)
    picture = tmp_path / "visual.png"
    Image.new("RGB", (160, 90), (230, 0, 200)).save(picture)

    result = await compose_lesson(
        _spec(size="640x360"), scenes, tmp_path / "job", fonts=fonts, report=Reports(), images={"s1": picture}
    )

    _bright_subtitle_pixels(result.video, 0.3, tmp_path / "first.png")  # writes the frame of scene s1
    with Image.open(tmp_path / "first.png") as frame:
        pixel = frame.convert("RGB").getpixel((480, 120))  # the right half: the picture
    assert isinstance(pixel, tuple)
    red, green, blue = pixel[:3]
    assert red > 180 and green < 60 and blue > 150, pixel


async def test_a_brand_logo_is_on_every_slide_and_the_outro_card(
    tmp_path: Path, fonts: FontSet, wavs: list[Path]
) -> None:
    scenes = await _narrated(wavs)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 100), (20, 180, 60)).save(logo)
    brand = BrandColours(background="#F4F1EA", accent="#C2410C", logo=f"uploads/{'d' * 64}.png")
    spec = _spec(size="640x360", theme="brand", brand=brand, outro_text="Thanks for watching")

    result = await compose_lesson(spec, scenes, tmp_path / "job", fonts=fonts, report=Reports(), logo=logo)

    narration = sum(scene.duration_sec for scene in scenes)
    for name, at_sec in (("first", 0.3), ("last", narration - 0.3), ("outro", narration + 1.5)):
        _bright_subtitle_pixels(result.video, at_sec, tmp_path / f"{name}.png")
    with Image.open(tmp_path / "first.png") as first, Image.open(tmp_path / "last.png") as last:
        for frame in (first, last):  # top right, inside the 8% side inset: the logo
            assert _is_logo_green(frame.convert("RGB").getpixel((640 - 52 - 25, 25 + 12)))
    with Image.open(tmp_path / "outro.png") as outro:
        assert _is_logo_green(outro.convert("RGB").getpixel((320, 25 + 28)))  # centred above the title


async def test_a_brand_font_draws_the_slides_and_cards_but_not_the_subtitles(
    tmp_path: Path, fonts: FontSet, wavs: list[Path]
) -> None:
    scenes = (await _narrated(wavs))[:1]
    brand_fonts = brand_font_set(fonts.regular.parent / "NanumMyeongjo.ttf")
    spec = _spec(size="640x360")

    result = await compose_lesson(
        spec, scenes, tmp_path / "job", fonts=fonts, report=Reports(), slide_fonts=brand_fonts
    )

    title, subtitle = title_card_text(spec, scenes)
    in_brand = render_title_card(title, subtitle, (640, 360), brand_fonts)
    in_default = render_title_card(title, subtitle, (640, 360), fonts)
    assert _mean_difference(in_brand, in_default) > 0.5, "the two faces draw the title differently"
    with Image.open(result.thumbnail) as thumbnail:
        assert _mean_difference(thumbnail, in_brand) < _mean_difference(thumbnail, in_default)
    burned = (tmp_path / "job" / "parts" / "pictures.ass").read_text(encoding="utf-8")
    assert f"Style: Default,{fonts.family}," in burned, "the subtitles keep their own face"


def test_a_brand_font_freetype_cannot_load_fails_for_good_naming_brand_font(tmp_path: Path) -> None:
    broken = tmp_path / "brand.ttf"
    broken.write_bytes(b"\x00\x01\x00\x00" + bytes(200))
    with pytest.raises(MediaInvalidError, match=r"brand.font could not be loaded as a font") as caught:
        brand_font_set(broken)
    assert not caught.value.retryable


def _is_logo_green(pixel: object) -> bool:
    assert isinstance(pixel, tuple), pixel
    red, green, blue = pixel[:3]
    return bool(green > 140 and red < 80 and blue < 110)


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    a, b = first.convert("L"), second.convert("L").resize(first.size)
    difference = ImageChops.difference(a, b).histogram()
    return sum(level * count for level, count in enumerate(difference)) / (a.width * a.height)


async def test_sidecar_only_leaves_the_picture_clean(tmp_path: Path, fonts: FontSet, wavs: list[Path]) -> None:
    scenes = (await _narrated(wavs))[:1]

    result = await compose_lesson(
        _spec(subtitles=SubtitleMode.SIDECAR), scenes, tmp_path / "out", fonts=fonts, report=Reports()
    )

    assert not list((tmp_path / "out").rglob("*.ass"))
    assert _bright_subtitle_pixels(result.video, 0.5, tmp_path / "frame.png") == 0
    assert result.subtitles_srt.read_text(encoding="utf-8").count(" --> ") == 1
    assert isinstance(result, ComposedFiles)


async def test_cancel_stops_the_job_before_the_video_is_made(tmp_path: Path, fonts: FontSet, wavs: list[Path]) -> None:
    scenes = await _narrated(wavs)
    token = CancelToken()

    async def cancel_on_slides(step: Step, fraction: float) -> None:
        if step is Step.RENDER_SLIDES and fraction > 0:
            token.cancel("user pressed cancel")

    with pytest.raises(JobCanceledError, match="user pressed cancel"):
        await compose_lesson(_spec(), scenes, tmp_path / "out", fonts=fonts, report=cancel_on_slides, cancel=token)
    assert not (tmp_path / "out" / "video.mp4").exists()


async def test_a_step_that_overruns_its_timeout_fails_as_a_timeout(
    tmp_path: Path, fonts: FontSet, wavs: list[Path]
) -> None:
    scenes = await _narrated(wavs)

    async def slow_report(step: Step, fraction: float) -> None:
        await asyncio.sleep(5)

    with pytest.raises(StepTimeoutError, match="GENERATE_SUBTITLE") as raised:
        await compose_lesson(_spec(), scenes, tmp_path / "out", fonts=fonts, report=slow_report, step_timeout_sec=0.2)
    assert raised.value.retryable is True


async def test_missing_narration_audio_is_reported_by_scene(tmp_path: Path, fonts: FontSet, wavs: list[Path]) -> None:
    scenes = await _narrated(wavs)
    broken = [*scenes[:2], NarratedScene("Chapter 2", SCENES[2][1], tmp_path / "gone.wav", 1.0)]

    with pytest.raises(RenderError, match=r"'s3'.*gone\.wav"):
        await compose_lesson(_spec(), broken, tmp_path / "out", fonts=fonts, report=Reports())


def test_timeline_windows_are_frame_aligned_and_contiguous() -> None:
    timeline = Timeline.from_durations([1.234, 2.0, 0.51], 30)

    assert len(timeline) == 3
    assert [timeline.frames(i) for i in range(3)] == [37, 60, 15]
    assert timeline.end_sec(0) == timeline.start_sec(1)
    assert timeline.total_sec == pytest.approx(112 / 30)


def test_chapters_start_where_the_chapter_title_changes() -> None:
    scenes = [NarratedScene(title, scene, Path("x.wav"), 2.0) for title, scene in SCENES]

    marks = lesson_chapters(scenes, Timeline.from_durations([2.0, 2.0, 2.0], 10))

    assert [(mark.title, mark.start_sec) for mark in marks] == [("1장. 피싱이란", 0.0), ("Chapter 2", 4.0)]


def test_title_card_uses_the_video_title_then_the_publish_title() -> None:
    scenes = [NarratedScene(title, scene, Path("x.wav"), 2.0) for title, scene in SCENES]

    assert title_card_text(_spec(), scenes) == ("Phishing 101", "1장. 피싱이란")
    assert title_card_text(_spec(title="", publish=PublishTarget(title="Be safe")), scenes)[0] == "Be safe"
    assert title_card_text(_spec(title=""), scenes) == ("1장. 피싱이란", "")
