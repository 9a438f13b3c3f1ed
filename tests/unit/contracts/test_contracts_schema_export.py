"""The exported JSON Schemas and AsyncAPI document describe the events the services really send."""

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import pydantic
import pytest
from jsonschema import Draft202012Validator

from reelflow.cli.main import main as reelflow_cli
from reelflow.contracts import (
    ALL_EVENTS,
    Asset,
    AssetKind,
    Chapter,
    ComposedFile,
    ComposedOutputs,
    DeadLetter,
    ErrorCode,
    ErrorInfo,
    Event,
    LessonSpec,
    ProgressUpdate,
    Publication,
    PublishTarget,
    RankingClip,
    RankingSpec,
    RenderCancel,
    RenderCompleted,
    RenderComposed,
    RenderDefaults,
    RenderFailed,
    RenderNarrated,
    RenderPublished,
    RenderRequested,
    RenderStored,
    Scene,
    SceneNarration,
    Script,
    ScriptFailed,
    ScriptGenerated,
    ScriptOptions,
    ScriptRequested,
    Step,
    VideoScript,
    Voice,
)
from reelflow.contracts.schema_export import (
    asyncapi_document,
    codegen_schema,
    event_file_stem,
    event_json_schemas,
    event_variant_schemas,
)

AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


class JobIds(TypedDict):
    job_id: str
    video_id: str
    script_id: str
    attempt: int


JOB = JobIds(job_id="job-7f3a", video_id="video-42", script_id="script-9", attempt=2)


def lesson_spec() -> LessonSpec:
    script = VideoScript(
        chapters=[
            Chapter(
                chapter_id="ch1",
                title="What is phishing?",
                scenes=[
                    Scene(
                        scene_id="ch1-s1",
                        narration="Phishing is a scam in which someone pretends to be a trusted company.",
                        on_screen_text="Phishing: a scam",
                        duration_sec=4.5,
                    ),
                    Scene(scene_id="ch1-s2", narration="Slow down before you click."),
                ],
            )
        ]
    )
    return LessonSpec(
        title="What is phishing?",
        language="en",
        script=script,
        voice=Voice(voice="en-us", rate=1.1),
        publish=PublishTarget(title="What is phishing?", tags=["security"], privacy="unlisted"),
        callback_url="https://backend.example.com/hooks/render",
    )


def ranking_spec() -> RankingSpec:
    return RankingSpec(
        title="Top 2 scams",
        clips=[
            RankingClip(media_key="uploads/" + "1" * 64 + ".mp4", rank=2, label="Fake invoice", start=0.0, end=4.0),
            RankingClip(media_key="uploads/" + "2" * 64 + ".mp4", rank=1, label="CEO fraud", keep_audio=False),
        ],
    )


def asset(kind: AssetKind, name: str, content_type: str, digit: str) -> Asset:
    return Asset(
        kind=kind,
        bucket="reelflow-media",
        key=f"videos/video-42/script-9/job-7f3a/{name}",
        size_bytes=2048,
        content_type=content_type,
        sha256=digit * 64,
    )


def assets() -> list[Asset]:
    return [
        asset(AssetKind.VIDEO, "video.mp4", "video/mp4", "a"),
        asset(AssetKind.SUBTITLES_SRT, "subtitles.srt", "application/x-subrip", "b"),
        asset(AssetKind.THUMBNAIL, "thumb.jpg", "image/jpeg", "c"),
    ]


def error(step: str | None = "COMPOSE_VIDEO") -> ErrorInfo:
    return ErrorInfo(
        code=ErrorCode.RENDER_FAILED,
        message="ffmpeg exited with code 1: Invalid data found when processing input",
        step=step,
        details={"returncode": 1, "args": ["ffmpeg", "-y"]},
    )


