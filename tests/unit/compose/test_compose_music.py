"""Background music: faded in and out, ducked under the narration, mixed without touching the voice's level."""

from pathlib import Path

import pytest
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import integrated_lufs, make_silence_then_tone, make_tone, rms_db, run_tool, video_facts

from reelflow.compose.audio_mix import music_bed_filter
from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson import compose_lesson
from reelflow.compose.lesson_job import fetch_music
from reelflow.compose.loudness import TARGET_LUFS, TOLERANCE_LU
from reelflow.contracts import MusicTrack
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.failures import MediaInvalidError

# The music is a 200 Hz tone and the voice a 1 kHz tone, so a steep low-pass hears the music alone.
MUSIC_ONLY = "lowpass=f=300,lowpass=f=300,lowpass=f=300"
VOICE_STARTS_SEC = 1.8


def _mix(tmp_path: Path, voice: Path, music: Path, *, total_sec: float, duck: bool) -> Path:
    graph = "[0:a]anull[v];[1:a]anull[m];" + music_bed_filter(
        voice="v", music="m", out="mixed", volume=0.5, total_sec=total_sec, fade_sec=1.0, duck=duck
    )
    out = tmp_path / f"mixed-{duck}.wav"
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-i", str(voice), "-stream_loop", "-1", "-i", str(music),
        "-filter_complex", graph, "-map", "[mixed]", str(out),
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("music")
    return {
        # a short music file: the mix must loop it to cover the whole bed
        "music": make_tone(folder / "music.wav", seconds=1.3, frequency=200, volume=4.0, rate=44100),
        "voice": make_silence_then_tone(folder / "voice.wav", silence_sec=VOICE_STARTS_SEC, tone_sec=1.7),
        "speech": make_tone(folder / "speech.wav", seconds=1.7, frequency=1000, volume=1.0),
    }


def test_compose_music_bed_filter_text_keeps_the_voice_at_unit_gain() -> None:
    graph = music_bed_filter(voice="v", music="3:a", out="bed", volume=0.15, total_sec=12.5)

    assert graph.startswith("[v]") and "[3:a]" in graph and graph.endswith("[bed]")
    assert "volume=0.15" in graph
    assert "afade=t=in:st=0:d=1" in graph and "afade=t=out:st=11.5:d=1" in graph
    assert "sidechaincompress=" in graph
    assert "amix=inputs=2:duration=first:dropout_transition=0:normalize=0" in graph
    assert graph.count("atrim=end=12.5") == 3  # voice, music and the mix, each held to exactly the bed length


def test_compose_music_bed_filter_without_ducking_and_short_fades() -> None:
    graph = music_bed_filter(voice="v", music="m", out="o", volume=1.0, total_sec=1.0, fade_sec=2.0, duck=False)

    assert "sidechaincompress" not in graph
    assert "afade=t=in:st=0:d=0.5" in graph and "afade=t=out:st=0.5:d=0.5" in graph
    with pytest.raises(ValueError, match="positive length"):
        music_bed_filter(voice="v", music="m", out="o", volume=0.1, total_sec=0)


def test_compose_music_is_looped_faded_and_ducked_under_the_voice(tmp_path: Path, media: dict[str, Path]) -> None:
    total = 4.0
    ducked = _mix(tmp_path, media["voice"], media["music"], total_sec=total, duck=True)
    plain = _mix(tmp_path, media["voice"], media["music"], total_sec=total, duck=False)

    entries = "stream=sample_rate,channels,duration"
    facts = run_tool("ffprobe", "-v", "error", "-show_entries", entries, "-of", "csv=p=0", str(ducked))
    assert facts.stdout.strip() == "48000,2,4.000000"
    # the fade-in: the first 0.2 s is near silence although the music is at full level from its first sample
    assert rms_db(ducked, start_sec=0.0, duration_sec=0.2) < rms_db(ducked, start_sec=1.1, duration_sec=0.5) - 12
    # the music alone, before the voice starts, against the music while the voice speaks
    before = rms_db(ducked, start_sec=1.1, duration_sec=0.6, audio_filter=MUSIC_ONLY)
    under_voice = rms_db(ducked, start_sec=2.3, duration_sec=0.9, audio_filter=MUSIC_ONLY)
    assert under_voice < before - 6
    # without ducking the music keeps its level: the drop above is the sidechain's doing
    plain_under_voice = rms_db(plain, start_sec=2.3, duration_sec=0.9, audio_filter=MUSIC_ONLY)
    assert abs(plain_under_voice - before) < 1.5
    # the voice's own level is untouched by the mix (amix normalize=0); it is compared in stereo, as mixed
    voice_band = "highpass=f=700,highpass=f=700,highpass=f=700"
    stereo_voice = f"aformat=channel_layouts=stereo,{voice_band}"
    original = rms_db(media["voice"], start_sec=2.3, duration_sec=0.9, audio_filter=stereo_voice)
    assert abs(rms_db(ducked, start_sec=2.3, duration_sec=0.9, audio_filter=voice_band) - original) < 1.0


async def test_compose_music_lesson_is_ducked_faded_and_on_target(
    tmp_path: Path, fonts: FontSet, media: dict[str, Path]
) -> None:
    spec = lesson_spec(2, size="160x90", fps=10, music=MusicTrack(media_key="beds/calm.wav", volume=0.15))
    scenes = await narrated_scenes(spec, [media["voice"], media["speech"]])

    result = await compose_lesson(
        spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, music_path=media["music"]
    )

    assert abs(video_facts(result.video).duration_sec - sum(s.duration_sec for s in scenes)) <= 0.1
    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU
    assert rms_db(result.video, start_sec=0.0, duration_sec=0.2) < -45
    before = rms_db(result.video, start_sec=1.1, duration_sec=0.6, audio_filter=MUSIC_ONLY)
    under_voice = rms_db(result.video, start_sec=2.3, duration_sec=0.9, audio_filter=MUSIC_ONLY)
    assert before > -45  # the music really plays in the narration's pause
    assert under_voice < before - 6


async def test_compose_music_that_cannot_be_decoded_names_its_key(tmp_path: Path, fonts: FontSet) -> None:
    garbage = tmp_path / "music.mp3"
    garbage.write_bytes(b"this is not audio" * 100)
    spec = lesson_spec(1, size="160x90", fps=10, music=MusicTrack(media_key="beds/broken.mp3"))
    scenes = await narrated_scenes(spec, [make_tone(tmp_path / "n.wav", seconds=1.0)])

    with pytest.raises(MediaInvalidError, match=r"'beds/broken\.mp3'.*cannot be decoded"):
        await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress, music_path=garbage)
    with pytest.raises(MediaInvalidError, match=r"'beds/broken\.mp3'.*missing"):
        await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)
    assert not (tmp_path / "out" / "video.mp4").exists()


async def test_compose_music_fetch_reads_the_media_bucket_and_rejects_a_missing_key(tmp_path: Path) -> None:
    blobs = DirectoryBlobStore(tmp_path / "blobs")
    await blobs.put_bytes("media", "beds/calm.mp3", b"ID3 pretend", "audio/mpeg")

    fetched = await fetch_music(blobs, "media", MusicTrack(media_key="beds/calm.mp3"), tmp_path / "audio")

    assert fetched is not None and fetched.read_bytes() == b"ID3 pretend" and fetched.suffix == ".mp3"
    assert await fetch_music(blobs, "media", None, tmp_path / "audio") is None
    with pytest.raises(MediaInvalidError, match=r"'beds/gone\.mp3' was not found"):
        await fetch_music(blobs, "media", MusicTrack(media_key="beds/gone.mp3"), tmp_path / "audio")
