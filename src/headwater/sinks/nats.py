"""Publishing to NATS JetStream with nats-py: the message id (`Nats-Msg-Id`) is the record's eventID, so
JetStream drops a record published twice within its duplicate window (2 minutes by default)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0


class Publisher(Protocol):
    async def publish(self, subject: str, payload: bytes, msg_id: str) -> None:
        """Return once the target has stored the message; raise if it did not."""
        ...

    async def close(self) -> None: ...


class NatsPublisher:
    """One connection per sink, reconnecting for ever; the JetStream stream for the subject is created
    (named after the sink) when none covers it."""

    def __init__(self, url: str, stream_name: str) -> None:
        self._url = url
        self._stream_name = stream_name
        self._nc: Any = None
        self._js: Any = None

    async def _jetstream(self, subject: str) -> Any:
        """The JetStream context; once connected the client reconnects by itself (a publish meanwhile
        times out and is retried by the runner)."""
        if self._js is not None:
            return self._js
        import nats  # the optional `nats` extra
        from nats.js.errors import NotFoundError

        await self.close()
        # the first connection is tried once (the runner retries); after it, reconnection never gives up
        self._nc = await asyncio.wait_for(
            nats.connect(
                self._url,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.2,
                connect_timeout=2,
                name="headwater-sink",
            ),
            CONNECT_TIMEOUT,
        )
        js = self._nc.jetstream()
        try:
            await js.find_stream_name_by_subject(subject)
        except NotFoundError:
            await js.add_stream(name=self._stream_name, subjects=[subject])
        self._js = js
        return js

    async def publish(self, subject: str, payload: bytes, msg_id: str) -> None:
        try:
            js = await self._jetstream(subject)
        except BaseException:
            await self.close()
            raise
        headers = {"Nats-Msg-Id": msg_id}
        await asyncio.wait_for(
            js.publish(subject, payload, timeout=PUBLISH_TIMEOUT, headers=headers), PUBLISH_TIMEOUT + 1
        )

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            try:
                await asyncio.wait_for(nc.close(), CONNECT_TIMEOUT)
            except Exception:
                log.debug("closing a NATS connection failed", exc_info=True)
