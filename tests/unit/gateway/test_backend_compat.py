"""The Spring backend's side of the gateway without a network: its settings' names, the render spec it hands out
read into the contract (and every way fetching it fails, each with its own status and code), the callback bodies
and URLs, and the asset URLs and script version rf.render.completed carries."""

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from reelflow.contracts import (
    Asset,
    AssetKind,
    Chapter,
    ErrorCode,
    ErrorInfo,
    JobStatus,
    LessonSpec,
    RenderCompleted,
    RenderJob,
    Scene,
    Script,
    VideoScript,
    move_job,
)
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.errors import failure_of
from reelflow.gateway.asset_urls import asset_url, with_urls
from reelflow.gateway.backend_callbacks import (
    job_complete_body,
    job_complete_callback,
    script_complete_body,
    script_complete_callback,
)
from reelflow.gateway.backend_specs import BackendSpecs, parse_backend_spec, render_spec_url
from reelflow.gateway.projection import completion_of
from reelflow.gateway.refusals import GatewayError, InvalidRequestError, NotFoundError
from reelflow.gateway.settings import GatewaySettings
from reelflow.gateway.webhook_dispatcher import backend_delivery_document
from reelflow.runtime.backend_connection import BackendConnection

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GATEWAY = "https://reelflow.example.com"
BACKEND = "http://backend:8080/"
SHA = "0" * 64


def lesson_json(**changes: Any) -> dict[str, Any]:
    spec = {
        "template": "lesson",
        "language": "en",
        "size": "320x180",
        "script": {
            "chapters": [
                {"chapter_id": "c1", "title": "Basics", "scenes": [{"scene_id": "s1", "narration": "Lift with care."}]}
            ]
        },
    }
    return spec | changes


def asset(kind: AssetKind) -> Asset:
    return Asset(
        kind=kind,
        bucket="reelflow-media",
        key=f"videos/v/s/j/{kind.value}",
        size_bytes=10,
        content_type="x",
        sha256=SHA,
    )


def job(status: JobStatus, *, attempt: int = 1, assets: list[Asset] | None = None) -> RenderJob:
    queued = RenderJob(
        job_id="job 7/a",
        video_id="video-7",
        script_id="script-7",
        attempt=attempt,
        spec=LessonSpec.model_validate(lesson_json()),
        assets=assets or [],
        duration_sec=12.5 if assets else None,
        created_at=T0,
        updated_at=T0,
    )
    if status == JobStatus.QUEUED:
        return queued
    processing = move_job(queued, JobStatus.PROCESSING, at=T0)
    error = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg failed") if status == JobStatus.FAILED else None
    return move_job(processing, status, at=T0, error=error)


# ---- settings ---------------------------------------------------------------------------------------------------
def test_the_backend_settings_are_read_by_the_bare_names_and_the_prefixed_ones_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("REELFLOW_INTERNAL_TOKEN", "REELFLOW_BACKEND_BASE_URL", "REELFLOW_BACKEND_TIMEOUT_SEC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BACKEND_BASE_URL", "http://backend:8080/")
    monkeypatch.setenv("BACKEND_API_TOKEN", "api-token")
    monkeypatch.setenv("BACKEND_INTERNAL_TOKEN", "internal-token")
    monkeypatch.setenv("BACKEND_TIMEOUT_SEC", "3")
    settings = GatewaySettings()
    assert settings.backend_base_url == "http://backend:8080"
    assert settings.backend_api_token.get_secret_value() == "api-token"
    assert settings.internal_token.get_secret_value() == "internal-token"
    assert settings.backend_timeout_sec == 3.0
    monkeypatch.setenv("REELFLOW_INTERNAL_TOKEN", "prefixed")
    monkeypatch.setenv("REELFLOW_BACKEND_TIMEOUT_SEC", "4")
    assert GatewaySettings().internal_token.get_secret_value() == "prefixed"
    assert GatewaySettings().backend_timeout_sec == 4.0
    assert GatewaySettings(backend_timeout_sec=5).backend_timeout_sec == 5.0


def test_the_public_base_url_defaults_to_the_gateways_own_address_and_must_be_absolute() -> None:
    assert GatewaySettings(gateway_host="10.0.0.5", gateway_port=8001).gateway_base_url == "http://10.0.0.5:8001"
    assert GatewaySettings(public_base_url="https://rf.example.com/api-root/").gateway_base_url == (
        "https://rf.example.com/api-root"
    )
    with pytest.raises(ValueError, match="REELFLOW_PUBLIC_BASE_URL"):
        GatewaySettings(public_base_url="reelflow.example.com")
    with pytest.raises(ValueError, match="REELFLOW_BACKEND_BASE_URL"):
        GatewaySettings(backend_base_url="ftp://backend")


