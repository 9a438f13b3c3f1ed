"""Requests the gateway refuses, each carrying the API error code and HTTP status that report it."""

from typing import Any

from reelflow.contracts.errors import ApiErrorCode
from reelflow.runtime.failures import ReelflowError


class LedgerError(ReelflowError):
    """A request the ledger refuses; ``api_code`` and ``status`` say how the API reports it."""

    def __init__(
        self, message: str, *, api_code: ApiErrorCode, status: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, retryable=False, details=details)
        self.api_code = api_code
        self.status = status
