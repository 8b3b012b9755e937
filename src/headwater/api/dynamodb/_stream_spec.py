"""StreamSpecification on CreateTable and UpdateTable, with DynamoDB's messages."""

from __future__ import annotations

from typing import Any, cast

from ...errors import ValidationException
from ...model.schema import StreamSpec, StreamViewType


def parse_stream_specification(raw: dict[str, Any] | None, current: StreamSpec | None) -> StreamSpec | None:
    """The requested stream state, or None when the request does not mention streams.

    `current` is the table's stream for UpdateTable (None on CreateTable).
    """
    if raw is None:
        return None
    enabled = raw.get("StreamEnabled")
    view = raw.get("StreamViewType")
    if enabled:
        if not view:
            raise ValidationException(
                "Invalid StreamViewType: Stream ViewType must not be null or empty when enabling streams."
            )
        if current is not None and current.enabled:
            raise ValidationException("Table already has an enabled stream")
        return StreamSpec(True, cast(StreamViewType, view))
    if view:
        raise ValidationException(
            "Invalid StreamViewType: Stream StreamEnabled was false but a StreamViewType was present."
        )
    if current is not None and not current.enabled:
        raise ValidationException("Table has no stream to disable")
    return StreamSpec(False)
