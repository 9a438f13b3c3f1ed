"""The one base model every contract shares: snake_case on the wire, immutable, strict about unknown fields."""

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Wire models are snake_case (the Spring backend's existing JSON), frozen, and reject unknown fields
    so that a typo such as ``visual_stlye`` is named in the error instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