def sample_events() -> list[Event]:
    """One realistic instance of every event type (a new event type must get a sample here)."""
    options = ScriptOptions(language="en", target_minutes=2, max_chapters=3)
    script = Script(
        script_id="script-9",
        video_id="video-42",
        version=3,
        title="What is phishing?",
        source_text="# What is phishing?\n\nPhishing is a scam.",
        options=options,
        script=lesson_spec().script,
        created_at=AT,
    )
    defaults = RenderDefaults(voice=Voice(rate=0.9), size="1920x1080", publish=None, callback_url=None)
    return [
        ScriptRequested(
            video_id="video-42",
            script_id="script-9",
            title="What is phishing?",
            source_text="# What is phishing?\n\nPhishing is a scam.",
            options=options,
            auto_render=True,
            render_defaults=defaults,
        ),
        ScriptGenerated(script=script, auto_render=True, render_defaults=defaults),
        ScriptFailed(
            video_id="video-42",
            script_id="script-9",
            error=ErrorInfo(code=ErrorCode.LLM_FAILED, message="the LLM writer is not available"),
        ),
        RenderRequested(**JOB, spec=lesson_spec()),
        RenderNarrated(
            **JOB,
            spec=lesson_spec(),
            narration=[
                SceneNarration(scene_id="ch1-s1", audio_key="jobs/job-7f3a/2/audio/ch1-s1.wav", duration_sec=4.4),
                SceneNarration(scene_id="ch1-s2", audio_key="jobs/job-7f3a/2/audio/ch1-s2.wav", duration_sec=1.9),
            ],
        ),
        RenderComposed(
            **JOB,
            spec=ranking_spec(),
            outputs=ComposedOutputs(
                video="jobs/job-7f3a/2/video.mp4",
                thumbnail="jobs/job-7f3a/2/thumb.jpg",
                subtitles_srt="jobs/job-7f3a/2/subtitles.srt",
                files={"jobs/job-7f3a/2/video.mp4": ComposedFile(size_bytes=5_169_139, sha256="0f" * 32)},
            ),
            duration_sec=6.3,
        ),
        RenderStored(**JOB, spec=lesson_spec(), assets=assets(), duration_sec=6.3),
        RenderPublished(**JOB, platform="youtube", external_id="dQw4w9WgXcQ", url="https://youtu.be/dQw4w9WgXcQ"),
        RenderCompleted(
            **JOB,
            assets=assets(),
            publications=[Publication(platform="youtube", external_id="dQw4w9WgXcQ", url="https://youtu.be/x")],
            duration_sec=6.3,
        ),
        RenderFailed(job_id="job-7f3a", video_id="video-42", attempt=2, error=error()),
        RenderCancel(job_id="job-7f3a", attempt=2, reason="user pressed cancel"),
        ProgressUpdate(
            job_id="job-7f3a", attempt=2, step=Step.COMPOSE_VIDEO, progress=72, message="segment 3/5", at=AT
        ),
        DeadLetter(
            service="compose",
            original_subject="rf.render.narrated",
            original_msg_id="job-7f3a:2:reelflow.render.narrated.v1",
            job_id="job-7f3a",
            delivered=5,
            error=error(step=None),
            payload='{"job_id": "job-7f3a"}',
            received_at=AT,
        ),
    ]


SAMPLES = sample_events()
SAMPLE_IDS = [event_file_stem(type(event)) for event in SAMPLES]


def required_paths(schema: dict[str, Any]) -> list[str]:
    return list(schema.get("required", []))


def iter_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_refs(item)


def resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and token in node, f"{ref} does not resolve (missing {token!r})"
        node = node[token]
    return node


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    """Built once: generating every schema takes a noticeable fraction of a second."""
    return event_json_schemas()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document()


def test_there_is_a_sample_for_every_event() -> None:
    assert sorted(type(event).__name__ for event in SAMPLES) == sorted(event.__name__ for event in ALL_EVENTS)


def test_one_schema_per_event(schemas: dict[str, dict[str, Any]]) -> None:
    assert set(schemas) == {event_file_stem(event) for event in ALL_EVENTS}
    assert len(schemas) == len(ALL_EVENTS)
    for event in ALL_EVENTS:
        schema = schemas[event_file_stem(event)]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["x-ce-type"] == event.event_type
        Draft202012Validator.check_schema(schema)


