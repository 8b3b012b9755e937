"""Console sessions: who signed in, and the token every state-changing request must carry.

A session lives in this process's memory only (a restart signs everyone out): a random id in a
SameSite=Strict, HttpOnly cookie, a separate random CSRF token written into the pages. At most
MAX_SESSIONS at once (the least recently used goes first), each ending IDLE_SECONDS after its last use
and ABSOLUTE_SECONDS after sign-in whatever happens.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

from .client import Principal

MAX_SESSIONS = 256
IDLE_SECONDS = 30 * 60.0
ABSOLUTE_SECONDS = 12 * 3600.0
ID_BYTES = 32


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    csrf: str
    principal: Principal
    started: float

    def token_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, clock: Callable[[], float] = monotonic) -> None:
        self.clock = clock
        self._live: OrderedDict[str, tuple[Session, float]] = OrderedDict()  # id -> (session, last use)

    def start(self, principal: Principal) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(ID_BYTES), secrets.token_urlsafe(ID_BYTES), principal, now)
        while len(self._live) >= MAX_SESSIONS:
            self._live.popitem(last=False)
        self._live[session.id] = (session, now)
        return session

    def find(self, session_id: str | None) -> Session | None:
        """The live session of that id (its use noted), or None: unknown, idle too long, or too old."""
        if not session_id or len(session_id) > 128:
            return None
        found = self._live.get(session_id)
        if found is None:
            return None
        session, last = found
        now = self.clock()
        if now - last > IDLE_SECONDS or now - session.started > ABSOLUTE_SECONDS:
            del self._live[session_id]
            return None
        self._live[session_id] = (session, now)
        self._live.move_to_end(session_id)
        return session

    def end(self, session_id: str) -> None:
        self._live.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._live)