# ---- the render spec the backend hands out ---------------------------------------------------------------------
def test_a_bare_spec_and_an_envelope_with_the_script_version_are_both_read() -> None:
    bare = parse_backend_spec(lesson_json(), script_id="s")
    assert isinstance(bare.spec, LessonSpec) and bare.script_version is None and bare.spec.size == "320x180"
    wrapped = parse_backend_spec({"spec": lesson_json(), "script_version": 4}, script_id="s")
    assert wrapped.spec == bare.spec and wrapped.script_version == 4


@pytest.mark.parametrize(
    ("answer", "fields"),
    [
        (lesson_json(size="1x1"), ["spec.size"]),
        (lesson_json(script={"chapters": []}), ["spec.script.chapters"]),
        (lesson_json(fps=500, visual_stlye="basic"), ["spec.fps", "spec.visual_stlye"]),
        ({"spec": lesson_json(size="31x31"), "script_version": 0}, ["spec.size", "script_version"]),
        ([1, 2], ["spec"]),
    ],
)
def test_an_invalid_spec_is_a_422_naming_each_field(answer: Any, fields: list[str]) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_backend_spec(answer, script_id="script-9")
    failure = failure_of(refused.value, trace_id="t")
    assert (failure.status, failure.code) == (422, ApiErrorCode.VALIDATION_FAILED)
    assert [problem["field"] for problem in failure.details["problems"]] == fields
    assert "script-9" in failure.message


API_TOKEN = "api-token"


def backend_specs(handler: Any) -> BackendSpecs:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return BackendSpecs(BackendConnection(BACKEND, API_TOKEN, timeout_sec=1.5), client)


async def test_the_spec_is_fetched_with_the_bearer_token_from_the_escaped_script_path() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"spec": lesson_json(), "script_version": 2})

    fetched = await backend_specs(answer).render_spec("script/1 2")
    assert fetched.script_version == 2
    [request] = seen
    assert str(request.url) == "http://backend:8080/internal/scripts/script%2F1%202/render-spec"
    assert request.headers["authorization"] == "Bearer api-token"
    assert request.extensions["timeout"]["read"] == 1.5


def raising(error: Exception) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    return answer


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        (raising(httpx.ConnectError("refused")), 503, ApiErrorCode.BACKEND_UNAVAILABLE),
        (raising(httpx.ReadTimeout("slow")), 504, ApiErrorCode.BACKEND_TIMEOUT),
        (raising(httpx.ConnectTimeout("slow")), 504, ApiErrorCode.BACKEND_TIMEOUT),
        (lambda request: httpx.Response(500, text="boom"), 502, ApiErrorCode.BACKEND_FAILED),
        (lambda request: httpx.Response(401, text="who?"), 502, ApiErrorCode.BACKEND_FAILED),
        (lambda request: httpx.Response(200, text="<html>"), 502, ApiErrorCode.BACKEND_FAILED),
        (lambda request: httpx.Response(404, json={}), 404, ApiErrorCode.NOT_FOUND),
    ],
)
async def test_each_way_the_backend_fails_has_its_status_and_code(handler: Any, status: int, code: str) -> None:
    with pytest.raises(GatewayError) as refused:
        await backend_specs(handler).render_spec("script-1")
    failure = failure_of(refused.value, trace_id="t")
    assert (failure.status, failure.code) == (status, code)
    assert "script-1" in failure.message and "boom" not in failure.message


async def test_a_gateway_without_a_backend_says_which_setting_is_missing() -> None:
    specs = BackendSpecs(None, httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200))))
    with pytest.raises(GatewayError) as refused:
        await specs.render_spec("script-1")
    failure = failure_of(refused.value, trace_id="t")
    assert (failure.status, failure.code) == (503, ApiErrorCode.BACKEND_UNAVAILABLE)
    assert "BACKEND_BASE_URL" in failure.message
    assert render_spec_url(BackendConnection("http://b"), "x") == "http://b/internal/scripts/x/render-spec"
    assert not isinstance(refused.value, NotFoundError)


# ---- callbacks ---------------------------------------------------------------------------------------------------
def test_a_completed_job_is_called_back_with_its_video_url_and_duration() -> None:
    done = job(JobStatus.COMPLETED, assets=[asset(AssetKind.VIDEO), asset(AssetKind.THUMBNAIL)])
    assert job_complete_body(done, gateway_base_url=GATEWAY + "/") == {
        "jobId": "job 7/a",
        "videoUrl": "https://reelflow.example.com/api/assets/job%207%2Fa/video",
        "duration": 12.5,
        "status": "COMPLETED",
    }


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELED])
def test_a_job_that_did_not_complete_is_called_back_without_a_video(status: JobStatus) -> None:
    body = job_complete_body(job(status), gateway_base_url=GATEWAY)
    assert body == {"jobId": "job 7/a", "videoUrl": None, "duration": None, "status": status.value}


