"""What an operation handler receives, and the handler signature shared by every operation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..core.database import Database

Response = dict[str, Any] | bytes
Handler = Callable[[Database, dict[str, Any]], Awaitable[Response]]
