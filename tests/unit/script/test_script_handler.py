"""The script service on FastStream's in-memory broker: a request in, a generated script or a dead letter out.

The handlers' router is a module-level object and FastStream binds a router to the last broker that includes
it, so this module builds one runtime and every test shares it (each test uses its own ids).
"""

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from faststream.nats import TestNatsBroker
from tests.bus_recording import BusRecorder, record_bus
from tests.fake_openai import FakeOpenAI
from tests.unit.script.conftest import ScriptMaker

from reelflow.contracts import (
    DeadLetter,
    ErrorCode,
    ScriptFailed,
    ScriptGenerated,
    ScriptOptions,
    ScriptRequested,
)
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.service import ServiceRuntime, build_runtime
from reelflow.script.handlers import router
from reelflow.script.samples import sample_lesson
from reelflow.script.settings import ScriptSettings
from reelflow.script.writing import close_script_writer

DLQ_SUBJECT = "rf.dlq.script"


@dataclass(frozen=True)
class ScriptService:
    runtime: ServiceRuntime[ScriptSettings]
    recorder: BusRecorder


@pytest.fixture(scope="module")
def script_service(tmp_path_factory: pytest.TempPathFactory) -> ScriptService:
    blobs = DirectoryBlobStore(tmp_path_factory.mktemp("script-blobs"))
    # No LLM configured, whatever the environment says: the offline writer, and topic-only requests fail.
    settings = ScriptSettings(llm_base_url="", llm_model="")
    runtime = build_runtime("script", settings, router, blobs=blobs, attempts=InMemoryAttemptStates())
    recorder = record_bus(runtime.broker)
    return ScriptService(runtime, recorder)


@pytest.fixture
def bus(script_service: ScriptService) -> Iterator[BusRecorder]:
    yield from script_service.recorder.cleared()


@pytest.fixture
async def with_llm(script_service: ScriptService, fake_llm: FakeOpenAI) -> AsyncIterator[FakeOpenAI]:
    """The service's settings pointed at the fake LLM for one test (its writer is remade for them)."""
    runtime = script_service.runtime
    original = runtime.settings
    runtime.settings = ScriptSettings(llm_base_url=fake_llm.base_url, llm_model="fake-model", llm_timeout_sec=0.5)
    try:
        yield fake_llm
    finally:
        runtime.settings = original
        await close_script_writer(runtime)


async def publish(service: ScriptService, body: dict[str, Any] | bytes) -> None:
    async with TestNatsBroker(service.runtime.broker) as broker:
        await broker.publish(body, ScriptRequested.subject)


