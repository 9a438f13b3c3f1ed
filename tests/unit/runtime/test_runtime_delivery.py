"""The delivery policy's pure parts: subject routing, failure classification, backoff, failure events."""

import json
from datetime import UTC, datetime

import pydantic
import pytest
from faststream.middlewares import AckPolicy
from nats.js.api import AckPolicy as JsAckPolicy

from reelflow.contracts import (
    STREAM_NAME,
    ErrorCode,
    ErrorInfo,
    RenderFailed,
    RenderRequested,
    ScriptFailed,
)
from reelflow.runtime.bus import Delivery
from reelflow.runtime.dead_letters import (
    PAYLOAD_KEEP_CHARS,
    MessageIds,
    dead_letter_for,
    failure_event_for,
    message_ids,
)
from reelflow.runtime.delivery import PoisonMessageError, classify_failure, read_body, subject_matches
from reelflow.runtime.failures import (
    InvalidScriptError,
    JobCanceledError,
    PublishError,
    RenderError,
    StepTimeoutError,
    StorageUploadError,
    TtsError,
)

AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
ERROR = ErrorInfo(code=ErrorCode.RENDER_FAILED, message="ffmpeg exited with code 1", step="COMPOSE_VIDEO")


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("rf.render.>", "rf.render.requested", True),
        ("rf.render.>", "rf.render.a.b.c", True),
        ("rf.render.>", "rf.render", False),
        ("rf.render.>", "rf.script.requested", False),
        ("rf.render.>", "rf.renderx.requested", False),
        ("rf.progress.*", "rf.progress.job-1", True),
        ("rf.progress.*", "rf.progress", False),
        ("rf.progress.*", "rf.progress.job-1.extra", False),
        ("rf.*.requested", "rf.script.requested", True),
        ("rf.*.requested", "rf.script.generated", False),
        ("rf.script.requested", "rf.script.requested", True),
        ("rf.script.requested", "rf.script.requested.v2", False),
        ("rf.script.requested", "rf.script", False),
        ("rf.script.requested", "rf.script.generated", False),
        (">", "rf", True),
    ],
)
def test_subject_matches_follows_nats_wildcards(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


def invalid_render_request() -> pydantic.ValidationError:
    body = {"job_id": "j1", "video_id": "v1", "spec": {"template": "lesson", "script": {"chapters": []}}}
    try:
        RenderRequested.model_validate(body)
    except pydantic.ValidationError as error:
        return error
    raise AssertionError("the body was expected to be invalid")


def test_an_invalid_render_request_is_the_users_script_and_is_not_retried() -> None:
    error, retryable = classify_failure("rf.render.requested", invalid_render_request())
    assert error.code == ErrorCode.INVALID_SCRIPT
    assert retryable is False
    assert "spec.lesson.script.chapters" in error.message
    assert "rf.render.requested" in error.message


def test_an_invalid_message_between_services_is_our_bug_and_is_not_retried() -> None:
    error, retryable = classify_failure("rf.render.narrated", invalid_render_request())
    assert error.code == ErrorCode.INTERNAL
    assert retryable is False
    assert "spec.lesson.script.chapters" in error.message


@pytest.mark.parametrize(
    ("exception", "code", "retryable"),
    [
        (StorageUploadError("S3 upload failed"), ErrorCode.STORAGE_UPLOAD_FAILED, True),
        (StorageUploadError("key escapes the bucket", retryable=False), ErrorCode.STORAGE_UPLOAD_FAILED, False),
        (PublishError("YouTube said 503"), ErrorCode.PUBLISH_FAILED, True),
        (RenderError("ffmpeg exited with code 1"), ErrorCode.RENDER_FAILED, False),
        (TtsError("espeak-ng exited with code 2"), ErrorCode.TTS_FAILED, False),
        (InvalidScriptError("no scenes"), ErrorCode.INVALID_SCRIPT, False),
        (StepTimeoutError("ffmpeg did not finish"), ErrorCode.TIMEOUT, True),
        (JobCanceledError("canceled"), ErrorCode.CANCELED, False),
    ],
)
def test_typed_failures_keep_their_code_and_retry_policy(
    exception: Exception, code: ErrorCode, retryable: bool
) -> None:
    error, is_retryable = classify_failure("rf.render.composed", exception)
    assert error.code == code
    assert is_retryable is retryable
    assert error.message == str(exception)


def test_typed_failure_details_are_kept() -> None:
    exception = RenderError("ffmpeg exited with code 1", details={"returncode": 1})
    error, _ = classify_failure("rf.render.narrated", exception)
    assert error.details == {"returncode": 1}


def test_a_plain_exception_is_internal_and_retried() -> None:
    error, retryable = classify_failure("rf.render.narrated", KeyError("scene_id"))
    assert error.code == ErrorCode.INTERNAL
    assert retryable is True
    assert error.message == "KeyError: 'scene_id'"


def test_a_timeout_is_retried() -> None:
    error, retryable = classify_failure("rf.render.narrated", TimeoutError())
    assert error.code == ErrorCode.TIMEOUT
    assert retryable is True


@pytest.mark.parametrize(("delivered", "delay"), [(0, 2.0), (1, 2.0), (2, 10.0), (3, 30.0), (4, 60.0), (9, 60.0)])
def test_backoff_grows_then_repeats_its_last_value(delivered: int, delay: float) -> None:
    assert Delivery(durable="d", backoff_sec=(2.0, 10.0, 30.0, 60.0)).backoff_after(delivered) == delay


def test_no_backoff_means_redeliver_at_once() -> None:
    assert Delivery(durable="d", backoff_sec=()).backoff_after(3) == 0.0


def test_subscriber_options_declare_an_explicit_durable_pull_consumer() -> None:
    options = Delivery(durable="compose", ack_wait_sec=12, max_deliver=4).subscriber_options()
    config = options["config"]
    assert options["durable"] == "compose"
    assert options["ack_policy"] == AckPolicy.MANUAL
    assert options["stream"].name == STREAM_NAME
    assert "max_workers" not in options, "one message at a time per consumer and replica"
    assert options["pull_sub"].batch_size == 1
    assert config.durable_name == "compose"
    assert config.ack_policy == JsAckPolicy.EXPLICIT
    assert config.max_deliver == 4
    assert config.ack_wait == 12


def test_a_killed_workers_message_comes_back_within_twenty_seconds() -> None:
    """Every step's ack_wait is short; in-progress acks every third of it keep long steps alive instead."""
    assert Delivery(durable="d").ack_wait_sec <= 20


def ids_of(payload: bytes, headers: dict[str, str] | None = None) -> MessageIds:
    """What the delivery middleware reads: the body when it is a JSON object, else the headers alone."""
    try:
        body = read_body("rf.test", payload)
    except PoisonMessageError:
        body = {}
    return message_ids(body, headers or {})


@pytest.mark.parametrize("payload", [b"\xff\xfe not json", b"{truncated", b"[1, 2]", b'"text"'])
def test_an_unreadable_body_is_poison(payload: bytes) -> None:
    with pytest.raises(PoisonMessageError):
        read_body("rf.render.requested", payload)
    info, retryable = classify_failure("rf.render.requested", PoisonMessageError("not JSON"))
    assert (info.code, retryable) == (ErrorCode.INVALID_SCRIPT, False)


def test_a_poison_messages_job_is_read_from_its_headers() -> None:
    headers = {"Nats-Msg-Id": "j9:2:reelflow.render.requested.v1", "ce-subject": "j9"}
    event = failure_event_for("rf.render.requested", ids_of(b"{broken", headers), ERROR)
    assert isinstance(event, RenderFailed)
    assert (event.job_id, event.attempt) == ("j9", 2)


def test_a_failed_script_request_becomes_script_failed() -> None:
    payload = json.dumps({"video_id": "v1", "script_id": "s1", "title": "Phishing"}).encode()
    event = failure_event_for("rf.script.requested", ids_of(payload), ERROR)
    assert isinstance(event, ScriptFailed)
    assert (event.video_id, event.script_id, event.error) == ("v1", "s1", ERROR)


def test_a_failed_generated_script_reads_the_ids_from_the_nested_script() -> None:
    payload = json.dumps({"script": {"video_id": "v2", "script_id": "s2", "version": 3}}).encode()
    event = failure_event_for("rf.script.generated", ids_of(payload), ERROR)
    assert isinstance(event, ScriptFailed)
    assert (event.video_id, event.script_id) == ("v2", "s2")


def test_a_failed_render_step_becomes_render_failed_for_that_attempt() -> None:
    payload = json.dumps({"job_id": "j1", "video_id": "v1", "attempt": 3, "spec": {}}).encode()
    event = failure_event_for("rf.render.narrated", ids_of(payload), ERROR)
    assert isinstance(event, RenderFailed)
    assert (event.job_id, event.video_id, event.attempt, event.error) == ("j1", "v1", 3, ERROR)
    assert event.idempotency_key() == "j1:3:reelflow.render.failed.v1"


@pytest.mark.parametrize("attempt", [0, -1, "2", None, 1.5])
def test_an_unreadable_attempt_counts_as_the_first(attempt: object) -> None:
    payload = json.dumps({"job_id": "j1", "attempt": attempt}).encode()
    event = failure_event_for("rf.render.composed", ids_of(payload), ERROR)
    assert isinstance(event, RenderFailed)
    assert event.attempt == 1
    assert event.video_id is None


@pytest.mark.parametrize(
    ("subject", "payload"),
    [
        ("rf.render.requested", b"\xff\xfe not json"),
        ("rf.render.requested", b"[1, 2, 3]"),
        ("rf.render.requested", b'{"video_id": "v1"}'),
        ("rf.render.requested", b'{"job_id": ""}'),
        ("rf.render.requested", b'{"job_id": 7}'),
        ("rf.script.requested", b"garbage"),
        ("rf.script.requested", b'{"script_id": "s1"}'),
        ("rf.script.generated", b'{"script": {"script_id": "s1"}}'),
    ],
)
def test_no_failure_event_when_the_ids_are_unreadable(subject: str, payload: bytes) -> None:
    assert failure_event_for(subject, ids_of(payload), ERROR) is None


def test_a_dead_letter_keeps_the_payload_the_reason_and_the_ids() -> None:
    payload = json.dumps({"job_id": "j1", "video_id": "v1", "attempt": 2}).encode()
    letter = dead_letter_for(
        service="compose",
        subject="rf.render.narrated",
        payload=payload,
        msg_id="j1:2:reelflow.render.narrated.v1",
        delivered=5,
        error=ERROR,
        at=AT,
    )
    assert letter.subject_name() == "rf.dlq.compose"
    assert letter.job_id == "j1"
    assert letter.payload == payload.decode()
    assert (letter.delivered, letter.error, letter.original_subject) == (5, ERROR, "rf.render.narrated")
    assert letter.idempotency_key() == "compose:j1:2:reelflow.render.narrated.v1:reelflow.dlq.v1"


def test_a_dead_letter_of_a_script_names_the_script_and_keeps_garbage_readable() -> None:
    script = dead_letter_for(
        service="script",
        subject="rf.script.requested",
        payload=b'{"script_id": "s9", "video_id": "v9"}',
        msg_id=None,
        delivered=1,
        error=ERROR,
        at=AT,
    )
    assert script.job_id == "s9"
    assert script.ce_subject() == "s9"
    garbage = dead_letter_for(
        service="script",
        subject="rf.script.requested",
        payload=b"\xffgarbage",
        msg_id=None,
        delivered=1,
        error=ERROR,
        at=AT,
    )
    assert garbage.job_id is None
    assert garbage.ce_subject() == "rf.script.requested"
    assert garbage.payload == "\ufffdgarbage"


def test_a_huge_payload_is_cut_in_the_dead_letter() -> None:
    payload = json.dumps({"job_id": "j1", "text": "x" * (PAYLOAD_KEEP_CHARS * 2)}).encode()
    letter = dead_letter_for(
        service="tts", subject="rf.render.requested", payload=payload, msg_id=None, delivered=1, error=ERROR, at=AT
    )
    assert len(letter.payload) == PAYLOAD_KEEP_CHARS
    assert letter.job_id == "j1"  # read from the whole payload before it is cut
