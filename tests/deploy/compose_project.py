"""Reading docker-compose.yml as Docker Compose would: YAML with merge keys, then ``${VAR}`` interpolation from the
``.env`` file (here .env.example, the file a user copies to .env)."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal dollar.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}")
_ENV_LINE = re.compile(r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


class InterpolationError(ValueError):
    """A required variable (``${NAME:?message}``) is not set."""


@dataclass(frozen=True)
class EnvFile:
    """An .env file: the variables it sets, and those it only documents in a commented-out ``# NAME=default``."""

    values: dict[str, str]
    documented: set[str]

    @classmethod
    def read(cls, path: Path) -> "EnvFile":
        values: dict[str, str] = {}
        documented: set[str] = set()
        for line in path.read_text().splitlines():
            match = _ENV_LINE.match(line.strip())
            if match is None:
                continue
            documented.add(match["name"])
            if not match["commented"]:
                values[match["name"]] = match["value"]
        return cls(values, documented)


def referenced_variables(text: str) -> set[str]:
    return {match["name"] for match in _VARIABLE.finditer(text) if match["name"]}


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match["name"], match["operator"], match["argument"] or ""
        value = env.get(name)
        unset = value is None or (operator is not None and operator.startswith(":") and value == "")
        if operator in (":-", "-") and unset:
            return argument
        if operator in (":?", "?") and unset:
            raise InterpolationError(f"{name}: {argument}")
        return value or ""

    return _VARIABLE.sub(replace, text)


def load_compose(path: Path, env: dict[str, str]) -> dict[str, Any]:
    """The compose model after interpolation, with YAML anchors and ``<<`` merges resolved."""
    model: dict[str, Any] = yaml.safe_load(interpolate(path.read_text(), env))
    return model
