"""espeak-ng narration: pure command builders, and real espeak-ng + FFmpeg runs."""

import asyncio
import gc
import wave
from pathlib import Path

import pytest

from reelflow.contracts import ErrorCode, Voice
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import JobCanceledError, StepTimeoutError, TtsError
from reelflow.tts.narration import espeak_args, narrate_scene, normalize_audio_args, wav_duration_sec


def test_espeak_args_send_text_on_stdin_with_the_rate_in_words_per_minute(tmp_path: Path) -> None:
    wav = tmp_path / "raw.wav"
    args = espeak_args("-v --help is just text", "en-us", 1.2, wav)
    assert args[0] == "espeak-ng"
    assert args[args.index("-v") + 1] == "en-us"
    assert args[args.index("-s") + 1] == "210"
    assert args[args.index("-w") + 1] == str(wav)
    assert args[-1] == "--stdin"
    assert not any("help" in arg for arg in args)  # the text never becomes an argument
    for rate, words_per_minute in ((1.0, "175"), (0.5, "88"), (2.0, "350")):
        slower_or_faster = espeak_args("x", "ko", rate, wav)
        assert slower_or_faster[slower_or_faster.index("-s") + 1] == words_per_minute


def test_espeak_args_raise_or_lower_the_pitch_only_when_asked(tmp_path: Path) -> None:
    wav = tmp_path / "raw.wav"
    assert "-p" not in espeak_args("x", "ko", 1.0, wav)
    for pitch, value in ((3, "62"), (-2.5, "40"), (12, "98"), (-12, "2")):
        args = espeak_args("x", "ko", 1.0, wav, pitch)
        assert args[args.index("-p") + 1] == value


async def test_a_higher_pitch_is_spoken_by_the_real_espeak(tmp_path: Path) -> None:
    plain, higher = tmp_path / "plain.wav", tmp_path / "higher.wav"
    await narrate_scene("안녕하세요", Voice(), "ko", plain)
    await narrate_scene("안녕하세요", Voice(pitch=6), "ko", higher)
    assert plain.read_bytes() != higher.read_bytes()


def test_normalize_audio_args_make_48k_mono_s16_with_a_trailing_pause(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw.wav", tmp_path / "out.wav"
    args = normalize_audio_args(raw, out, 0.35)
    assert args[0] == "ffmpeg"
    assert args[args.index("-i") + 1] == str(raw)
    assert args[args.index("-af") + 1] == "apad=pad_dur=0.350"
    assert args[args.index("-ar") + 1] == "48000"
    assert args[args.index("-ac") + 1] == "1"
    assert args[args.index("-c:a") + 1] == "pcm_s16le"
    assert "-y" in args
    assert "-nostdin" in args
    assert args[-1] == str(out)


def write_silence(path: Path, frames: int, rate: int = 48_000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * frames)


def leftover_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_wav_duration_sec_reads_the_header_exactly(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    write_silence(path, 12_345)
    assert wav_duration_sec(path) == 12_345 / 48_000
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not a wav")
    with pytest.raises(TtsError, match=r"broken\.wav"):
        wav_duration_sec(broken)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("피싱은 믿을 만한 회사인 척하며 개인정보를 빼내는 사기입니다.", "ko"),
        ("Phishing is a scam that pretends to be someone you trust.", "en"),
    ],
)
async def test_narrate_scene_writes_a_48k_mono_wav_and_returns_its_duration(
    tmp_path: Path, text: str, language: str
) -> None:
    out = tmp_path / "scene.wav"
    duration = await narrate_scene(text, Voice(), language, out)

    assert duration > 0.5
    assert duration == wav_duration_sec(out)
    with wave.open(str(out), "rb") as wav:
        assert wav.getframerate() == 48_000
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
    assert leftover_files(tmp_path) == ["scene.wav"]  # espeak-ng's raw file is removed


async def test_trailing_silence_is_appended_and_rate_speeds_speech(tmp_path: Path) -> None:
    text = "Stop and think before you click a link."
    plain = await narrate_scene(text, Voice(), "en", tmp_path / "a.wav", trailing_silence_sec=0.0)
    padded = await narrate_scene(text, Voice(), "en", tmp_path / "b.wav", trailing_silence_sec=1.0)
    fast = await narrate_scene(text, Voice(rate=2.0), "en", tmp_path / "c.wav", trailing_silence_sec=0.0)
    assert padded - plain == pytest.approx(1.0, abs=0.01)
    assert fast < plain * 0.75


async def test_text_starting_with_a_dash_is_spoken_not_parsed(tmp_path: Path) -> None:
    duration = await narrate_scene("--version -v xx is what I typed.", Voice(), "en", tmp_path / "dash.wav")
    assert duration > 1.0


async def test_unknown_voice_is_a_tts_error_naming_voice_and_language(tmp_path: Path) -> None:
    with pytest.raises(TtsError) as caught:
        await narrate_scene("hello", Voice(voice="xx-nonexistent"), "en", tmp_path / "out.wav")
    assert "'xx-nonexistent'" in caught.value.message
    assert "'en'" in caught.value.message
    assert caught.value.code is ErrorCode.TTS_FAILED
    assert not caught.value.retryable
    assert not (tmp_path / "out.wav").exists()
    assert leftover_files(tmp_path) == []


async def test_empty_text_is_a_non_retryable_tts_error(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="empty") as caught:
        await narrate_scene("  \n ", Voice(), "ko", tmp_path / "out.wav")
    assert not caught.value.retryable
    assert leftover_files(tmp_path) == []


async def test_missing_espeak_binary_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(TtsError, match="apt-get install espeak-ng") as caught:
        await narrate_scene("hello", Voice(), "en", tmp_path / "out.wav")
    assert not caught.value.retryable


async def test_canceled_job_does_not_narrate(tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel("user pressed cancel")
    with pytest.raises(JobCanceledError, match="user pressed cancel"):
        await narrate_scene("hello", Voice(), "en", tmp_path / "out.wav", cancel=token)
    assert not (tmp_path / "out.wav").exists()


async def test_timeout_stops_the_narration(tmp_path: Path) -> None:
    text = "This sentence is long enough to keep espeak busy for a moment. " * 20
    with pytest.raises(StepTimeoutError) as caught:
        await narrate_scene(text, Voice(), "en", tmp_path / "out.wav", timeout_sec=0.001)
    assert caught.value.retryable
    assert leftover_files(tmp_path) == []
    # run_process kills a timed-out child without awaiting its exit; release its transport while the loop
    # still runs, so that it is not finalised after the loop closes (see the note in the TTS report).
    del caught
    gc.collect()
    await asyncio.sleep(0.05)
