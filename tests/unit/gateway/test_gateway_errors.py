"""One map from error to HTTP status, one JSON error shape, and no internal detail in what a caller reads."""

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from pymongo.errors import ServerSelectionTimeoutError
from tests.gateway_auth import as_admin_without_accounts

from reelflow.contracts import ErrorCode, ErrorInfo, IllegalTransitionError
from reelflow.contracts.errors import ApiErrorCode
from reelflow.gateway.api.errors import failure_of, status_of
from reelflow.gateway.app import build_api
from reelflow.gateway.refusals import (
    ConflictError,
    DependencyUnavailableError,
    InvalidRequestError,
    NotFoundError,
    NotReadyError,
    PayloadTooLargeError,
    ScriptWritingFailedError,
    UnsupportedMediaTypeError,
)
from reelflow.runtime.failures import (
    BusUnavailableError,
    MediaInvalidError,
    RenderError,
    StepTimeoutError,
    StorageUploadError,
)

INTERNAL_HOST = "http://10.1.2.3:9000"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFoundError("x"), 404, ApiErrorCode.NOT_FOUND),
        (ConflictError("x"), 409, ApiErrorCode.CONFLICT),
        (NotReadyError("x"), 409, ApiErrorCode.NOT_READY),
        (InvalidRequestError.of([{"field": "size", "problem": "odd"}]), 422, ApiErrorCode.VALIDATION_FAILED),
        (PayloadTooLargeError("x"), 413, ApiErrorCode.PAYLOAD_TOO_LARGE),
        (UnsupportedMediaTypeError("x"), 415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE),
        (DependencyUnavailableError("MongoDB"), 503, ApiErrorCode.UNAVAILABLE),
        (ScriptWritingFailedError(ErrorInfo(code=ErrorCode.LLM_FAILED, message="no LLM")), 422, ErrorCode.LLM_FAILED),
        (IllegalTransitionError("a COMPLETED job cannot become QUEUED"), 409, ApiErrorCode.CONFLICT),
        (MediaInvalidError("'a.mp4' cannot be used"), 422, ErrorCode.MEDIA_INVALID),
        (StepTimeoutError("ffprobe did not finish"), 504, ErrorCode.TIMEOUT),
    ],
)
def test_each_error_has_one_status_and_its_code(error: Exception, status: int, code: str) -> None:
    failure = failure_of(error, trace_id="t-1")
    assert (status_of(error), failure.status, failure.code) == (status, status, code)
    assert failure.message == str(error)


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (StorageUploadError(f"S3 stat of reelflow-media/x failed at {INTERNAL_HOST}: timed out"), "S3"),
        (ServerSelectionTimeoutError(f"mongo.internal:27017: timed out, {INTERNAL_HOST}"), "MongoDB"),
        (BusUnavailableError(f"rf.render.requested not published: nats at {INTERNAL_HOST} down"), "NATS"),
    ],
)
def test_a_dependency_failure_is_a_503_naming_the_dependency_and_nothing_internal(
    error: Exception, dependency: str
) -> None:
    failure = failure_of(error, trace_id="t-1")
    assert (failure.status, failure.code) == (503, ApiErrorCode.UNAVAILABLE)
    assert dependency in failure.message and "try again" in failure.message
    assert INTERNAL_HOST not in failure.message and "10.1.2.3" not in str(failure.details)


@pytest.mark.parametrize(
    "error", [RuntimeError(f"boom at {INTERNAL_HOST}"), RenderError(f"ffmpeg {INTERNAL_HOST} exited 1"), KeyError("k")]
)
def test_anything_unexpected_is_a_500_carrying_only_a_trace_id(error: Exception) -> None:
    failure = failure_of(error, trace_id="abc123")
    assert failure.status == 500 or failure.code == ErrorCode.RENDER_FAILED
    assert "abc123" in failure.message
    assert INTERNAL_HOST not in failure.message and "boom" not in failure.message


# ---- through the API -------------------------------------------------------------------------------------------
class RaisingCommands:
    """Stands in for the commands; a route reaching one means the request passed validation."""

    def __getattr__(self, name: str) -> Any:
        async def command(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"command {name} leaked at {INTERNAL_HOST}")

        return command


