"""Settings of the script service: the step deadline and the OpenAI-compatible LLM the writer may call.

Every setting is one environment variable with the ``REELFLOW_`` prefix:

- ``REELFLOW_LLM_BASE_URL`` (unset): an OpenAI-compatible API, e.g. ``https://api.openai.com/v1`` or a
  local server such as ``http://127.0.0.1:11434/v1``;
- ``REELFLOW_LLM_MODEL`` (unset): the model that API serves, e.g. ``gpt-4o-mini``;
- ``REELFLOW_LLM_API_KEY`` (unset): the bearer key; a keyless local server needs none;
- ``REELFLOW_LLM_TEMPERATURE`` (0.3);
- ``REELFLOW_LLM_MAX_TOKENS`` (4096): the most tokens one answer may have; a script cut off there is unusable;
- ``REELFLOW_LLM_TIMEOUT_SEC`` (30): per LLM call; at most two calls (an answer and one fix) run per delivery,
  and both must fit the step's 120 s deadline, so it may be at most 55.

The LLM writer is used only when both ``REELFLOW_LLM_BASE_URL`` and ``REELFLOW_LLM_MODEL`` are set (see
``writing``). Neither has a default, so that no request ever reaches a paid API by accident: the test suite
points ``REELFLOW_LLM_BASE_URL`` at a dead local port and leaves the model unset, and the offline writer runs.
"""

from pydantic import Field, SecretStr, model_validator

from reelflow.runtime.settings import ServiceSettings

# The script step's own deadline (``Delivery.handler_timeout_sec`` in ``handlers``).
SCRIPT_STEP_DEADLINE_SEC = 120.0
# The LLM writer makes at most this many calls in one delivery: the answer, and one fix when it was unusable.
LLM_CALLS_PER_DELIVERY = 2
# Room left in the step deadline for everything but the LLM calls (validation, publishing the result).
_STEP_MARGIN_SEC = 10.0


class ScriptSettings(ServiceSettings):
    service_name: str = "script"

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_temperature: float = Field(default=0.3, ge=0.0, le=2.0)
    llm_max_tokens: int = Field(default=4096, ge=256)
    llm_timeout_sec: float = Field(default=30.0, gt=0)

    @property
    def llm_configured(self) -> bool:
        """Whether the LLM writer can be used: a base URL and a model are both set."""
        return bool(self.llm_base_url.strip() and self.llm_model.strip())

    def llm_missing_settings(self) -> list[str]:
        """The environment variables still to set before the LLM writer can run (empty when configured)."""
        missing = []
        if not self.llm_base_url.strip():
            missing.append("REELFLOW_LLM_BASE_URL")
        if not self.llm_model.strip():
            missing.append("REELFLOW_LLM_MODEL")
        return missing

    @model_validator(mode="after")
    def _llm_calls_fit_the_step_deadline(self) -> "ScriptSettings":
        longest = (SCRIPT_STEP_DEADLINE_SEC - _STEP_MARGIN_SEC) / LLM_CALLS_PER_DELIVERY
        if self.llm_timeout_sec > longest:
            raise ValueError(
                f"REELFLOW_LLM_TIMEOUT_SEC={self.llm_timeout_sec:g} is too long: the script step may call the LLM "
                f"{LLM_CALLS_PER_DELIVERY} times (an answer and one fix) within its {SCRIPT_STEP_DEADLINE_SEC:g} s "
                f"deadline, so one call may take at most {longest:g} s"
            )
        return self
