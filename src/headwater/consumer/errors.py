"""The one error a transport raises: the service's error type name and message."""

from __future__ import annotations


class StreamsError(Exception):
    """A Streams API error (`code` is the bare type name, e.g. "ExpiredIteratorException")."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status >= 500 or self.code in RETRYABLE


RETRYABLE = frozenset(
    {
        "LimitExceededException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "InternalFailure",
        "ConnectionError",
    }
)
