"""The base of the REST API's own request bodies: a contract that takes text only as text.

Bus contracts turn a number sent for a text field into text (the backend's ids may arrive as numbers); a REST body
is held to the type its OpenAPI document states, so ``"title": 0`` is a 422 naming ``title`` rather than the title
"0". Nested contract models (``options``, ``voice``, ``script``…) keep the bus contracts' rule.
"""

from pydantic import ConfigDict

from reelflow.contracts._base import Contract


class RequestBody(Contract):
    model_config = ConfigDict(coerce_numbers_to_str=False)
