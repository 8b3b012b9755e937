"""What a page handler is given, and the rules every form follows: bounded fields, one parse."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..http.messages import Request, Response
from .client import ApiClient, ApiError
from .html import Viewer

MAX_FORM_BYTES = 2 * 1024 * 1024  # an item is at most 400 KB; as DynamoDB JSON in a form, some more
MAX_FIELDS = 400
MAX_FIELD_CHARS = 4096  # every field but the few that hold an item or expression values
LARGE_FIELDS = frozenset({"item", "values", "names"})
MAX_LARGE_FIELD_CHARS = 1024 * 1024


class BadForm(Exception):
    """A form the console cannot read (too large, too many fields): answered 400, never passed on."""


@dataclass(frozen=True, slots=True)
class Ask:
    """One console request, its session's API client, its parsed query and form."""

    request: Request
    api: ApiClient
    viewer: Viewer
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str = "") -> str:
        """A field of the form (POST) or the query (GET), stripped of surrounding blanks."""
        source = self.form if self.request.method == "POST" else self.query
        return source.get(name, default).strip()


Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method, re.compile(f"^{pattern}$"), handler)


def parse_fields(raw: bytes | str) -> dict[str, str]:
    """A query string or a url-encoded form: the first value of each name, each bounded."""
    if len(raw) > MAX_FORM_BYTES:
        raise BadForm(f"the form is larger than {MAX_FORM_BYTES} bytes")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise BadForm(f"the form has more than {MAX_FIELDS} fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        limit = MAX_LARGE_FIELD_CHARS if name in LARGE_FIELDS else MAX_FIELD_CHARS
        if len(value) > limit:
            raise BadForm(f"the field {name} is longer than {limit} characters")
        fields.setdefault(name, value)
    return fields


def bounded_int(text: str, default: int, low: int, high: int) -> int:
    """A number from a form or a query, inside [low, high] (the API checks what it is sent; the console only
    keeps its own requests small)."""
    try:
        value = int(text)
    except ValueError:
        return default
    return max(low, min(high, value))


async def attempt(call: Awaitable[dict[str, object]]) -> tuple[dict[str, object], ApiError | None]:
    """An API call whose error is shown on the page rather than raised."""
    try:
        return await call, None
    except ApiError as err:
        return {}, err
