"""JSON Schema per event and an AsyncAPI 3.0 document, built as plain dicts (the CLI writes them to disk)."""

from typing import Any

from reelflow.contracts.events import (
    ALL_EVENTS,
    DLQ_SUBJECT_PREFIX,
    PROGRESS_SUBJECT_PREFIX,
    Event,
)


def event_file_stem(event: type[Event]) -> str:
    """``reelflow.render.requested.v1`` → ``render.requested.v1``."""
    return event.event_type.removeprefix("reelflow.")


def event_json_schemas() -> dict[str, dict[str, Any]]:
    """One standalone JSON Schema (2020-12) per event type, keyed by the file stem."""
    schemas: dict[str, dict[str, Any]] = {}
    for event in ALL_EVENTS:
        schema = event.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:{event.event_type}"
        schema["x-ce-type"] = event.event_type
        schema["x-nats-subject"] = _channel_address(event)
        schemas[event_file_stem(event)] = schema
    return schemas


def _channel_address(event: type[Event]) -> str:
    if event.subject == PROGRESS_SUBJECT_PREFIX:
        return f"{PROGRESS_SUBJECT_PREFIX}.{{job_id}}"
    if event.subject == DLQ_SUBJECT_PREFIX:
        return f"{DLQ_SUBJECT_PREFIX}.{{service}}"
    return event.subject


_CLOUD_EVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["ce-specversion", "ce-id", "ce-type", "ce-source", "ce-subject", "ce-time", "Nats-Msg-Id"],
    "properties": {
        "ce-specversion": {"type": "string", "const": "1.0"},
        "ce-id": {"type": "string"},
        "ce-type": {"type": "string"},
        "ce-source": {"type": "string"},
        "ce-subject": {"type": "string", "description": "job_id or script_id"},
        "ce-time": {"type": "string", "format": "date-time"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
        "Nats-Msg-Id": {"type": "string", "description": "{job_id}:{attempt}:{ce-type}"},
    },
}


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 description of every channel, with the event schemas as its components."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for stem, schema in event_json_schemas().items():
        name = stem.replace(".", "_")
        definitions = schema.pop("$defs", {})
        for def_name, definition in definitions.items():
            schemas[def_name] = definition
        body = {key: value for key, value in schema.items() if not key.startswith("$")}
        schemas[name] = body
        messages[name] = {
            "name": schema["x-ce-type"],
            "contentType": "application/json",
            "headers": _CLOUD_EVENT_HEADERS,
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
        channels[name] = {
            "address": schema["x-nats-subject"],
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
    document = {
        "asyncapi": "3.0.0",
        "info": {"title": "reelflow events", "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }
    rewritten: dict[str, Any] = _rewrite_refs(document)
    return rewritten


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node
