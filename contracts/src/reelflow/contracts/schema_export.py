"""JSON Schema per event, a code-generation bundle and an AsyncAPI 3.0 document, as plain dicts (the CLI writes them).

What is exported is plain JSON Schema that other languages' tools read as it is. pydantic's OpenAPI-style
``discriminator`` object is dropped: it is not JSON Schema (the AsyncAPI parser refuses it, AsyncAPI's own
``discriminator`` being a property name), and its mapping points at ``#/$defs/…``, which no longer exists once the
definitions move to the AsyncAPI components. Validation does not change, because each branch of a tagged union
already requires its tag with a ``const`` (checked here), so a plain ``oneOf`` picks exactly one branch.
Generators that cannot express a tagged union (quicktype merges every object of a ``oneOf`` into one class, whose
empty fields reelflow then refuses) read ``codegen_schema``, where each such event is split into one shape per branch.
"""

import copy
import re
from dataclasses import dataclass
from typing import Any

from reelflow.contracts.events import (
    ALL_EVENTS,
    DLQ_SUBJECT_PREFIX,
    PROGRESS_SUBJECT_PREFIX,
    Event,
)

_DEFS_REF = "#/$defs/"


def event_file_stem(event: type[Event]) -> str:
    """``reelflow.render.requested.v1`` → ``render.requested.v1``."""
    return event.event_type.removeprefix("reelflow.")


@dataclass(frozen=True)
class TaggedUnion:
    """A body property that holds one of several shapes, told apart by the constant value of ``tag``."""

    property_name: str
    tag: str
    branches: dict[str, str]  # tag value → the definition's name in $defs


def event_json_schemas() -> dict[str, dict[str, Any]]:
    """One standalone JSON Schema (2020-12) per event type, keyed by the file stem."""
    return {event_file_stem(event): _event_schema(event)[0] for event in ALL_EVENTS}


def event_variant_schemas() -> dict[str, dict[str, Any]]:
    """One standalone schema per branch of each event whose body holds a tagged union, keyed ``{stem}.{value}``.

    ``render.requested.v1.lesson`` is ``rf.render.requested`` whose ``spec`` is a ``LessonSpec``: the same
    messages, narrowed to one template, so that a generator without tagged unions makes a class per shape (a Java
    ``LessonRenderRequested`` holding a ``LessonSpec``) instead of one class with the fields of both.
    """
    variants: dict[str, dict[str, Any]] = {}
    for event in ALL_EVENTS:
        schema, unions = _event_schema(event)
        for value, variant in _split_tagged_union(event, schema, unions).items():
            variants[f"{event_file_stem(event)}.{value}"] = variant
    return variants


def codegen_schema() -> dict[str, Any]:
    """Every event shape as the ``$defs`` of one schema, for code generators (``quicktype``).

    An event without a tagged union is there under its own name (``RenderCompleted``); one with a tagged union is
    there only as its variants (``LessonRenderRequested``, ``RankingRenderRequested``), so no generator can make
    the flattened class by mistake. Definitions the events share (``Voice``, ``PublishTarget``) are one entry, so
    they become one class. Ask for the shapes you need by pointer: ``codegen.schema.json#/$defs/RenderCompleted``.
    """
    definitions: dict[str, Any] = {}
    for event in ALL_EVENTS:
        schema, unions = _event_schema(event)
        shapes = list(_split_tagged_union(event, schema, unions).values()) if unions else [schema]
        for shape in shapes:
            for name, definition in shape.pop("$defs", {}).items():
                _add_definition(definitions, name, definition)
            # A nested $id would change the base URI its "#/$defs/…" refs resolve against.
            _add_definition(
                definitions, shape["title"], {k: v for k, v in shape.items() if k not in ("$schema", "$id")}
            )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:reelflow.events",
        "title": "reelflow events",
        "description": (
            "Every event body of reelflow's bus, as definitions to generate code from. An event whose body holds "
            "a tagged union (a render spec) is here once per branch, e.g. LessonRenderRequested and "
            "RankingRenderRequested; both are the body of rf.render.requested."
        ),
        "$defs": dict(sorted(definitions.items())),
    }


def _add_definition(definitions: dict[str, Any], name: str, definition: dict[str, Any]) -> None:
    if name in definitions and definitions[name] != definition:
        raise ValueError(f"two shapes are both named {name!r}")
    definitions[name] = definition


