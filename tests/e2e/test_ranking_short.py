"""A ranking short through the REST API: three uploaded clips of mixed sizes and rates to a checked 9:16 MP4."""

import itertools
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServices
from tests.e2e.job_events import events_until_status
from tests.e2e.media_checks import brightness_spread, frame_at, probe
from tests.gateway_auth import ADMIN_HEADERS
from tests.media_probes import integrated_lufs, rms_db

pytestmark = [pytest.mark.connected, pytest.mark.e2e]

FPS = 30
# reelflow.compose.ranking: neighbouring clips overlap by one 0.4 s transition, every length in whole frames.
TRANSITION_FRAMES = round(0.4 * FPS)
DURATION_TOLERANCE_SEC = 0.3
RENDER_TIMEOUT_SEC = 240


@dataclass(frozen=True)
class ClipSource:
    name: str
    size: str
    rate: int
    seconds: float
    audio: bool


CLIPS = (
    ClipSource("landscape.mp4", "640x360", 30, 2.0, audio=True),
    ClipSource("portrait.mov", "480x640", 25, 2.4, audio=False),
    ClipSource("square.mp4", "320x320", 24, 1.6, audio=True),
)


def make_clip(source: ClipSource, folder: Path, tag: str) -> Path:
    path = folder / source.name
    sound = ["-f", "lavfi", "-i", "sine=frequency=330", "-c:a", "aac"] if source.audio else ["-an"]
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-nostdin", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=size={source.size}:rate={source.rate}", *sound),
            *("-t", f"{source.seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
            *("-metadata", f"comment={tag}", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path


async def test_three_uploaded_clips_become_a_ranking_short(
    services: RunningServices, unique_id: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=60) as client:
        uploads: list[dict[str, Any]] = []
        for source in CLIPS:
            path = make_clip(source, tmp_path, unique_id)
            response = await client.post("/api/uploads", files={"file": (source.name, path.read_bytes())})
            assert response.status_code == 201, response.text
            uploads.append(response.json())
        assert [u["has_audio"] for u in uploads] == [True, False, True]
        assert [u["media_key"].rsplit(".", 1)[1] for u in uploads] == ["mp4", "mov", "mp4"]

        # Rank 3 plays first; the portrait clip is trimmed to 1.8 s.
        clips = [
            {"media_key": uploads[0]["media_key"], "rank": 3, "label": "wide"},
            {"media_key": uploads[1]["media_key"], "rank": 2, "label": "tall", "start": 0.2, "end": 2.0},
            {"media_key": uploads[2]["media_key"], "rank": 1, "label": "square"},
        ]
        created = await client.post(
            "/api/ranking-jobs", json={"video_id": f"shorts-{unique_id}", "title": "Top 3 shapes", "clips": clips}
        )
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["job_id"]

        events = await events_until_status(client, job_id, timeout_sec=RENDER_TIMEOUT_SEC)
        job = (await client.get(f"/api/render-jobs/{job_id}")).json()
        assert job["status"] == "COMPLETED", job.get("error")
        assert events[-1][0] == "status" and events[-1][1]["status"] == "COMPLETED"
        progress = [update["progress"] for kind, update in events if kind == "progress"]
        assert all(later >= earlier for earlier, later in itertools.pairwise(progress)), progress
        assert {asset["kind"] for asset in job["assets"]} >= {"video", "thumbnail"}

        downloaded = await client.get(f"/api/assets/{job_id}/video")
        assert downloaded.status_code == 200 and downloaded.headers["content-type"] == "video/mp4"
    video = tmp_path / "short.mp4"
    video.write_bytes(downloaded.content)

    probed = probe(video)
    assert (probed.width, probed.height) == (1080, 1920)
    assert probed.video_codec == "h264" and probed.pix_fmt == "yuv420p"
    assert probed.audio_codec == "aac" and probed.sample_rate == 48000
    frames = [round(uploads[0]["duration_sec"] * FPS), round(1.8 * FPS), round(uploads[2]["duration_sec"] * FPS)]
    expected_sec = (sum(frames) - 2 * TRANSITION_FRAMES) / FPS
    assert abs(probed.duration_sec - expected_sec) <= DURATION_TOLERANCE_SEC, (probed.duration_sec, expected_sec)
    middle_of_first_clip = frames[0] / FPS / 2
    assert brightness_spread(frame_at(video, middle_of_first_clip, tmp_path / "f.png")) > 10


async def test_a_short_with_a_voice_has_each_label_said_as_its_clip_takes_over(
    services: RunningServices, unique_id: str, tmp_path: Path
) -> None:
    """espeak-ng says "Number 2. tall" and "Number 1." over two silent clips: speech at each clip's start, and the
    short (nothing but the voice) at the published loudness."""
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=60) as client:
        keys = []
        for source in (CLIPS[1], ClipSource("quiet.mp4", "320x320", 24, 2.4, audio=False)):
            path = make_clip(source, tmp_path, unique_id)
            response = await client.post("/api/uploads", files={"file": (source.name, path.read_bytes())})
            assert response.status_code == 201, response.text
            keys.append(response.json()["media_key"])
        body = {
            "video_id": f"said-{unique_id}",
            "size": "180x320",
            "language": "en",
            "voice": {"provider": "espeak"},
            "clips": [{"media_key": keys[0], "rank": 2, "label": "tall"}, {"media_key": keys[1], "rank": 1}],
        }
        created = await client.post("/api/ranking-jobs", json=body)
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["job_id"]
        await events_until_status(client, job_id, timeout_sec=RENDER_TIMEOUT_SEC)
        job = (await client.get(f"/api/render-jobs/{job_id}")).json()
        assert job["status"] == "COMPLETED", job.get("error")
        downloaded = await client.get(f"/api/assets/{job_id}/video")
    video = tmp_path / "said.mp4"
    video.write_bytes(downloaded.content)

    second_starts = (round(2.4 * FPS) - TRANSITION_FRAMES + TRANSITION_FRAMES / 2) / FPS
    for at_sec in (0.0, second_starts):
        assert rms_db(video, start_sec=at_sec, duration_sec=0.8) > -40.0, at_sec
    assert integrated_lufs(video) == pytest.approx(-16.0, abs=1.0)
