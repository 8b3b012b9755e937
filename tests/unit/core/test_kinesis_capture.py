"""The Kinesis record's eventID: a version-4 UUID's text, built without the uuid module's object."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from headwater.core.kinesis_capture import _uuid4_text


@given(st.binary(min_size=16, max_size=16))
def test_event_ids_are_what_the_uuid_module_would_write(digest: bytes) -> None:
    assert _uuid4_text(digest).decode() == str(uuid.UUID(bytes=digest, version=4))