@pytest.fixture
def api() -> FastAPI:
    app = build_api()
    app.state.gateway = SimpleNamespace(scripts=RaisingCommands(), jobs=RaisingCommands())
    as_admin_without_accounts(app)
    return app


@pytest.fixture
async def client(api: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_an_unexpected_exception_keeps_the_error_shape_and_hides_its_text(client: httpx.AsyncClient) -> None:
    with structlog.testing.capture_logs() as logged:
        response = await client.get("/api/render-jobs/job-1")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "INTERNAL"
    trace_id = response.headers["x-trace-id"]
    assert trace_id in error["message"] and error["details"] == {"trace_id": trace_id}
    assert "leaked" not in response.text and INTERNAL_HOST not in response.text
    [entry] = [entry for entry in logged if entry["event"] == "request failed"]
    assert entry["trace_id"] == trace_id and "leaked" in entry["error"], "the log keeps the detail"


async def test_a_method_the_path_does_not_take_is_a_405_listing_every_method_it_does(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete("/api/scripts/s-1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_body_that_is_not_json_is_a_422_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/scripts/s-1", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["problems"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"title": 0, "source_text": "A lesson."}, "title", "valid string"),
        ({"render_defaults": {"size": "1281x720"}, "source_text": "x"}, "render_defaults.size", "even numbers"),
        ({"render_defaults": {"fps": 5}, "source_text": "x"}, "render_defaults.fps", "greater than or equal to 10"),
        (
            {"render_defaults": {"callback_url": "not a url"}, "source_text": "x"},
            "render_defaults.callback_url",
            "http(s) URL",
        ),
        ({"source_text": "x" * 100_001}, "source_text", "at most 100000"),
    ],
)
async def test_a_generate_request_is_checked_by_its_body_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, problem: str
) -> None:
    response = await client.post("/api/videos/video-1/scripts/generate", json=body)
    assert response.status_code == 422, response.text
    [found] = response.json()["error"]["details"]["problems"]
    assert found["field"] == field and problem in found["problem"], found


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/videos/video-1/render-jobs", {"script_id": "s", "size": "1280x721"}, "size"),
        ("/api/videos/video-1/render-jobs", {"script_id": "s", "callback_url": "ftp://x"}, "callback_url"),
        (
            "/api/videos/video-1/render-jobs",
            {"script_id": "s", "music": {"media_key": "a/../b.mp3"}},
            "music.media_key",
        ),
        ("/api/videos/a%20b/render-jobs", {"script_id": "s"}, "video_id"),
        ("/api/ranking-jobs", {"video_id": "v", "clips": [{"media_key": "x\x01y", "rank": 1}]}, "clips.0.media_key"),
    ],
)
async def test_a_render_option_is_checked_at_submit(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in [problem["field"] for problem in response.json()["error"]["details"]["problems"]]


def _script(*, scenes_per_chapter: int = 1, chapters: int = 1, narration: str = "Hello.") -> dict[str, Any]:
    return {
        "chapters": [
            {
                "chapter_id": f"c{c}",
                "title": "T",
                "scenes": [{"scene_id": f"c{c}s{s}", "narration": narration} for s in range(scenes_per_chapter)],
            }
            for c in range(chapters)
        ]
    }


@pytest.mark.parametrize(
    ("script", "field", "problem"),
    [
        (_script(narration="x" * 2001), "script.chapters.0.scenes.0.narration", "at most 2000 characters"),
        (_script(chapters=31), "script.chapters", "at most 30 items"),
        (_script(chapters=30, scenes_per_chapter=51), "script", "at most 1500 fit one video"),
    ],
)
async def test_an_edit_past_the_script_limits_is_refused_naming_the_field(
    client: httpx.AsyncClient, script: dict[str, Any], field: str, problem: str
) -> None:
    response = await client.put("/api/scripts/s-1", json={"script": script})
    assert response.status_code == 422, response.text[:300]
    [found] = response.json()["error"]["details"]["problems"]
    assert found["field"] == field and problem in found["problem"], found
