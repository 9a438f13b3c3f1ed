"""How a failed validation is told to a person: one ``{field, problem}`` per problem, and one line for them all.

The gateway's 422 answers, the dead letters of invalid events and the failure events they cause all describe a
pydantic validation error the same way, through these functions.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pydantic

# Where FastAPI found the value, which is not part of the field's name as the caller wrote it.
_REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})
# pydantic's prefix on a message a validator raised; the message itself already says what is wrong.
_VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_path(location: Sequence[Any], *, within: str = "", whole: str = "body") -> str:
    """``("body", "options", "language")`` → ``"options.language"``; the value itself is ``whole``.

    ``within`` names the field the validated value came from (``"render_defaults"``), so the path is the
    caller's.
    """
    parts = [str(part) for index, part in enumerate(location) if not (index == 0 and part in _REQUEST_PARTS)]
    return ".".join([within, *parts] if within else parts) or whole


def _problem_text(message: str) -> str:
    for prefix in _VALIDATOR_PREFIXES:
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    return message


def validation_problems(
    errors: Iterable[Mapping[str, Any]], *, within: str = "", whole: str = "body"
) -> list[dict[str, str]]:
    """pydantic's (or FastAPI's) error list as ``[{"field": "size", "problem": "…"}]``."""
    return [
        {
            "field": field_path(error.get("loc", ()), within=within, whole=whole),
            "problem": _problem_text(str(error.get("msg", "is invalid"))),
        }
        for error in errors
    ]


def problems_of(error: pydantic.ValidationError, *, within: str = "", whole: str = "body") -> list[dict[str, str]]:
    """The problems of one pydantic validation error (see :func:`validation_problems`)."""
    return validation_problems(error.errors(include_url=False, include_input=False), within=within, whole=whole)


def describe_problems(problems: Iterable[Mapping[str, str]]) -> str:
    """``"size: must be WIDTHxHEIGHT …; fps: Input should be less than or equal to 60"``."""
    return "; ".join(f"{problem['field']}: {problem['problem']}" for problem in problems)
