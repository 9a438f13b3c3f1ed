"""The LLM writer: an OpenAI-compatible chat model turns a lesson (or a topic) into a checked ``VideoScript``.

One :class:`LlmWriter` (and so one ``openai.AsyncOpenAI`` client and its connection pool) exists per service
process; ``writing.script_writer`` makes it on first use from :class:`ScriptSettings`.

Each answer is handled in order:

1. the JSON object is taken out of the answer (bare, in a code fence, or with prose around it);
2. it is normalised where that is harmless (ids filled, whitespace stripped; see ``llm_answers``);
3. it is validated against the ``VideoScript`` contract and the bounds of the request's ``ScriptOptions``
   (see ``validation``: chapter and scene counts, and a spoken length within ±50% of ``target_minutes``).

An answer that fails any step gets exactly one fix request: the conversation continues with the bad answer
and a user message listing every problem (``chapters.0.scenes.2.narration: Field required``). If the second
answer fails too, :class:`LlmError` says what was wrong with both.

Retries and what is retryable:

- The ``openai`` client's own retries are off (``max_retries=0``). The bus already redelivers a failed
  message with backoff (2, 10, 30, 60 s); client retries on top would silently turn one 30 s timeout into
  90 s, and could outlast the step's deadline.
- Every call has a deadline of ``REELFLOW_LLM_TIMEOUT_SEC``, enforced both by the client (per network
  operation) and by ``asyncio.timeout`` around the whole call (a server trickling bytes cannot stretch it).
- Retryable (redelivered with backoff, up to the delivery limit): timeouts, connection failures, HTTP 408,
  409, 429 and 5xx. These are about the server's state at that moment; a later attempt can succeed.
- Not retryable (failed at once): two unusable answers in a row, and HTTP 400/401/403/404/422 and other 4xx.
  A redelivery would send the same prompt with the same settings to the same model; a person has to change
  the model, a setting or the request's options first. The message names which.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import openai
import structlog
from openai.types.chat import ChatCompletionMessageParam

from reelflow.contracts import ScriptOptions, VideoScript
from reelflow.runtime.failures import LlmError
from reelflow.script.llm_answers import AnswerNotJsonError, extract_json, normalise_script
from reelflow.script.prompts import fix_prompt, request_messages
from reelflow.script.settings import ScriptSettings
from reelflow.script.validation import ScriptCheckError, validate_video_script

log = structlog.get_logger("reelflow.script.llm")

# Sent as the bearer token when REELFLOW_LLM_API_KEY is unset: keyless local servers ignore it, and the
# openai client refuses to start without some key.
NO_API_KEY = "no-api-key"
# The client's own retries; see the module docstring for why they are off.
CLIENT_MAX_RETRIES = 0
# Statuses a later attempt can get past: request timeout, conflict, rate limit, and server errors.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
# How much of each problem list goes into an error message (the details carry them all).
_PROBLEMS_IN_MESSAGE = 3


@dataclass(frozen=True)
class Answer:
    """What one call returned: the message text (``None`` when the model gave none) and why it stopped."""

    content: str | None
    finish_reason: str | None
    refusal: str | None = None


class LlmWriter:
    """Writes scripts with one OpenAI-compatible model; see the module docstring for the protocol."""

    def __init__(self, settings: ScriptSettings, *, client: openai.AsyncOpenAI | None = None) -> None:
        if not settings.llm_configured:
            raise ValueError(f"the LLM writer needs {' and '.join(settings.llm_missing_settings())}")
        self.settings = settings
        self.model = settings.llm_model.strip()
        self.base_url = settings.llm_base_url.strip()
        self._client = client or openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=settings.llm_api_key.get_secret_value() or NO_API_KEY,
            timeout=settings.llm_timeout_sec,
            max_retries=CLIENT_MAX_RETRIES,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def write(self, options: ScriptOptions, *, source_text: str = "", title: str = "") -> VideoScript:
        """A script from ``source_text`` (the lesson), or about ``title`` when there is no source text.

        Raises :class:`LlmError`: retryable for timeouts and transient HTTP failures, not retryable for two
        unusable answers or a request the server rejects.
        """
        if not source_text.strip() and not title.strip():
            raise LlmError("the LLM writer needs source_text or a title to write about", retryable=False)
        messages = request_messages(options, source_text=source_text, title=title)
        first = await self._ask(messages, attempt=1)
        try:
            return self._accept(first, options)
        except (AnswerNotJsonError, ScriptCheckError) as error:
            first_problems = self._problems(error, first)
        log.warning("LLM answer unusable, asking for a fix", model=self.model, problems=first_problems)
        messages = [
            *messages,
            {"role": "assistant", "content": first.content or first.refusal or "(no answer)"},
            {"role": "user", "content": fix_prompt(first_problems)},
        ]
        second = await self._ask(messages, attempt=2)
        try:
            return self._accept(second, options)
        except (AnswerNotJsonError, ScriptCheckError) as error:
            second_problems = self._problems(error, second)
        raise LlmError(
            self._twice_unusable_message(first_problems, second_problems),
            retryable=False,
            details={
                "model": self.model,
                "first_answer_problems": first_problems,
                "fix_answer_problems": second_problems,
            },
        )

    # ---- one call -----------------------------------------------------------------------------
    async def _ask(self, messages: list[ChatCompletionMessageParam], *, attempt: int) -> Answer:
        timeout = self.settings.llm_timeout_sec
        started = time.monotonic()
        which = "the first request" if attempt == 1 else "the fix request"
        try:
            async with asyncio.timeout(timeout):
                completion = await self._client.chat.completions.create(
                    model=self.model,
                    messages=list(messages),
                    temperature=self.settings.llm_temperature,
                    max_tokens=self.settings.llm_max_tokens,
                    timeout=timeout,
                )
        except (TimeoutError, openai.APITimeoutError) as error:
            raise LlmError(
                f"the LLM ({self.model} at {self.base_url}) did not answer {which} within {timeout:g} s "
                f"(REELFLOW_LLM_TIMEOUT_SEC); the request will be retried. If this keeps happening, raise "
                "REELFLOW_LLM_TIMEOUT_SEC, use a faster model (REELFLOW_LLM_MODEL), or ask for a shorter script "
                "(target_minutes)",
                retryable=True,
                details={"model": self.model, "timeout_sec": timeout, "attempt": attempt},
            ) from error
        except openai.APIStatusError as error:
            raise self._status_error(error, which) from error
        except openai.APIConnectionError as error:
            raise LlmError(
                f"could not reach the LLM at {self.base_url} for {which} ({error.message}); the request will be "
                "retried. Check REELFLOW_LLM_BASE_URL and that the server is running",
                retryable=True,
                details={"model": self.model, "attempt": attempt},
            ) from error
        except openai.OpenAIError as error:
            raise LlmError(
                f"the LLM call to {self.model} at {self.base_url} failed for {which}: {error}",
                retryable=True,
                details={"model": self.model, "attempt": attempt},
            ) from error
        elapsed = time.monotonic() - started
        if not completion.choices:
            log.info("LLM answered", model=self.model, attempt=attempt, elapsed_sec=round(elapsed, 2), choices=0)
            return Answer(content=None, finish_reason=None)
        choice = completion.choices[0]
        log.info(
            "LLM answered",
            model=self.model,
            attempt=attempt,
            elapsed_sec=round(elapsed, 2),
            finish_reason=choice.finish_reason,
            completion_tokens=completion.usage.completion_tokens if completion.usage else None,
        )
        return Answer(choice.message.content, choice.finish_reason, choice.message.refusal)

    def _status_error(self, error: openai.APIStatusError, which: str) -> LlmError:
        status = error.status_code
        said = _server_message(error)
        retryable = status in _RETRYABLE_STATUSES or status >= 500
        if status in (401, 403):
            action = "check REELFLOW_LLM_API_KEY (and that the key may use this model)"
        elif status == 404:
            action = (
                f"check REELFLOW_LLM_MODEL ({self.model!r} may not exist there) and REELFLOW_LLM_BASE_URL "
                "(it usually ends in /v1)"
            )
        elif status == 429:
            action = "the request will be retried; if it keeps happening, check the API plan's rate limits"
        elif retryable:
            action = "the request will be retried"
        else:
            action = (
                "check REELFLOW_LLM_MODEL and REELFLOW_LLM_MAX_TOKENS (the model may not accept them) and the "
                "length of the source text"
            )
        return LlmError(
            f"the LLM ({self.model} at {self.base_url}) refused {which} with HTTP {status}: {said}; {action}",
            retryable=retryable,
            details={"model": self.model, "http_status": status},
        )

    # ---- one answer ---------------------------------------------------------------------------
    def _accept(self, answer: Answer, options: ScriptOptions) -> VideoScript:
        if answer.content is None or not answer.content.strip():
            why = f"the model refused: {answer.refusal}" if answer.refusal else "the answer has no text"
            raise AnswerNotJsonError(why)
        data = normalise_script(extract_json(answer.content), options.language)
        return validate_video_script(data, options)

    def _problems(self, error: AnswerNotJsonError | ScriptCheckError, answer: Answer) -> list[str]:
        problems = error.problems if isinstance(error, ScriptCheckError) else [str(error)]
        if answer.finish_reason == "length":
            problems = [
                f"the answer was cut off at the token limit (max_tokens={self.settings.llm_max_tokens}) before it "
                "was complete; write a shorter script so that all of it fits",
                *problems,
            ]
        elif answer.finish_reason == "content_filter":
            problems = ["the answer was stopped by the provider's content filter", *problems]
        return problems

    def _twice_unusable_message(self, first: list[str], second: list[str]) -> str:
        advice = [
            "use a more capable model (REELFLOW_LLM_MODEL)",
            "or ask for less (fewer minutes in target_minutes, or more room in max_chapters and "
            "max_scenes_per_chapter)",
        ]
        if any("token limit" in problem for problem in second):
            advice.insert(0, "raise REELFLOW_LLM_MAX_TOKENS")
        return (
            f"the LLM ({self.model}) gave an unusable script twice. The first answer had: {_summary(first)}. "
            f"A fix request quoted those problems, and the second answer still had: {_summary(second)}. "
            f"Not retried, since the same request would get the same kind of answer: {', '.join(advice)}"
        )


def _summary(problems: list[str]) -> str:
    shown = "; ".join(problems[:_PROBLEMS_IN_MESSAGE])
    hidden = len(problems) - _PROBLEMS_IN_MESSAGE
    return f"{shown} (and {hidden} more)" if hidden > 0 else shown


def _server_message(error: openai.APIStatusError) -> str:
    body: Any = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return error.message