def test_schemas_name_the_nats_subject(schemas: dict[str, dict[str, Any]]) -> None:
    assert schemas["render.requested.v1"]["x-nats-subject"] == "rf.render.requested"
    assert schemas["progress.v1"]["x-nats-subject"] == "rf.progress.{job_id}"
    assert schemas["dlq.v1"]["x-nats-subject"] == "rf.dlq.{service}"


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_a_real_event_validates_against_its_schema(event: Event, schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas[event_file_stem(type(event))]
    Draft202012Validator(schema).validate(event.model_dump(mode="json"))


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_dropping_any_required_field_fails_the_schema(event: Event, schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas[event_file_stem(type(event))]
    validator = Draft202012Validator(schema)
    body = event.model_dump(mode="json")
    assert required_paths(schema), "every event has at least one required field"
    for field in required_paths(schema):
        broken = {key: value for key, value in body.items() if key != field}
        assert not validator.is_valid(broken), f"{field} was dropped, yet the body still validates"


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_unknown_fields_and_wrong_types_fail_the_schema(event: Event, schemas: dict[str, dict[str, Any]]) -> None:
    schema = schemas[event_file_stem(type(event))]
    validator = Draft202012Validator(schema)
    body = event.model_dump(mode="json")
    assert not validator.is_valid({**body, "visual_stlye": "animated"})
    first_required = required_paths(schema)[0]
    assert not validator.is_valid({**body, first_required: {"not": "this"}})


def test_nested_constraints_are_in_the_schema(schemas: dict[str, dict[str, Any]]) -> None:
    """The schema rejects what the models reject deep inside: an empty script, a bad template, a bad sha256."""
    requested = schemas["render.requested.v1"]
    body = RenderRequested(**JOB, spec=lesson_spec()).model_dump(mode="json")
    no_chapters = copy.deepcopy(body)
    no_chapters["spec"]["script"]["chapters"] = []
    assert not Draft202012Validator(requested).is_valid(no_chapters)
    bad_template = copy.deepcopy(body)
    bad_template["spec"]["template"] = "slideshow"
    assert not Draft202012Validator(requested).is_valid(bad_template)

    stored = schemas["render.stored.v1"]
    stored_body = RenderStored(**JOB, spec=lesson_spec(), assets=assets(), duration_sec=6.3).model_dump(mode="json")
    stored_body["assets"][0]["sha256"] = "not-a-digest"
    assert not Draft202012Validator(stored).is_valid(stored_body)


def test_the_schema_and_the_model_agree_on_a_spec_without_template(schemas: dict[str, dict[str, Any]]) -> None:
    """The Spring backend generates its classes from the schema: what the schema allows, the services must accept.

    Today the model's discriminated union refuses a spec without ``template`` while the schema lets it through
    (``template`` has a default, so it is not listed as required), and such a request would be dead-lettered.
    """
    body = RenderRequested(**JOB, spec=lesson_spec()).model_dump(mode="json")
    del body["spec"]["template"]
    try:
        RenderRequested.model_validate(body)
    except pydantic.ValidationError:
        model_accepts = False
    else:
        model_accepts = True
    schema_accepts = Draft202012Validator(schemas["render.requested.v1"]).is_valid(body)
    assert schema_accepts == model_accepts, f"schema accepts: {schema_accepts}, model accepts: {model_accepts}"


def test_asyncapi_document_has_a_channel_and_message_per_event(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    messages = document["components"]["messages"]
    assert len(channels) == len(ALL_EVENTS)
    addresses = {channel["address"] for channel in channels.values()}
    for event in ALL_EVENTS:
        name = event_file_stem(event).replace(".", "_")
        assert channels[name]["messages"][name] == {"$ref": f"#/components/messages/{name}"}
        assert messages[name]["name"] == event.event_type
        assert messages[name]["payload"] == {"$ref": f"#/components/schemas/{name}"}
    assert {"rf.render.requested", "rf.progress.{job_id}", "rf.dlq.{service}"} <= addresses
    required_headers = messages["render_requested_v1"]["headers"]["required"]
    assert {"ce-specversion", "ce-id", "ce-type", "ce-source", "ce-subject", "ce-time", "Nats-Msg-Id"} <= set(
        required_headers
    )


def test_every_ref_in_the_asyncapi_document_resolves_inside_it(document: dict[str, Any]) -> None:
    refs = set(iter_refs(document))
    assert refs, "the document uses $ref"
    for ref in refs:
        assert not ref.startswith("#/$defs/"), f"{ref} was not rewritten to components"
        resolve_pointer(document, ref)


def test_shared_definitions_do_not_clash_between_events(schemas: dict[str, dict[str, Any]]) -> None:
    """Definitions of all events are merged into one components section; a name must mean one shape."""
    seen: dict[str, Any] = {}
    for schema in schemas.values():
        for name, definition in schema.get("$defs", {}).items():
            if name in seen:
                assert seen[name] == definition, f"two events define {name} differently"
            seen[name] = definition


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_a_real_event_validates_against_the_asyncapi_payload(event: Event, document: dict[str, Any]) -> None:
    name = event_file_stem(type(event)).replace(".", "_")
    validator = Draft202012Validator({**document, "$ref": f"#/components/schemas/{name}"})
    body = event.model_dump(mode="json")
    validator.validate(body)
    assert not validator.is_valid({**body, "unexpected": 1})


def test_cli_export_writes_schemas_that_validate_real_events(tmp_path: Path) -> None:
    out = tmp_path / "contracts"
    assert reelflow_cli(["contracts", "export", str(out)]) == 0

    written = sorted(path.name for path in out.iterdir())
    expected = sorted(
        [f"{event_file_stem(event)}.schema.json" for event in ALL_EVENTS] + ["asyncapi.json", "codegen.schema.json"]
    )
    assert written == expected
    for event in SAMPLES:
        path = out / f"{event_file_stem(type(event))}.schema.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        validator = Draft202012Validator(schema)
        body = event.model_dump(mode="json")
        validator.validate(body)
        assert not validator.is_valid({key: value for key, value in body.items() if key != schema["required"][0]})

    document = json.loads((out / "asyncapi.json").read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    assert len(document["channels"]) == len(ALL_EVENTS)
    for ref in set(iter_refs(document)):
        resolve_pointer(document, ref)
    assert json.loads((out / "codegen.schema.json").read_text(encoding="utf-8")) == codegen_schema()


def iter_schema_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from iter_schema_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_schema_objects(item)


def test_no_export_carries_pydantics_openapi_discriminator(
    schemas: dict[str, dict[str, Any]], document: dict[str, Any]
) -> None:
    """``discriminator`` is an OpenAPI keyword: the AsyncAPI parser refuses its object form, and its mapping
    pointed at ``#/$defs/…``, which the AsyncAPI document does not have."""
    for name, exported in {**schemas, "asyncapi": document, "codegen": codegen_schema()}.items():
        for node in iter_schema_objects(exported):
            assert not isinstance(node.get("discriminator"), dict), f"{name} still has an OpenAPI discriminator"


def test_each_spec_branch_pins_its_template(schemas: dict[str, dict[str, Any]]) -> None:
    """What the plain ``oneOf`` relies on to pick one branch, as the dropped discriminator did."""
    definitions = schemas["render.requested.v1"]["$defs"]
    assert schemas["render.requested.v1"]["properties"]["spec"]["oneOf"] == [
        {"$ref": "#/$defs/LessonSpec"},
        {"$ref": "#/$defs/RankingSpec"},
    ]
    for name, template in (("LessonSpec", "lesson"), ("RankingSpec", "ranking")):
        assert definitions[name]["properties"]["template"]["const"] == template
        assert "template" in definitions[name]["required"]


SPEC_SAMPLES = [event for event in SAMPLES if "spec" in type(event).model_fields]


@pytest.mark.parametrize("event", SPEC_SAMPLES, ids=[event_file_stem(type(event)) for event in SPEC_SAMPLES])
def test_each_variant_holds_exactly_the_events_of_its_template(event: Event) -> None:
    """``render.requested.v1.lesson`` accepts a lesson request and refuses a ranking one, and the other way."""
    variants = event_variant_schemas()
    stem = event_file_stem(type(event))
    assert {name for name in variants if name.startswith(f"{stem}.")} == {f"{stem}.lesson", f"{stem}.ranking"}
    lesson = {**event.model_dump(mode="json"), "spec": lesson_spec().model_dump(mode="json")}
    ranking = {**event.model_dump(mode="json"), "spec": ranking_spec().model_dump(mode="json")}
    for body in (lesson, ranking):
        type(event).model_validate(body)
    assert Draft202012Validator(variants[f"{stem}.lesson"]).is_valid(lesson)
    assert not Draft202012Validator(variants[f"{stem}.lesson"]).is_valid(ranking)
    assert Draft202012Validator(variants[f"{stem}.ranking"]).is_valid(ranking)
    assert not Draft202012Validator(variants[f"{stem}.ranking"]).is_valid(lesson)


def test_the_codegen_bundle_has_every_event_shape_and_no_union_of_specs() -> None:
    bundle = codegen_schema()
    Draft202012Validator.check_schema(bundle)
    definitions = bundle["$defs"]
    with_spec = {event.__name__ for event in ALL_EVENTS if "spec" in event.model_fields}
    assert with_spec == {"RenderRequested", "RenderNarrated", "RenderComposed", "RenderStored"}
    for event in ALL_EVENTS:
        if event.__name__ in with_spec:
            assert event.__name__ not in definitions, "a generator would flatten its spec union into one class"
            assert definitions[f"Lesson{event.__name__}"]["properties"]["spec"] == {"$ref": "#/$defs/LessonSpec"}
            assert definitions[f"Ranking{event.__name__}"]["properties"]["spec"] == {"$ref": "#/$defs/RankingSpec"}
        else:
            assert definitions[event.__name__]["x-ce-type"] == event.event_type
    for ref in set(iter_refs(bundle)):
        resolve_pointer(bundle, ref)


@pytest.mark.parametrize("event", SAMPLES, ids=SAMPLE_IDS)
def test_a_real_event_validates_against_its_codegen_shape(event: Event) -> None:
    bundle = codegen_schema()
    name = type(event).__name__
    spec = getattr(event, "spec", None)
    if spec is not None:
        name = f"{spec.template.capitalize()}{name}"
    validator = Draft202012Validator({**bundle, "$ref": f"#/$defs/{name}"})
    body = event.model_dump(mode="json")
    validator.validate(body)
    assert not validator.is_valid({**body, "unexpected": 1})
