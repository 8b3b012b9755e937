"""The second half of UpdateTable's replica Delete and Update, done by the replication service, as AWS
does them: the request marks the replica DELETING or UPDATING in every replica of this server and
answers; this carries the change out and the mark goes away. The mark is in the catalog, so a change
cut short (a crash, the replica's server down) is carried out again on the next pass: every step can be
done twice."""

from __future__ import annotations

import contextlib
import logging

from ..core.database import Database
from ..core.replicas import PENDING, group, with_replica, without_replica
from ..core.tables import delete_table
from ..errors import ResourceNotFoundException, ValidationException
from ..model.namespace import Namespace
from ..model.schema import ReplicaSpec, TableSpec
from .peers import Peers

log = logging.getLogger(__name__)


async def finish(db: Database, peers: Peers, table: TableSpec, region: str) -> None:
    """Carry out the DELETING or UPDATING that `table` lists for `region`'s replica."""
    replica = table.replica(region)
    if replica is None:
        return
    if replica.status == "DELETING":
        await _remove(db, peers, table, region)
    elif replica.status == "UPDATING":
        await _updated(db, peers, table, region)


async def _remove(db: Database, peers: Peers, table: TableSpec, region: str) -> None:
    if peers.is_remote(region):  # its server's DeleteTable takes it out of the group there
        with contextlib.suppress(ResourceNotFoundException):
            await peers.call(region, "DeleteTable", {"TableName": table.name})
    await peers.tell(table, {"Remove": region}, but=region)
    async with db.catalog.lock:
        current = db.scoped(table.namespace).catalog.latest(table)
        if current is None:
            return
        for spec in (current, *group(db, current)):
            if spec.namespace.region != region and spec.replica(region) is not None:
                await db.scoped(spec.namespace).catalog.save(without_replica(spec, region))
        target_db = db.scoped(Namespace(table.namespace.account, region))
        target = target_db.catalog.get(table.name)
        if target is not None and target.status != "DELETING":
            await delete_table(target_db, target.evolve(replicas=()))


async def _updated(db: Database, peers: Peers, table: TableSpec, region: str) -> None:
    """Send the settings changes pending for the replica to its server, in order; ACTIVE again once
    none is left (a change made meanwhile is sent on the next pass)."""
    scoped = db.scoped(table.namespace)
    current = scoped.catalog.latest(table)
    mine = current.replica(region) if current is not None else None
    if mine is None or mine.status != "UPDATING":
        return
    pending = list(mine.settings.get(PENDING, ()))
    if pending and peers.is_remote(region):
        arn = Namespace(table.namespace.account, region).arn("dynamodb", f"table/{table.name}")
        for change in pending:
            try:
                await peers.admin(region, "settings", {"TableArn": arn, **change})
            except ValidationException as err:  # refused there: sending it again would not help
                log.warning("replication: %s in %s refused %s: %s", table.name, region, sorted(change), err)
    async with db.catalog.lock:
        current = scoped.catalog.latest(table)
        mine = current.replica(region) if current is not None else None
        if current is None or mine is None or mine.status != "UPDATING":
            return
        left = list(mine.settings.get(PENDING, ()))[len(pending) :]
        settings = {k: v for k, v in mine.settings.items() if k != PENDING}
        if left:
            settings[PENDING] = left
        again = ReplicaSpec(region, "UPDATING" if left else "ACTIVE", settings)
        await scoped.catalog.save(with_replica(current, again))
