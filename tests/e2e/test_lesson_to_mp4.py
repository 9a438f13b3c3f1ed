"""A lesson, Korean and English, through the gateway REST API and all six services to a checked MP4."""

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient

from reelflow.contracts import STREAM_NAME, LessonSpec, RenderCompleted, RenderRequested, ScriptOptions, VideoScript
from reelflow.script.outline import write_outline
from tests.conftest import RunningServices
from tests.e2e.job_events import events_until_status
from tests.e2e.media_checks import brightness_spread, cues_per_scene, frame_at, probe, srt_cue_times
from tests.gateway_auth import ADMIN_HEADERS

pytestmark = [pytest.mark.connected, pytest.mark.e2e]

KOREAN_LESSON = """# 피싱이란 무엇인가요?

피싱은 믿을 만한 회사나 동료인 척하며 정보를 빼내는 사기입니다. 공격자는 비밀번호와 인증 코드를 노립니다.

## 의심해야 할 신호

급하게 행동하라고 재촉하는 메시지는 위험합니다. 보낸 사람 주소를 꼭 확인하세요!

## 이렇게 대응하세요

링크를 누르지 말고 보안팀에 신고하세요. 작은 확인 습관이 회사를 지킵니다.
"""

ENGLISH_LESSON = """# What is phishing?

Phishing is a scam where someone pretends to be a trusted company to steal your information.

## Warning signs

Most phishing emails try to rush you. Check the sender's address before you click anything.

## What to do

Do not click the link. Report the message to the security team.
"""


