"""The server's replication: one link per (source region, target region of this server) of every global
table, started and stopped as the catalog says, and the backfill of each new replica. Owned by the
composition root (`start()` on startup, `stop()` on shutdown), like the sinks.

The links are derived from the catalog, never stored: a table of this server lists the other regions'
replicas, and each of those is a source to follow. Only checkpoints are stored (as storage
metadata, committed with the changes they follow), so a restart resumes every link where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from ..consumer import CallTransport
from ..core.catalog import MetaOp
from ..core.database import Database
from ..core.replicas import SOURCE, group, stream_arn, with_replica
from ..model.namespace import Namespace
from ..model.schema import ReplicaSpec, TableSpec
from ..storage.base import MetaWrite
from ..triggers.notify import ChangeNotifier
from .backfill import copy_items, copy_remote_items
from .link import CHECKPOINT_KIND, LinkId, LinkRunner
from .peers import Peers
from .replica_changes import finish

log = logging.getLogger(__name__)

BACKFILL_RETRY = 2.0  # seconds after a failed backfill (e.g. the source's server down) before the next


class ReplicationService:
    def __init__(
        self,
        db: Database,
        *,
        transport: CallTransport,
        peers: Peers | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        self.db = db
        self.transport = transport  # this server's streams, in-process
        self.peers = peers or Peers(db.settings)  # other servers' regions, over HTTP
        self.poll_interval = poll_interval
        self.links: dict[LinkId, tuple[LinkRunner, asyncio.Task[None]]] = {}
        self._backfills: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        # replicas DELETING or UPDATING, by (account, table, region, status): being carried out
        self._changes: dict[tuple[str, str, str, str], asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._commits: ChangeNotifier | None = None  # wakes the links of this server's regions
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._commits = ChangeNotifier(loop)
        self._unsubscribe = self.db.storage.on_commit(self._commits.changed)
        self._task = loop.create_task(self._supervise(), name="replication")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = [t for t in (self._task, *self._backfills.values(), *self._changes.values()) if t is not None]
        tasks.extend(task for _, task in self.links.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.links.clear()
        self._backfills.clear()
        self._changes.clear()
        await self.peers.close()

    async def _supervise(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:
                log.exception("replication: reconciling the links failed")
            await asyncio.sleep(self.poll_interval)

    def _desired(self) -> dict[LinkId, TableSpec]:
        desired: dict[LinkId, TableSpec] = {}
        for table in self.db.catalog.every_table():
            if table.status == "DELETING":
                continue
            for replica in table.replicas:
                if replica.status == "DELETING":  # being removed: nothing more is taken from it
                    continue
                ns = table.namespace
                desired[LinkId(ns.account, table.name, replica.region, ns.region)] = table
        return desired

    def _start_changes(self) -> None:
        """A task for each replica some table of this server lists as DELETING or UPDATING."""
        for table in self.db.catalog.every_table():
            if table.status == "DELETING":
                continue
            for replica in table.replicas:
                key = (table.namespace.account, table.name, replica.region, replica.status)
                if replica.status in ("DELETING", "UPDATING") and key not in self._changes:
                    task = asyncio.get_running_loop().create_task(self._change(table, replica.region, key))
                    self._changes[key] = task

    async def _change(self, table: TableSpec, region: str, key: tuple[str, str, str, str]) -> None:
        try:
            await finish(self.db, self.peers, table, region)
        except Exception:  # e.g. the replica's server down: the mark stays, and the next pass tries again
            log.exception("replication: the %s replica of %s in %s failed", key[3], table.name, region)
            await asyncio.sleep(BACKFILL_RETRY)
        finally:
            self._changes.pop(key, None)

    async def reconcile(self) -> None:
        self._start_changes()
        desired = self._desired()
        for link in [link for link in self.links if link not in desired]:
            _runner, task = self.links.pop(link)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await self._forget(link)
        for link, table in desired.items():
            entry = self.links.get(link)
            if entry is None or entry[1].done():
                self._start_link(link)
            key = (link.account, link.table, link.target)
            if table.status == "CREATING" and SOURCE in table.extra and key not in self._backfills:
                self._backfills[key] = asyncio.get_running_loop().create_task(self._backfill(table, key))

    def _start_link(self, link: LinkId) -> None:
        transport: CallTransport
        commits = None  # another server's commits are not seen here: its links poll
        if self.peers.is_remote(link.source):
            transport = self.peers.transport(link.source)

            async def arn() -> str | None:
                described = await self.peers.call(link.source, "DescribeTable", {"TableName": link.table})
                table = described["Table"]
                if table.get("TableStatus") == "ACTIVE":
                    await self._remote_active(link)
                found = table.get("LatestStreamArn")
                return str(found) if found else None

        else:
            transport = self.transport
            commits = self._commits
            source_db = self.db.scoped(Namespace(link.account, link.source))

            async def arn() -> str | None:
                table = source_db.catalog.get(link.table)
                return stream_arn(table) if table is not None and table.status != "DELETING" else None

        runner = LinkRunner(
            link,
            self.db,
            transport=transport,
            stream_arn=arn,
            poll_interval=self.poll_interval,
            commits=commits,
        )
        task = asyncio.get_running_loop().create_task(runner.run(), name=f"replication-{link}")
        self.links[link] = (runner, task)

    async def _forget(self, link: LinkId) -> None:
        prefix = f"{link}/"
        stored = self.db.storage.meta_list(CHECKPOINT_KIND)
        gone = tuple(MetaWrite(CHECKPOINT_KIND, key, None) for key, _ in stored if key.startswith(prefix))
        if gone:
            await self.db.storage.write(MetaOp(gone))

    async def _backfill(self, table: TableSpec, key: tuple[str, str, str]) -> None:
        try:
            await self._copy(table)
        except Exception:
            log.exception("replication: the backfill of %s in %s failed", table.name, table.namespace.region)
            await asyncio.sleep(BACKFILL_RETRY)  # then reconcile starts it again (the copy is idempotent)
        finally:
            self._backfills.pop(key, None)

    async def _copy(self, table: TableSpec) -> None:
        """Copy the source replica's items, wait until the link from it has caught up, then ACTIVE."""
        origin = str(table.extra[SOURCE])
        started = time.monotonic()
        if self.peers.is_remote(origin):
            copied = await copy_remote_items(self.db, self.peers, origin, table)
        else:
            source = self.db.scoped(Namespace(table.namespace.account, origin)).catalog.get(table.name)
            if source is None:
                log.warning("replication: the source of %s in %s is gone", table.name, table.namespace.region)
                return
            copied = await copy_items(self.db, source, table)
        link = LinkId(table.namespace.account, table.name, origin, table.namespace.region)
        # an empty pass of the link from the source, begun after the copy: it has read what was written
        # meanwhile
        while (entry := self.links.get(link)) is None:
            await asyncio.sleep(self.poll_interval)
        begun = entry[0].stats.passes + 1
        while not (entry[0].stats.passes > begun and entry[0].stats.caught_up):
            await asyncio.sleep(self.poll_interval)
        await self._activate(table)
        log.info(
            "replication: replica of %s in %s is ACTIVE (%d items and deletes copied in %.1f s)",
            table.name,
            table.namespace.region,
            copied,
            time.monotonic() - started,
        )

    async def _remote_active(self, link: LinkId) -> None:
        """The source replica on another server says ACTIVE: so does this region's table of it."""
        db = self.db.scoped(Namespace(link.account, link.target))
        table = db.catalog.get(link.table)
        mine = table.replica(link.source) if table is not None else None
        if table is None or mine is None or mine.status != "CREATING":
            return
        async with db.catalog.lock:
            current = db.catalog.latest(table)
            mine = current.replica(link.source) if current is not None else None
            if current is not None and mine is not None and mine.status == "CREATING":
                activated = ReplicaSpec(link.source, "ACTIVE", mine.settings)
                await db.catalog.save(with_replica(current, activated))

    async def _activate(self, table: TableSpec) -> None:
        region = table.namespace.region
        db = self.db.scoped(table.namespace)
        async with db.catalog.lock:
            current = db.catalog.latest(table)
            if current is None or current.status != "CREATING":
                return
            extra = {k: v for k, v in current.extra.items() if k != SOURCE}
            current = current.evolve(status="ACTIVE", extra=extra)
            await db.catalog.save(current)
            for peer in group(self.db, current):
                mine = peer.replica(region)
                if mine is not None and mine.status == "CREATING":
                    activated = ReplicaSpec(region, "ACTIVE", mine.settings)
                    await self.db.scoped(peer.namespace).catalog.save(with_replica(peer, activated))

    def status(self) -> list[dict[str, Any]]:
        """Each link's progress, for `headwater replicas status` and the admin route."""
        out = []
        for link, (runner, task) in sorted(self.links.items(), key=lambda e: str(e[0])):
            stats = runner.stats
            out.append(
                {
                    "Link": str(link),
                    "TableName": link.table,
                    "SourceRegion": link.source,
                    "TargetRegion": link.target,
                    "Applied": stats.applied,
                    "Skipped": stats.skipped,
                    "ReplicationLatencySeconds": stats.latency,
                    "CaughtUp": stats.caught_up,
                    "Passes": stats.passes,
                    "LastError": stats.last_error,
                    "Running": not task.done(),
                }
            )
        return out
