"""DynamoDB's error types: one small class each, carrying the wire `__type`, HTTP status and message."""

from __future__ import annotations

from typing import Any, ClassVar

DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
CORAL_VALIDATE = "com.amazon.coral.validate#"
CORAL_SERVICE = "com.amazon.coral.service#"


class DynamoDBError(Exception):
    """An error answered to the client as `{"__type": ..., "message": ...}`."""

    namespace: ClassVar[str] = DYNAMODB
    status: ClassVar[int] = 400
    default_message: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        text = message if message is not None else self.default_message
        super().__init__(text)
        self.message = text
        self.extra = extra

    @property
    def type_name(self) -> str:
        return type(self).__name__

    @property
    def wire_type(self) -> str:
        return self.namespace + self.type_name

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"__type": self.wire_type}
        if self.message is not None:
            body["message"] = self.message
        body.update(self.extra)
        return body


class ValidationException(DynamoDBError):
    namespace = CORAL_VALIDATE


class SerializationException(DynamoDBError):
    namespace = CORAL_SERVICE


class UnknownOperationException(DynamoDBError):
    namespace = CORAL_SERVICE


class MissingAuthenticationTokenException(DynamoDBError):
    namespace = CORAL_SERVICE
    status = 400
    default_message = "Request is missing Authentication Token"


class AccessDeniedException(DynamoDBError):
    """DynamoDB words this one `Message` (capitalised), not `message`."""

    namespace = CORAL_SERVICE

    def to_wire(self) -> dict[str, Any]:
        return {"__type": self.wire_type, "Message": self.message, **self.extra}


# Request signing (SigV4). DynamoDB answers all of these with HTTP 400 and the coral namespace;
# other APIs on the endpoint (Lambda) map them to their own status codes at the HTTP layer.


class IncompleteSignatureException(DynamoDBError):
    """A malformed Authorization header or presigned query string."""

    namespace = CORAL_SERVICE


class InvalidSignatureException(DynamoDBError):
    """A well-formed signature that does not verify (wrong secret, scope, date, or signed headers)."""

    namespace = CORAL_SERVICE
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


class UnrecognizedClientException(DynamoDBError):
    """An access key id (or session token) the server does not know."""

    namespace = CORAL_SERVICE
    default_message = "The security token included in the request is invalid."


class ExpiredTokenException(DynamoDBError):
    """Temporary credentials past their expiry."""

    namespace = CORAL_SERVICE
    default_message = "The security token included in the request is expired"


class RequestEntityTooLarge(DynamoDBError):
    """Bodies over 16 MB; DynamoDB answers 413 with this type."""

    namespace = CORAL_SERVICE
    status = 413
    default_message = "Request payload size exceeds the limit"


class ResourceNotFoundException(DynamoDBError):
    default_message = "Requested resource not found"


class ResourceInUseException(DynamoDBError):
    pass


class PolicyNotFoundException(DynamoDBError):
    """No resource-based policy (or not the revision the request expected)."""


class TableNotFoundException(DynamoDBError):
    """The backup operations' missing table (the others answer ResourceNotFoundException)."""


class GlobalTableNotFoundException(DynamoDBError):
    """Global tables version 2017.11.29: no global table of that name."""


class GlobalTableAlreadyExistsException(DynamoDBError):
    pass


class ReplicaAlreadyExistsException(DynamoDBError):
    pass


class ReplicaNotFoundException(DynamoDBError):
    pass


class ConditionalCheckFailedException(DynamoDBError):
    default_message = "The conditional request failed"


class DuplicateItemException(DynamoDBError):
    """A PartiQL INSERT of an item that exists."""

    default_message = "Duplicate primary key exists in table"


class TransactionCanceledException(DynamoDBError):
    pass


class TransactionConflictException(DynamoDBError):
    pass


class TransactionInProgressException(DynamoDBError):
    pass


class IdempotentParameterMismatchException(DynamoDBError):
    pass


class ItemCollectionSizeLimitExceededException(DynamoDBError):
    pass


class LimitExceededException(DynamoDBError):
    pass


class ProvisionedThroughputExceededException(DynamoDBError):
    pass


class ThrottlingException(DynamoDBError):
    """An on-demand table past its maximum throughput or the per-table quota (`--enforce-capacity`)."""


class ExpiredIteratorException(DynamoDBError):
    pass


class TrimmedDataAccessException(DynamoDBError):
    pass


class InternalServerError(DynamoDBError):
    status = 500
    default_message = "Internal server error"


class BackupNotFoundException(DynamoDBError):
    """A backup ARN that names no backup of the caller's (or one being deleted)."""


class BackupInUseException(DynamoDBError):
    """Another backup operation on the same backup is under way (it is still being created)."""


class TableAlreadyExistsException(DynamoDBError):
    """A restore's target table name is taken."""


class TableInUseException(DynamoDBError):
    """A restore's target table is being created or deleted."""


class ContinuousBackupsUnavailableException(DynamoDBError):
    """Backups are not (yet) possible for this table."""


class PointInTimeRecoveryUnavailableException(DynamoDBError):
    """Point-in-time recovery is not enabled for the source table."""


class InvalidRestoreTimeException(DynamoDBError):
    """A restore instant outside [EarliestRestorableDateTime, LatestRestorableDateTime]."""


class InvalidExportTimeException(DynamoDBError):
    """An export instant outside the table's point-in-time recovery window."""


class ExportNotFoundException(DynamoDBError):
    """An export ARN that names no export of the caller's."""


class ImportNotFoundException(DynamoDBError):
    """An import ARN that names no import of the caller's."""


class ExportConflictException(DynamoDBError):
    """An export's ClientToken reused, within its 8 hours, by a request that asks for something else."""


class ImportConflictException(DynamoDBError):
    """An import's ClientToken reused, within its 8 hours, by a request that asks for something else."""
