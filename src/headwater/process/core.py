"""The core process's side of the channel: API calls and control-route requests from the fronts, carried
out here, where the single writer, the trigger service and the background work live."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..core.namespace import Namespace
from ..http.calls import LocalCalls
from ..http.messages import Handler
from ..metrics.requests import FrontTotals, decode
from ..protocol.wire import parse_json
from . import channel
from .frames import CALL, HTTP, METRICS, READY, request_of, response_fields


class CoreEndpoint:
    def __init__(self, calls: LocalCalls, control: Handler, fronts: FrontTotals) -> None:
        self.calls = calls
        self.control = control
        self.fronts = fronts  # what the fronts' requests add to /metrics
        self.ready = 0  # fronts that said they serve
        self.ready_changed = asyncio.Event()

    async def handle(self, kind: int, fields: list[bytes]) -> tuple[int, Sequence[bytes]]:
        if kind == CALL:
            account, region, service, operation, body = fields
            namespace = Namespace(account.decode(), region.decode())
            # the front has parsed and validated the body; this parse is ~1 us for an item write
            status, payload = await self.calls.run(
                namespace, service.decode(), operation.decode(), parse_json(body), body
            )
            return status, [payload]
        if kind == HTTP:
            return response_fields(await self.control(request_of(fields)))
        if kind == METRICS:
            front, pid, snapshot = fields
            self.fronts.merge(front.decode(), int(pid), decode(snapshot))
            return 200, []
        if kind == READY:
            self.ready += 1
            self.ready_changed.set()
            return 200, []
        return 400, [b"unknown frame kind"]

    async def serve(self, path: str) -> asyncio.AbstractServer:
        return await channel.serve(path, self.handle)
