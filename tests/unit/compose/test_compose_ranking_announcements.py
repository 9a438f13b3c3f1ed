"""Narrated labels in a ranking short, on real FFmpeg: each clip's announcement is heard as the clip takes over the
screen, the clip's own sound is ducked under it, one too long is cut at its clip's end, and the short stays at the
published loudness.

Each announcement is a tone of its own pitch (the voice is stood in for, so every one can be found in the mix by
its frequency), laid on tiny clips at 180x320; the same short without a voice is the baseline.
"""

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.bus_recording import RecordingBus
from tests.media_probes import integrated_lufs
from tests.unit.compose.clip_factory import ClipRecipe, make_clip, probe_streams

from reelflow.compose.announcements import CUT_FADE_SEC, plan_announcements
from reelflow.compose.compose_step import compose_narrated_job
from reelflow.compose.fonts import FontSet
from reelflow.compose.ranking import ClipMedia, RankingPlan, plan_ranking
from reelflow.compose.settings import ComposeSettings
from reelflow.contracts import (
    RankingClip,
    RankingSpec,
    RenderNarrated,
    SceneNarration,
    Voice,
    announcement_id,
)
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import InvalidScriptError
from reelflow.runtime.progress import ProgressReporter

logger = logging.getLogger(__name__)
TOOL_TIMEOUT_SEC = 60
CLIP_SEC = 2.5
RECIPES = {
    3: ClipRecipe(colour="red", size="320x180", fps=25, seconds=CLIP_SEC, tone_hz=440),
    2: ClipRecipe(colour="green", size="180x320", fps=30, seconds=CLIP_SEC, tone_hz=None),
    1: ClipRecipe(colour="blue", size="320x320", fps=24, seconds=CLIP_SEC, tone_hz=660),
}
CLIPS = [RankingClip(media_key=f"uploads/rank-{rank}.mp4", rank=rank, label=f"label {rank}") for rank in RECIPES]
# Each announcement's pitch and length: #2's is longer than its clip holds the screen, so it is cut.
SAID = {3: (1500, 1.0), 2: (2200, 4.0), 1: (3000, 0.8)}
LISTEN_SEC = 0.5  # how much of each announcement is measured, from its start
HEARD_OVER_BASELINE_DB = 20.0
DUCKED_BY_AT_LEAST_DB = 5.0


@dataclass(frozen=True)
class Shorts:
    narrated: Path
    baseline: Path
    plan: RankingPlan


def _settings() -> ComposeSettings:
    return ComposeSettings(compose_parallelism=2, compose_step_timeout_sec=240)


def _tone_wav(path: Path, *, hz: int, seconds: float) -> Path:
    """A mono 24 kHz WAV (what espeak-ng writes) holding one tone, standing in for a spoken announcement."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"sine=frequency={hz}:duration={seconds}",
         "-ar", "24000", "-ac", "1", str(path)],
        check=True, timeout=TOOL_TIMEOUT_SEC,
    )  # fmt: skip
    return path


def band_level_db(media: Path, *, start_sec: float, seconds: float, hz: int) -> float:
    """Mean level (dBFS) of ``media``'s sound near ``hz`` between ``start_sec`` and ``start_sec + seconds``."""
    completed = subprocess.run(
        ["ffmpeg", "-v", "info", "-nostdin", "-ss", f"{start_sec:.3f}", "-t", f"{seconds:.3f}", "-i", str(media),
         "-vn", "-af", f"bandpass=f={hz}:width_type=q:w=8,bandpass=f={hz}:width_type=q:w=8,volumedetect",
         "-f", "null", "-"],
        check=True, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SEC,
    )  # fmt: skip
    line = next(line for line in completed.stderr.splitlines() if "mean_volume:" in line)
    return float(line.split("mean_volume:")[1].split("dB")[0])


async def _compose(spec: RankingSpec, narration: list[SceneNarration], root: Path, fonts: FontSet, job_id: str) -> Path:
    """Compose the short in a directory blob store rooted at ``root``; the path of its video there."""
    settings = _settings()
    blobs = DirectoryBlobStore(root)
    composed = await compose_narrated_job(
        RenderNarrated(job_id=job_id, video_id="video-1", attempt=1, spec=spec, narration=narration),
        blobs=blobs,
        settings=settings,
        fonts=fonts,
        progress=ProgressReporter(RecordingBus(), job_id=job_id, attempt=1, min_interval_sec=0),
        cancel=CancelToken(),
    )
    return root / settings.work_bucket / composed.outputs.video


