"""Typed failures: each maps to a contract error code and says whether a redelivery could help."""

from typing import Any, ClassVar

from reelflow.contracts import ErrorCode, ErrorInfo


class ReelflowError(Exception):
    """Base of every failure a step reports. ``retryable`` decides between redelivery and the DLQ."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL
    default_retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, retryable: bool | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details = details or {}

    def to_info(self, step: str | None = None) -> ErrorInfo:
        return ErrorInfo(code=self.code, message=self.message, step=step, details=self.details)


class InvalidScriptError(ReelflowError):
    code = ErrorCode.INVALID_SCRIPT


class LlmError(ReelflowError):
    code = ErrorCode.LLM_FAILED


class TtsError(ReelflowError):
    code = ErrorCode.TTS_FAILED


class VisualError(ReelflowError):
    """A scene's visual could not be made (the image provider refused, failed or timed out)."""

    code = ErrorCode.VISUAL_FAILED


class MediaInvalidError(ReelflowError):
    code = ErrorCode.MEDIA_INVALID


class RenderError(ReelflowError):
    code = ErrorCode.RENDER_FAILED


class StorageUploadError(ReelflowError):
    code = ErrorCode.STORAGE_UPLOAD_FAILED
    default_retryable = True


class PublishError(ReelflowError):
    code = ErrorCode.PUBLISH_FAILED
    default_retryable = True


class StepTimeoutError(ReelflowError):
    code = ErrorCode.TIMEOUT
    default_retryable = True


class JobCanceledError(ReelflowError):
    code = ErrorCode.CANCELED


class AttemptFinishedError(ReelflowError):
    """The job attempt a message or event belongs to is already terminal (COMPLETED, FAILED or CANCELED).

    Raised by the bus instead of publishing an event that would contradict the attempt's terminal event, and by
    the delivery policy for a late message: the message is acked and dropped, never retried or dead-lettered.
    """

    code = ErrorCode.CANCELED


class BusUnavailableError(ReelflowError):
    """NATS cannot be reached right now; the message is handed back and tried again once it can."""

    default_retryable = True
