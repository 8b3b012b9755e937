"""Lambda's error types: `x-amzn-ErrorType` header and a {"Type", "message"} body."""

from __future__ import annotations

from typing import Any, ClassVar


class LambdaError(Exception):
    status: ClassVar[int] = 400
    kind: ClassVar[str] = "User"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def to_wire(self) -> dict[str, Any]:
        return {"Type": self.kind, "message": self.message}


class ResourceNotFoundException(LambdaError):
    status = 404


class ResourceConflictException(LambdaError):
    status = 409


class ResourceInUseException(LambdaError):
    status = 400


class InvalidParameterValueException(LambdaError):
    pass


class InvalidRequestContentException(LambdaError):
    pass


class ValidationException(LambdaError):
    pass


class RequestTooLargeException(LambdaError):
    status = 413


class ServiceException(LambdaError):
    status = 500
    kind = "Service"


class UnsupportedMediaTypeException(LambdaError):
    status = 415


class TooManyRequestsException(LambdaError):
    """A throttled invocation (429), with Lambda's `Reason`."""

    status = 429

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def to_wire(self) -> dict[str, Any]:
        return {**super().to_wire(), "Reason": self.reason}
