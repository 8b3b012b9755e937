"""An expression error that does not yet know which request parameter it came from."""

from __future__ import annotations

from headwater.errors import ValidationException


class ExpressionError(ValidationException):
    """Raised by parse/resolve/validate with the bare detail; compile prefixes "Invalid <Parameter>: ".

    Subclassing ValidationException keeps it a DynamoDBError even if it escapes unwrapped.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def for_parameter(self, parameter: str) -> ValidationException:
        return ValidationException(f"Invalid {parameter}: {self.detail}")
