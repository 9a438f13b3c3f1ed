"""How a failed validation is told to a person: one ``{field, problem}`` per problem, and one line for them all.

The gateway's 422 answers, the dead letters of invalid events and the failure events they cause all describe a
pydantic validation error the same way, through these two functions.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Where FastAPI found the value, which is not part of the field's name as the caller wrote it.
_REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})


def field_path(location: Sequence[Any]) -> str:
    """``("body", "options", "language")`` → ``"options.language"``; the body itself is ``"body"``."""
    parts = [str(part) for index, part in enumerate(location) if not (index == 0 and part in _REQUEST_PARTS)]
    return ".".join(parts) or "body"


def validation_problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """pydantic's (or FastAPI's) error list as ``[{"field": "size", "problem": "…"}]``."""
    return [
        {"field": field_path(error.get("loc", ())), "problem": str(error.get("msg", "is invalid"))} for error in errors
    ]


def describe_problems(problems: Iterable[Mapping[str, str]]) -> str:
    """``"size: must be WIDTHxHEIGHT …; fps: Input should be less than or equal to 60"``."""
    return "; ".join(f"{problem['field']}: {problem['problem']}" for problem in problems)