async def test_a_lesson_becomes_one_generated_script(
    script_service: ScriptService, bus: BusRecorder, unique_id: str
) -> None:
    request = ScriptRequested(
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        source_text=sample_lesson("en"),
        options=ScriptOptions(language="en"),
        auto_render=True,
    )

    await publish(script_service, request.model_dump(mode="json"))

    [message] = bus.on(ScriptGenerated.subject)
    generated = ScriptGenerated.model_validate(message.json())
    script = generated.script
    assert (script.script_id, script.video_id, script.version) == (request.script_id, request.video_id, 1)
    assert script.status == "DRAFT"
    assert script.title == "What is phishing?"
    assert [chapter.title for chapter in script.script.chapters] == [
        "What is phishing?",
        "How to spot a phishing email",
        "What to do when something looks wrong",
    ]
    assert all(chapter.scenes for chapter in script.script.chapters)
    assert "pretends to be a trusted company" in " ".join(scene.narration for scene in script.script.scenes())
    assert script.source_text == request.source_text
    assert generated.auto_render is True
    assert message.headers["ce-type"] == "reelflow.script.generated.v1"
    assert message.headers["ce-source"] == "reelflow/script"
    assert message.headers["ce-subject"] == request.script_id
    assert message.headers["Nats-Msg-Id"] == f"{request.script_id}:1:reelflow.script.generated.v1"
    assert bus.on(ScriptFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []


@pytest.mark.parametrize(
    ("source_text", "given_title", "title"),
    [
        # A document title directly above its sections names the video, not the first section.
        (
            "# Safe lifting\n\n## Before you lift\n\nCheck the weight.\n\n## Carrying\n\nKeep it close.",
            "",
            "Safe lifting",
        ),
        ("# Safe lifting\n\n## Before you lift\n\nCheck the weight.", "Warehouse basics", "Warehouse basics"),
        ("## Before you lift\n\nCheck the weight.\n\n## Carrying\n\nKeep it close.", "", "Before you lift"),
    ],
)
async def test_the_lessons_h1_or_the_given_title_is_the_scripts_title(
    script_service: ScriptService, bus: BusRecorder, unique_id: str, source_text: str, given_title: str, title: str
) -> None:
    request = ScriptRequested(
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        source_text=source_text,
        title=given_title,
        options=ScriptOptions(language="en"),
    )

    await publish(script_service, request.model_dump(mode="json"))

    [message] = bus.on(ScriptGenerated.subject)
    script = ScriptGenerated.model_validate(message.json()).script
    assert script.title == title
    assert script.script.chapters[0].title == "Before you lift"


async def test_a_topic_only_request_fails_for_good_with_llm_failed(
    script_service: ScriptService, bus: BusRecorder, unique_id: str
) -> None:
    body = {"video_id": f"video-{unique_id}", "script_id": f"script-{unique_id}", "title": "Password hygiene"}

    await publish(script_service, body)

    assert bus.on(ScriptGenerated.subject) == []
    [failed_message] = bus.on(ScriptFailed.subject)
    failed = ScriptFailed.model_validate(failed_message.json())
    assert (failed.video_id, failed.script_id) == (body["video_id"], body["script_id"])
    assert failed.error.code == ErrorCode.LLM_FAILED
    # No LLM is configured: the error names the settings to set (or says to send source_text instead).
    assert "no LLM is configured: set REELFLOW_LLM_BASE_URL" in failed.error.message
    assert "and REELFLOW_LLM_MODEL" in failed.error.message
    assert "source_text" in failed.error.message
    assert failed_message.headers["Nats-Msg-Id"] == f"script-{unique_id}:1:reelflow.script.failed.v1"

    [letter_message] = bus.on(DLQ_SUBJECT)
    letter = DeadLetter.model_validate(letter_message.json())
    assert letter.service == "script"
    assert letter.original_subject == ScriptRequested.subject
    assert letter.job_id == body["script_id"]
    assert letter.error.code == ErrorCode.LLM_FAILED
    assert letter.delivered == 1
    assert json.loads(letter.payload) == body


async def test_a_request_without_video_id_is_dead_lettered_naming_the_field(
    script_service: ScriptService, bus: BusRecorder, unique_id: str
) -> None:
    body = {"script_id": f"script-{unique_id}", "source_text": "# Hi\n\nHello there."}

    await publish(script_service, body)

    [letter_message] = bus.on(DLQ_SUBJECT)
    letter = DeadLetter.model_validate(letter_message.json())
    assert letter.error.code == ErrorCode.INVALID_SCRIPT
    assert "video_id" in letter.error.message
    assert letter.job_id == body["script_id"]
    assert json.loads(letter.payload) == body
    assert bus.on(ScriptGenerated.subject) == []
    # ScriptFailed needs both ids; without the video_id only the dead letter records the failure.
    assert bus.on(ScriptFailed.subject) == []


async def test_an_unreadable_body_is_dead_lettered_as_is(script_service: ScriptService, bus: BusRecorder) -> None:
    await publish(script_service, b"\x00 this is not json")

    [letter_message] = bus.on(DLQ_SUBJECT)
    letter = DeadLetter.model_validate(letter_message.json())
    assert letter.error.code == ErrorCode.INVALID_SCRIPT
    assert letter.payload == "\x00 this is not json"
    assert letter.job_id is None
    assert bus.on(ScriptGenerated.subject) == []
    assert bus.on(ScriptFailed.subject) == []


async def test_a_request_published_through_the_bus_is_handled_the_same(
    script_service: ScriptService, bus: BusRecorder, unique_id: str
) -> None:
    """The gateway's path: JSON bytes with CloudEvents headers, published to the REELFLOW stream."""
    request = ScriptRequested(
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        source_text="# 피싱이란?\n\n피싱은 믿을 만한 회사인 척하며 정보를 훔치는 사기입니다.",
    )
    async with TestNatsBroker(script_service.runtime.broker):
        await script_service.runtime.bus.publish(request)

    [requested] = bus.on(ScriptRequested.subject)
    assert requested.headers["Nats-Msg-Id"] == f"{request.script_id}:1:reelflow.script.requested.v1"
    [message] = bus.on(ScriptGenerated.subject)
    script = ScriptGenerated.model_validate(message.json()).script
    assert script.options.language == "ko"
    assert script.script.chapters[0].title == "피싱이란?"


async def test_an_llm_script_is_published_as_generated(
    script_service: ScriptService, bus: BusRecorder, with_llm: FakeOpenAI, script_data: ScriptMaker, unique_id: str
) -> None:
    with_llm.answer(f"```json\n{json.dumps(script_data())}\n```")
    request = ScriptRequested(
        video_id=f"video-{unique_id}",
        script_id=f"script-{unique_id}",
        title="Phishing basics",
        options=ScriptOptions(language="en", target_minutes=1),
    )

    await publish(script_service, request.model_dump(mode="json"))

    [message] = bus.on(ScriptGenerated.subject)
    script = ScriptGenerated.model_validate(message.json()).script
    assert script.title == "Phishing basics"
    assert [chapter.title for chapter in script.script.chapters] == ["Chapter 1", "Chapter 2"]
    assert "<topic>\nPhishing basics\n</topic>" in with_llm.messages(0)[1]["content"]
    assert bus.on(ScriptFailed.subject) == []


async def test_an_llm_that_answers_garbage_twice_fails_the_script_with_llm_failed(
    script_service: ScriptService, bus: BusRecorder, with_llm: FakeOpenAI, unique_id: str
) -> None:
    with_llm.answer("Sorry, here is a poem instead.")
    with_llm.answer("Still a poem.")
    body = {
        "video_id": f"video-{unique_id}",
        "script_id": f"script-{unique_id}",
        "source_text": "# Phishing\n\nPhishing is a scam.",
    }

    await publish(script_service, body)

    assert bus.on(ScriptGenerated.subject) == []
    [failed_message] = bus.on(ScriptFailed.subject)
    failed = ScriptFailed.model_validate(failed_message.json())
    assert failed.error.code == ErrorCode.LLM_FAILED
    assert "unusable script twice" in failed.error.message
    assert "REELFLOW_LLM_MODEL" in failed.error.message
    [letter_message] = bus.on(DLQ_SUBJECT)
    letter = DeadLetter.model_validate(letter_message.json())
    assert letter.error.code == ErrorCode.LLM_FAILED
    assert letter.delivered == 1  # not retryable: failed on the first delivery
    assert len(with_llm.requests) == 2


async def test_an_llm_timeout_is_left_for_redelivery(
    script_service: ScriptService, bus: BusRecorder, with_llm: FakeOpenAI, script_data: ScriptMaker, unique_id: str
) -> None:
    with_llm.answer(json.dumps(script_data()), delay_sec=2.0)
    body = {"video_id": f"video-{unique_id}", "script_id": f"script-{unique_id}", "title": "Slow topic"}

    await publish(script_service, body)

    # Retryable: nacked with backoff for the bus to redeliver, so nothing is failed or dead-lettered yet.
    assert bus.on(ScriptGenerated.subject) == []
    assert bus.on(ScriptFailed.subject) == []
    assert bus.on(DLQ_SUBJECT) == []