def test_each_attempt_is_called_back_once_at_the_backends_job_path() -> None:
    first = job_complete_callback(job(JobStatus.FAILED), backend_base_url=BACKEND, gateway_base_url=GATEWAY)
    again = job_complete_callback(job(JobStatus.FAILED), backend_base_url=BACKEND, gateway_base_url=GATEWAY)
    second = job_complete_callback(
        job(JobStatus.COMPLETED, attempt=2, assets=[asset(AssetKind.VIDEO)]),
        backend_base_url=BACKEND,
        gateway_base_url=GATEWAY,
    )
    assert first.url == "http://backend:8080/video/job/job%207%2Fa/complete"
    assert first.key == again.key and first.message_id == again.message_id
    assert second.key != first.key and second.message_id != first.message_id
    assert json.loads(second.body)["status"] == "COMPLETED" and first.job_id == "job 7/a"
    document = backend_delivery_document(second, workspace_id="default", at=100.0)
    assert (document["target"], document["url"], document["callback"], document["state"]) == (
        "backend",
        second.url,
        False,
        "pending",
    )
    assert document["next_attempt_at"] == 100.0 and document["body"] == second.body


def test_a_written_script_is_called_back_with_its_material_and_chapters() -> None:
    scenes = [Scene(scene_id="s1", narration="Hello.")]
    script = Script(
        script_id="script-1",
        video_id="video-1",
        version=3,
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Intro", scenes=scenes)]),
        created_at=T0,
    )
    body = script_complete_body(script, 42)
    assert body["material_id"] == 42 and (body["script_id"], body["version"]) == ("script-1", 3)
    assert body["script"]["chapters"][0]["scenes"][0]["narration"] == "Hello."
    callback = script_complete_callback(script, "m-1", backend_base_url=BACKEND)
    assert callback.url == "http://backend:8080/video/script/complete" and callback.job_id is None
    assert json.loads(callback.body)["material_id"] == "m-1"


# ---- rf.render.completed -----------------------------------------------------------------------------------------
def test_asset_urls_escape_the_job_id() -> None:
    assert asset_url(GATEWAY + "/", "a/b c", AssetKind.SUBTITLES_VTT) == (
        "https://reelflow.example.com/api/assets/a%2Fb%20c/subtitles_vtt"
    )
    [linked] = with_urls([asset(AssetKind.VIDEO)], "j", GATEWAY)
    assert linked.url == "https://reelflow.example.com/api/assets/j/video" and linked.key == asset(AssetKind.VIDEO).key


def test_an_asset_the_backend_keeps_is_linked_and_called_back_at_the_backends_url() -> None:
    """REELFLOW_STORAGE_PROVIDER=backend_presigned: the storage service published the video with its own URL."""
    kept = "https://files.backend.example.com/videos/j/video.mp4"
    video = asset(AssetKind.VIDEO).model_copy(update={"url": kept})
    linked = with_urls([video, asset(AssetKind.THUMBNAIL)], "j", GATEWAY)
    assert [a.url for a in linked] == [kept, "https://reelflow.example.com/api/assets/j/thumbnail"]
    done = job(JobStatus.COMPLETED, assets=[video])
    assert job_complete_body(done, gateway_base_url=GATEWAY)["videoUrl"] == kept


def test_the_completion_carries_the_script_version_and_each_assets_url() -> None:
    processing = job(JobStatus.QUEUED, assets=[asset(AssetKind.VIDEO), asset(AssetKind.CHAPTERS)])
    processing = move_job(processing, JobStatus.PROCESSING, at=T0)
    owed = completion_of(processing, script_version=3, assets_base_url=GATEWAY)
    assert owed.script_version == 3
    assert [a.url for a in owed.assets] == [
        "https://reelflow.example.com/api/assets/job%207%2Fa/video",
        "https://reelflow.example.com/api/assets/job%207%2Fa/chapters",
    ]
    assert completion_of(processing).assets == processing.assets and completion_of(processing).script_version is None


def test_an_old_completed_event_without_the_new_fields_still_parses() -> None:
    old = {"job_id": "j", "video_id": "v", "attempt": 1, "assets": [asset(AssetKind.VIDEO).model_dump(exclude={"url"})]}
    event = RenderCompleted.model_validate(old)
    assert event.script_version is None and event.assets[0].url is None