def _split_tagged_union(
    event: type[Event], schema: dict[str, Any], unions: list[TaggedUnion]
) -> dict[str, dict[str, Any]]:
    """The event's schema once per branch of its tagged union, keyed by the tag value."""
    if len(unions) > 1:
        raise ValueError(f"{event.__name__}: one tagged union per event can be split, found {len(unions)}")
    variants: dict[str, dict[str, Any]] = {}
    for union in unions:
        for value, definition in union.branches.items():
            variant = copy.deepcopy(schema)
            variant["title"] = f"{_pascal_case(value)}{schema['title']}"
            variant["description"] = (
                f"{schema.get('description', schema['title'])}\n\n"
                f"This variant narrows `{union.property_name}` to `{definition}` (`{union.tag}` = `{value}`): "
                "the messages are the same, for code generators that cannot express a tagged union."
            )
            variant["$id"] = f"urn:{event.event_type}:{union.tag}:{value}"
            variant["properties"][union.property_name] = {"$ref": f"{_DEFS_REF}{definition}"}
            variant["$defs"] = _reachable_definitions(variant)
            variants[value] = variant
    return variants


def _pascal_case(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text))


def _event_schema(event: type[Event]) -> tuple[dict[str, Any], list[TaggedUnion]]:
    schema = event.model_json_schema(mode="serialization")
    unions: list[TaggedUnion] = []
    for name, node in schema.get("properties", {}).items():
        union = _plain_tagged_union(node, schema.get("$defs", {}), name)
        if union is not None:
            unions.append(union)
    _refuse_nested_discriminators(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:{event.event_type}"
    schema["x-ce-type"] = event.event_type
    schema["x-nats-subject"] = _channel_address(event)
    return schema, unions


def _plain_tagged_union(node: dict[str, Any], definitions: dict[str, Any], name: str) -> TaggedUnion | None:
    """Drops pydantic's ``discriminator`` object from a ``oneOf`` once each branch is checked to pin its tag.

    Validation is unchanged: a branch that did not carry ``const`` and ``required`` for its tag would make the
    plain ``oneOf`` accept what the model refuses, so that is an error here rather than a looser schema.
    """
    discriminator = node.pop("discriminator", None)
    if discriminator is None:
        return None
    tag = discriminator["propertyName"]
    branches: dict[str, str] = {}
    for value, ref in discriminator["mapping"].items():
        definition = ref.removeprefix(_DEFS_REF)
        branch = definitions[definition]
        if branch.get("properties", {}).get(tag, {}).get("const") != value or tag not in branch.get("required", []):
            raise ValueError(f"{definition} must require {tag!r} with const {value!r} to be a branch of {name!r}")
        # Generators name the tag's one-value enum after its title: LessonTemplate, not "Template" twice.
        branch["properties"][tag]["title"] = f"{_pascal_case(value)}{_pascal_case(tag)}"
        branches[value] = definition
    if sorted(item["$ref"] for item in node["oneOf"]) != sorted(_DEFS_REF + item for item in branches.values()):
        raise ValueError(f"{name!r}: the discriminator's mapping does not name every branch of the oneOf")
    return TaggedUnion(property_name=name, tag=tag, branches=branches)


def _refuse_nested_discriminators(node: Any) -> None:
    """Only a top-level body property may be a tagged union (that is all the contracts have, and all we rewrite)."""
    if isinstance(node, dict):
        if "oneOf" in node and isinstance(node.get("discriminator"), dict):
            raise ValueError("a tagged union below the top level of an event is not exported yet")
        for value in node.values():
            _refuse_nested_discriminators(value)
    elif isinstance(node, list):
        for item in node:
            _refuse_nested_discriminators(item)


def _reachable_definitions(schema: dict[str, Any]) -> dict[str, Any]:
    """The ``$defs`` a schema still refers to, directly or through each other."""
    definitions: dict[str, Any] = schema.get("$defs", {})
    reachable: set[str] = set()
    pending = _refs({key: value for key, value in schema.items() if key != "$defs"})
    while pending:
        name = pending.pop().removeprefix(_DEFS_REF)
        if name not in reachable:
            reachable.add(name)
            pending.extend(_refs(definitions[name]))
    return {name: definition for name, definition in definitions.items() if name in reachable}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            if key != "$ref":
                found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


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
        # AsyncAPI 3.0 schemas are JSON Schema draft 07 by default: the 2020-12 ``$schema``/``$id`` stay in the files.
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
    """``#/$defs/X`` → ``#/components/schemas/X``: the definitions of every event are merged there."""
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
