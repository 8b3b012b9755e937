"""The records a mapping discarded: kept per mapping (the newest `MAX_FAILURES_KEPT`), and copied to the
mapping's on-failure destination table when it has one."""

from __future__ import annotations

import logging
from typing import Any

from ..clock import Clock
from .events import to_attribute_value
from .model import MappingConfig
from .state import FAILURE_KIND, StateStore, Tables

log = logging.getLogger(__name__)

MAX_FAILURES_KEPT = 100


class FailureLog:
    def __init__(self, state: StateStore, tables: Tables, clock: Clock) -> None:
        self.state = state
        self.tables = tables
        self.clock = clock

    async def record(self, mapping: MappingConfig, record: dict[str, Any]) -> None:
        request_id = record["requestContext"]["requestId"]
        key = f"{mapping.uuid}/{int(self.clock.now() * 1000):015d}-{request_id}"
        await self.state.put(FAILURE_KIND, key, record)
        kept = [k for k, _ in await self.state.list(FAILURE_KIND) if k.startswith(mapping.uuid + "/")]
        for old in sorted(kept)[:-MAX_FAILURES_KEPT]:
            await self.state.delete(FAILURE_KIND, old)
        if mapping.on_failure:
            table = mapping.on_failure  # the destination's ARN: found in its own namespace
            description = await self.tables.describe_table(table)
            if description is None:
                log.error("on-failure destination table %s is gone", table)
                return
            hash_key = description["KeySchema"][0]["AttributeName"]
            item = {name: to_attribute_value(value) for name, value in record.items()}
            item[hash_key] = {"S": request_id}
            await self.tables.put_item({"TableName": table, "Item": item})

    async def of(self, mapping_uuid: str) -> list[dict[str, Any]]:
        """The mapping's kept records, oldest first."""
        prefix = mapping_uuid + "/"
        return [doc for key, doc in sorted(await self.state.list(FAILURE_KIND)) if key.startswith(prefix)]
