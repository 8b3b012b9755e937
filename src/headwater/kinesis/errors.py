"""Kinesis's error types: answered with a bare `__type` (no namespace), as the service does."""

from __future__ import annotations

from ..errors import DynamoDBError


class KinesisError(DynamoDBError):
    namespace = ""


class ResourceNotFoundException(KinesisError):
    pass


class AccessDeniedException(KinesisError):
    pass


class ResourceInUseException(KinesisError):
    pass


class InvalidArgumentException(KinesisError):
    pass


class LimitExceededException(KinesisError):
    pass


class ProvisionedThroughputExceededException(KinesisError):
    pass


class ExpiredIteratorException(KinesisError):
    pass


class ExpiredNextTokenException(KinesisError):
    pass


class ValidationException(KinesisError):
    pass


class SerializationException(KinesisError):
    pass


class UnknownOperationException(KinesisError):
    pass