@pytest.fixture(scope="module")
async def shorts(tmp_path_factory: pytest.TempPathFactory, fonts: FontSet) -> Shorts:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    assert not missing, f"ranking tests need {missing} (apt-get install ffmpeg)"
    folder = tmp_path_factory.mktemp("announced-clips")
    settings = _settings()
    root = tmp_path_factory.mktemp("announced-blobs")
    blobs = DirectoryBlobStore(root)
    await blobs.ensure_buckets(settings.work_bucket, settings.media_bucket)
    media = {}
    for rank, recipe in RECIPES.items():
        clip = make_clip(recipe, folder / f"rank-{rank}.mp4")
        await blobs.put_file(settings.media_bucket, f"uploads/rank-{rank}.mp4", clip, "video/mp4")
        width, height = (int(side) for side in recipe.size.split("x"))
        media[rank] = ClipMedia(CLIP_SEC, width, height, has_audio=recipe.tone_hz is not None)
    narration = []
    for rank, (hz, seconds) in SAID.items():
        wav = _tone_wav(folder / f"said-{rank}.wav", hz=hz, seconds=seconds)
        key = f"jobs/job-announced/1/audio/rank-{rank:03d}.wav"
        await blobs.put_file(settings.work_bucket, key, wav, "audio/wav")
        narration.append(SceneNarration(scene_id=announcement_id(rank), audio_key=key, duration_sec=seconds))
    spec = RankingSpec(clips=CLIPS, size="180x320", title="Top 3", language="en")
    narrated = await _compose(spec.model_copy(update={"voice": Voice()}), narration, root, fonts, "job-announced")
    baseline = await _compose(spec, [], root, fonts, "job-baseline")
    return Shorts(narrated=narrated, baseline=baseline, plan=plan_ranking(spec, media))


async def test_each_announcement_is_heard_as_its_clip_takes_over_the_screen(shorts: Shorts) -> None:
    summary = []
    for index, planned in enumerate(shorts.plan.clips):
        hz, _ = SAID[planned.rank]
        at = shorts.plan.shown_from_sec(index) + 0.05
        heard = band_level_db(shorts.narrated, start_sec=at, seconds=LISTEN_SEC, hz=hz)
        without = band_level_db(shorts.baseline, start_sec=at, seconds=LISTEN_SEC, hz=hz)
        before = band_level_db(shorts.narrated, start_sec=max(0.0, at - 0.5), seconds=0.4, hz=hz) if index else None
        summary.append(f"#{planned.rank} at {at:.2f}s: {heard:.1f} dB (without a voice {without:.1f} dB)")
        assert heard > without + HEARD_OVER_BASELINE_DB, summary
        assert heard > -35.0, summary
        if before is not None:  # not before its clip: the previous clip's time is free of it
            assert before < heard - HEARD_OVER_BASELINE_DB, (planned.rank, before, heard)
    logger.info("announcements: %s", "; ".join(summary))  # shown with -o log_cli=true, or when a test fails


async def test_a_clips_own_sound_is_ducked_while_its_label_is_said(shorts: Shorts) -> None:
    for index, planned in enumerate(shorts.plan.clips):
        recipe = RECIPES[planned.rank]
        if recipe.tone_hz is None:
            continue
        at = shorts.plan.shown_from_sec(index) + 0.1
        ducked = band_level_db(shorts.narrated, start_sec=at, seconds=0.4, hz=recipe.tone_hz)
        plain = band_level_db(shorts.baseline, start_sec=at, seconds=0.4, hz=recipe.tone_hz)
        assert ducked < plain - DUCKED_BY_AT_LEAST_DB, (planned.rank, ducked, plain)
        assert ducked > -60.0, (planned.rank, ducked)  # ducked, not silenced


async def test_an_announcement_longer_than_its_clip_is_cut_where_the_next_clip_takes_over(shorts: Shorts) -> None:
    index = next(i for i, planned in enumerate(shorts.plan.clips) if planned.rank == 2)
    [slot] = [slot for slot in plan_announcements(shorts.plan, {2: SAID[2][1]})]
    assert slot.cut and slot.end_sec == pytest.approx(shorts.plan.shown_until_sec(index))
    hz = SAID[2][0]
    during = band_level_db(shorts.narrated, start_sec=slot.end_sec - 0.5, seconds=0.3, hz=hz)
    after = band_level_db(shorts.narrated, start_sec=slot.end_sec + CUT_FADE_SEC, seconds=0.5, hz=hz)
    assert after < during - HEARD_OVER_BASELINE_DB, (during, after)
    # The short keeps the clips' timing: a long announcement lengthens nothing.
    narrated, baseline = probe_streams(shorts.narrated)["format"], probe_streams(shorts.baseline)["format"]
    assert isinstance(narrated, dict) and isinstance(baseline, dict)
    assert float(narrated["duration"]) == pytest.approx(float(baseline["duration"]), abs=0.05)
    assert float(narrated["duration"]) == pytest.approx(shorts.plan.total_sec, abs=0.1)


async def test_the_narrated_short_stays_at_the_published_loudness(shorts: Shorts) -> None:
    narrated, baseline = integrated_lufs(shorts.narrated), integrated_lufs(shorts.baseline)
    logger.info("integrated loudness: narrated %.1f LUFS, without a voice %.1f LUFS", narrated, baseline)
    assert narrated == pytest.approx(-16.0, abs=1.0)


async def test_a_narrated_short_missing_an_announcement_is_refused(tmp_path: Path, fonts: FontSet) -> None:
    settings = _settings()
    blobs = DirectoryBlobStore(tmp_path)
    await blobs.ensure_buckets(settings.work_bucket, settings.media_bucket)
    spec = RankingSpec(clips=CLIPS, voice=Voice())
    only_one = [SceneNarration(scene_id=announcement_id(3), audio_key="jobs/x/1/audio/rank-003.wav", duration_sec=1)]
    with pytest.raises(InvalidScriptError, match=r"clips \[2, 1\] have no announcement"):
        await _compose(spec, only_one, tmp_path, fonts, "job-missing")