async def _narrated_durations(nats_url: str, job_id: str) -> list[float]:
    """The measured narration durations, read back from the stored rf.render.narrated event."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        sub = await js.pull_subscribe(
            "rf.render.narrated", stream=STREAM_NAME, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        for _ in range(20):
            try:
                messages = await sub.fetch(50, timeout=2)
            except nats.errors.TimeoutError:
                break
            for message in messages:
                body = json.loads(message.data)
                if body["job_id"] == job_id:
                    return [item["duration_sec"] for item in body["narration"]]
        raise AssertionError(f"no rf.render.narrated for {job_id}")
    finally:
        await connection.close()


async def _render_through_api(services: RunningServices, lesson: str, language: str, video_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=30) as client:
        response = await client.post(
            f"/api/videos/{video_id}/scripts/generate",
            json={"source_text": lesson, "options": {"language": language}},
        )
        assert response.status_code == 202, response.text
        script_id = response.json()["script_id"]
        for _ in range(200):
            response = await client.get(f"/api/scripts/{script_id}")
            if response.status_code != 202:
                break
            await asyncio.sleep(0.1)
        assert response.status_code == 200, response.text
        script = response.json()
        assert script["status"] == "DRAFT"

        refused = await client.post(f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "CONFLICT"

        assert (await client.post(f"/api/scripts/{script_id}/approve")).json()["status"] == "APPROVED"
        created = await client.post(f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id})
        assert created.status_code == 201, created.text
        job_id = created.json()["job"]["job_id"]
        again = await client.post(f"/api/videos/{video_id}/render-jobs", json={"script_id": script_id})
        assert again.status_code == 200
        assert again.json() == {"job": again.json()["job"], "created": False}
        assert again.json()["job"]["job_id"] == job_id

        events = await events_until_status(client, job_id, timeout_sec=240)
        job = (await client.get(f"/api/render-jobs/{job_id}")).json()
        return {"script": script, "job": job, "events": events}


@pytest.mark.parametrize(("language", "lesson"), [("ko", KOREAN_LESSON), ("en", ENGLISH_LESSON)])
async def test_lesson_becomes_a_checked_mp4(
    services: RunningServices, unique_id: str, tmp_path: Path, language: str, lesson: str
) -> None:
    result = await _render_through_api(services, lesson, language, f"video-{language}-{unique_id}")
    job, events = result["job"], result["events"]
    assert job["status"] == "COMPLETED", job.get("error")
    assert job["progress"] == 100 and job["step"] == "FINALIZE"

    progress = [update["progress"] for kind, update in events if kind == "progress"]
    assert progress[-1] == 100
    assert all(later >= earlier for earlier, later in itertools.pairwise(progress)), progress
    assert len(set(progress)) >= 4, f"expected live progress, got {progress}"
    assert events[-1][0] == "status" and events[-1][1]["status"] == "COMPLETED"

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(services.endpoints.mongo_url, tz_aware=True)
    try:
        stored = await mongo["reelflow"]["render_jobs"].find_one({"_id": job["job_id"]})
    finally:
        await mongo.close()
    assert stored is not None and stored["status"] == "COMPLETED"
    kinds = {asset["kind"] for asset in stored["assets"]}
    assert kinds == {"video", "subtitles_srt", "subtitles_vtt", "thumbnail", "chapters"}
    video_key = next(a["key"] for a in stored["assets"] if a["kind"] == "video")
    assert video_key == f"videos/{job['video_id']}/{job['script_id']}/{job['job_id']}/video.mp4"

    async with httpx.AsyncClient(
        base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=60, follow_redirects=True
    ) as client:
        video = tmp_path / "video.mp4"
        video.write_bytes((await client.get(f"/api/assets/{job['job_id']}/video")).content)
        srt = (await client.get(f"/api/assets/{job['job_id']}/subtitles_srt")).text
        thumbnail = await client.get(f"/api/assets/{job['job_id']}/thumbnail", follow_redirects=False)
        assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
        assert thumbnail.content.startswith(b"\xff\xd8"), "the gateway streams the stored JPEG itself"

    probed = probe(video)
    assert (probed.width, probed.height) == (1280, 720)
    assert probed.video_codec == "h264" and probed.pix_fmt == "yuv420p"
    assert probed.audio_codec == "aac" and probed.sample_rate == 48000
    durations = await _narrated_durations(services.endpoints.nats_url, job["job_id"])
    assert abs(probed.duration_sec - sum(durations)) <= 0.5, (probed.duration_sec, sum(durations))

    scene_count = sum(len(chapter["scenes"]) for chapter in result["script"]["script"]["chapters"])
    assert scene_count == len(durations)
    cues = srt_cue_times(srt)
    per_scene = cues_per_scene(cues, durations)
    # Long narration is split into several cues, but every cue stays inside its own scene.
    assert all(count >= 1 for count in per_scene), per_scene
    assert sum(per_scene) == len(cues), (per_scene, cues)
    middle_of_first_scene = durations[0] / 2
    assert brightness_spread(frame_at(video, middle_of_first_scene, tmp_path / "f.png")) > 10


async def test_backend_publishes_render_requested_and_gets_completed(services: RunningServices, unique_id: str) -> None:
    """The Spring backend's path: no REST, just rf.render.requested in and rf.render.completed out."""
    script: VideoScript = write_outline(ENGLISH_LESSON, ScriptOptions(language="en", max_chapters=2))
    request = RenderRequested(
        job_id=f"backend-{unique_id}",
        video_id=f"backend-video-{unique_id}",
        script_id=f"backend-script-{unique_id}",
        attempt=1,
        spec=LessonSpec(language="en", script=script, size="640x360", fps=15),
    )
    connection = await nats.connect(services.endpoints.nats_url)
    try:
        completed: asyncio.Future[RenderCompleted] = asyncio.get_running_loop().create_future()

        async def on_completed(message: Msg) -> None:
            event = RenderCompleted.model_validate_json(message.data)
            if event.job_id == request.job_id and not completed.done():
                completed.set_result(event)

        await connection.subscribe(RenderCompleted.subject, cb=on_completed)
        ack = await connection.jetstream().publish(
            RenderRequested.subject,
            request.model_dump_json().encode(),
            headers={"Nats-Msg-Id": request.idempotency_key(), "ce-type": request.event_type},
        )
        assert ack.stream == STREAM_NAME
        started = time.monotonic()
        event = await asyncio.wait_for(completed, timeout=180)
    finally:
        await connection.close()
    assert event.attempt == 1 and event.video_id == request.video_id
    assert {asset.kind.value for asset in event.assets} >= {"video", "subtitles_srt", "thumbnail"}
    assert time.monotonic() - started < 180
    async with httpx.AsyncClient(base_url=services.gateway_url, headers=ADMIN_HEADERS, timeout=10) as client:
        job = (await client.get(f"/api/render-jobs/{request.job_id}")).json()
    assert job["status"] == "COMPLETED"
