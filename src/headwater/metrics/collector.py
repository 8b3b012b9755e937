"""One prometheus-client Collector for the whole server, read at scrape time.

Nothing here runs on the request path: requests are counted in plain numbers (requests.py), tables'
items and bytes are the storage's own counters (the ones DescribeTable reports), the writer's are its
`stats`, functions' are their invoker's `InvocationStats`, links' their `LinkStats`. `registry` gives a
CollectorRegistry of the server's own (never prometheus-client's global one).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from ..core.database import Database
from ..model.schema import TableSpec
from ..replication.service import ReplicationService
from ..storage.group_commit import COMMIT_BUCKETS, GROUP_SIZE_BUCKETS, WriterLoad
from ..triggers.namespaces import TriggerServices
from ..triggers.stats import DURATION_BUCKETS
from .requests import LATENCY_BUCKETS, FrontTotals, Key, RequestCounts, added, histograms, of_kind

NAMESPACE_LABELS = ["account", "region"]


def process_counts(counts: RequestCounts, db: Database) -> dict[Key, float]:
    """This process's plain counts: its requests and the stream records its GetRecords returned."""
    flat = counts.flat()
    flat["records_read", "dynamodbstreams"] = db.streams.reads.records
    flat["records_read", "kinesis"] = db.kinesis.reads.records
    return flat


@dataclass(frozen=True, slots=True)
class Sources:
    """What the core process reads its metrics from."""

    counts: RequestCounts
    fronts: FrontTotals
    db: Database
    triggers: TriggerServices | None = None
    replication: ReplicationService | None = None


class HeadwaterCollector(Collector):
    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterable[Metric]:
        parts = (self._requests, self._tables, self._streams, self._writer, self._triggers, self._links)
        for part in (*parts, self._progress, self._consumed):
            yield from part()
        yield from self._dax()

    # -- the request path (this process and the fronts)

    def _requests(self) -> Iterator[Metric]:
        sources = self.sources
        flat = added(process_counts(sources.counts, sources.db), sources.fronts.totals)
        total = CounterMetricFamily(
            "headwater_requests",
            "API calls answered, by service and operation",
            labels=["service", "operation"],
        )
        latency = HistogramMetricFamily(
            "headwater_request_duration_seconds",
            "Time from a call's headers read to its answer, by service and operation",
            labels=["service", "operation"],
        )
        for service, operation, counts, seconds in histograms(flat):
            cumulative = _cumulative(LATENCY_BUCKETS, counts)
            total.add_metric([service, operation], cumulative[-1][1])
            latency.add_metric([service, operation], cumulative, seconds)
        errors = CounterMetricFamily(
            "headwater_request_errors",
            "API calls answered with an error, by service, operation and error type",
            labels=["service", "operation", "error_type"],
        )
        for labels, value in of_kind(flat, "errors"):
            errors.add_metric(list(labels), value)
        read = CounterMetricFamily(
            "headwater_stream_records_read",
            "Records returned by GetRecords (DynamoDB Streams', Kinesis')",
            labels=["service"],
        )
        for labels, value in of_kind(flat, "records_read"):
            read.add_metric(list(labels), value)
        yield from (total, latency, errors, read)

    # -- tables and streams, from the storage's counters

    def _tables(self) -> Iterator[Metric]:
        db = self.sources.db
        labels = [*NAMESPACE_LABELS, "table"]
        items = GaugeMetricFamily("headwater_table_items", "Items in a table", labels=labels)
        size = GaugeMetricFamily(
            "headwater_table_size_bytes", "DynamoDB item bytes in a table", labels=labels
        )
        for table in _tables_of(db):
            count, total = db.storage.counters(table.table_id)
            names = [table.namespace.account, table.namespace.region, table.name]
            items.add_metric(names, count)
            size.add_metric(names, total)
        yield from (items, size)

    def _streams(self) -> Iterator[Metric]:
        db = self.sources.db
        written = CounterMetricFamily(
            "headwater_stream_records_written",
            "Records appended to the shard log since the database was created (DynamoDB stream records, "
            "Kinesis records and shard markers: every one takes the next sequence number)",
        )
        written.add_metric([], db.storage.last_sequence())
        shards = GaugeMetricFamily(
            "headwater_stream_open_shards",
            "Open shards of a table's current stream",
            labels=[*NAMESPACE_LABELS, "table"],
        )
        streams = db.streams
        for table in _tables_of(db):
            if table.stream_id is None or not table.stream.enabled:
                continue
            doc = streams.doc(table.stream_id)
            if doc is None:
                continue
            open_shards = sum(1 for shard in streams.shards(doc) if shard.closed_at is None)
            shards.add_metric([table.namespace.account, table.namespace.region, table.name], open_shards)
        kinesis = GaugeMetricFamily(
            "headwater_kinesis_open_shards",
            "Open shards of a Kinesis data stream",
            labels=[*NAMESPACE_LABELS, "stream"],
        )
        for stream in sorted(db.kinesis.every_stream(), key=lambda d: d.arn):
            _, _, _, region, account, _ = stream.arn.split(":", 5)  # arn:aws:kinesis:REGION:ACCOUNT:...
            kinesis.add_metric([account, region, stream.name], len(stream.open))
        yield from (written, shards, kinesis)

    # -- the single writer

    def _writer(self) -> Iterator[Metric]:
        stats: Any = getattr(self.sources.db.storage, "stats", None)  # the core's writer (SQLite, PostgreSQL)
        if stats is None:
            return
        load: WriterLoad | None = getattr(self.sources.db.storage, "load", None)
        if load is not None:
            yield from _writer_load(load, stats.operations)
        largest = GaugeMetricFamily(
            "headwater_writer_largest_group",
            "The most operations one group has committed",
            value=stats.largest_group,
        )
        failed = CounterMetricFamily(
            "headwater_writer_failed_commits", "Groups whose transaction failed", value=stats.failed_commits
        )
        replays = CounterMetricFamily(
            "headwater_writer_replays",
            "Groups run again without the operation whose writes could not be made",
            value=stats.replays,
        )
        yield from (largest, failed, replays)
        reconnects = getattr(stats, "reconnects", None)  # PostgreSQL's writer
        if reconnects is not None:
            yield CounterMetricFamily(
                "headwater_writer_reconnects",
                "Times the writer connected to PostgreSQL again",
                value=reconnects,
            )

    # -- triggers

    def _triggers(self) -> Iterator[Metric]:
        services = self.sources.triggers
        if services is None:
            return
        labels = [*NAMESPACE_LABELS, "function"]
        invocations = CounterMetricFamily(
            "headwater_function_invocations", "Handler runs of a function", labels=labels
        )
        errors = CounterMetricFamily(
            "headwater_function_errors", "Handler runs that ended in a function error", labels=labels
        )
        throttles = CounterMetricFamily(
            "headwater_function_throttles",
            "Invocations refused or held back for want of concurrency",
            labels=labels,
        )
        duration = HistogramMetricFamily(
            "headwater_function_duration_seconds", "How long a handler ran", labels=labels
        )
        age = GaugeMetricFamily(
            "headwater_event_source_mapping_iterator_age_seconds",
            "Age of the last record of the last batch a mapping handed to its function (CloudWatch's "
            "IteratorAge)",
            labels=[*NAMESPACE_LABELS, "uuid", "function"],
        )
        for service in services.all():
            namespace = [service.settings.account_id, service.settings.region]
            for name, stats in sorted(service.invoker.stats.functions.items()):
                invocations.add_metric([*namespace, name], stats.invocations)
                errors.add_metric([*namespace, name], stats.errors)
                throttles.add_metric([*namespace, name], stats.throttles)
                cumulative = _cumulative(DURATION_BUCKETS, stats.buckets)
                duration.add_metric([*namespace, name], cumulative, stats.seconds)
            for runner in service.runners():
                if runner.iterator_age is not None:
                    config = runner.config
                    age.add_metric([*namespace, config.uuid, config.function_name], runner.iterator_age)
        yield from (invocations, errors, throttles, duration, age)

    # -- long jobs (core/progress.py)

    def _progress(self) -> Iterator[Metric]:
        progress = self.sources.db.progress
        labels = [*NAMESPACE_LABELS, "table", "index"]
        done = GaugeMetricFamily(
            "headwater_index_backfill_items_done",
            "Items of the table a new global secondary index's backfill has gone through",
            labels=labels,
        )
        total = GaugeMetricFamily(
            "headwater_index_backfill_items_total",
            "Items in the table when the backfill started",
            labels=labels,
        )
        for key, count in sorted(progress.backfills.counts.items()):
            done.add_metric(list(key), count.done)
            if count.total is not None:
                total.add_metric(list(key), count.total)
        exported = GaugeMetricFamily(
            "headwater_export_items_done", "Items an export has written", labels=["export_arn"]
        )
        expected = GaugeMetricFamily(
            "headwater_export_items_total",
            "Items in the table when an export of it as it is now started (none for an export of an "
            "earlier instant, whose count is known only once it is done)",
            labels=["export_arn"],
        )
        for arn, count in sorted(progress.exports.counts.items()):
            exported.add_metric([arn], count.done)
            if count.total is not None:
                expected.add_metric([arn], count.total)
        yield from (done, total, exported, expected)

    # -- global tables' replication links

    def _links(self) -> Iterator[Metric]:
        replication = self.sources.replication
        if replication is None:
            return
        labels = ["account", "table", "source_region", "target_region"]
        applied = CounterMetricFamily(
            "headwater_replication_applied", "Changes a link applied (they won)", labels=labels
        )
        skipped = CounterMetricFamily(
            "headwater_replication_skipped",
            "Changes a link skipped (an equal or later change was there)",
            labels=labels,
        )
        latency = GaugeMetricFamily(
            "headwater_replication_latency_seconds",
            "From the last applied change's write in its source region to its apply here",
            labels=labels,
        )
        for link, (runner, _) in sorted(replication.links.items(), key=lambda entry: str(entry[0])):
            names = [link.account, link.table, link.source, link.target]
            applied.add_metric(names, runner.stats.applied)
            skipped.add_metric(names, runner.stats.skipped)
            if runner.stats.latency is not None:
                latency.add_metric(names, runner.stats.latency)
        yield from (applied, skipped, latency)

    def _consumed(self) -> Iterator[Metric]:
        """Capacity units the tables consumed (CloudWatch's ConsumedRead/WriteCapacityUnits), counted
        only when the server meters usage (--meter-usage or --enforce-capacity: it costs per request)."""
        usage = self.sources.db.usage
        if usage is None:
            return
        labels = [*NAMESPACE_LABELS, "table"]
        families = [
            CounterMetricFamily(
                f"headwater_consumed_{kind}_capacity_units",
                f"Capacity units the table's {kind}s consumed (ConsumedCapacity's table part)",
                labels=labels,
            )
            for kind in ("read", "write")
        ]
        for where, units in sorted(usage.totals.items()):
            for family, value in zip(families, units, strict=True):
                family.add_metric(list(where), value)
        yield from families

    def _dax(self) -> Iterator[Metric]:
        """Each DAX cluster's item and query caches, since the cluster's first request."""
        labels = ["cluster", "cache"]
        families = {
            kind: CounterMetricFamily(f"headwater_dax_cache_{kind}", f"DAX cache {kind}", labels=labels)
            for kind in ("hits", "misses", "evictions")
        }
        entries = GaugeMetricFamily("headwater_dax_cache_entries", "Entries a DAX cache holds", labels=labels)
        for arn, caches in sorted(self.sources.db.dax_runtime.caches.items()):
            for name, cache in (("item", caches.items), ("query", caches.queries)):
                families["hits"].add_metric([arn, name], cache.counts.hits)
                families["misses"].add_metric([arn, name], cache.counts.misses)
                families["evictions"].add_metric([arn, name], cache.counts.evictions)
                entries.add_metric([arn, name], len(cache))
        yield from (*families.values(), entries)


def _writer_load(load: WriterLoad, operations: int) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "headwater_writer_queue_depth",
        "Write operations submitted to the single writer and not yet in a group",
        value=load.queued,
    )
    group = HistogramMetricFamily(
        "headwater_writer_group_size",
        "Operations per committed group (group commit: more than one is several writes in one transaction)",
    )
    group.add_metric([], _cumulative(GROUP_SIZE_BUCKETS, load.group_sizes), float(operations))
    yield group
    latency = HistogramMetricFamily(
        "headwater_writer_commit_duration_seconds",
        "From a group's start to its callers' answers: its transaction, COMMIT and durability (SQLite: the "
        "WAL fsynced), by storage backend",
        labels=["backend"],
    )
    latency.add_metric([load.backend], _cumulative(COMMIT_BUCKETS, load.commit_buckets), load.commit_seconds)
    yield latency


def _cumulative(bounds: tuple[float, ...], counts: Iterable[float]) -> list[tuple[str, float]]:
    """Prometheus' cumulative buckets from a count per bucket (`bounds`, then +Inf)."""
    out, running = [], 0.0
    for bound, count in zip((*bounds, float("inf")), counts, strict=True):
        running += count
        out.append((_bound(bound), running))
    return out


def _tables_of(db: Database) -> list[TableSpec]:
    """Every namespace's tables, in (account, region, name) order."""
    return sorted(db.catalog.every_table(), key=lambda t: (t.namespace.account, t.namespace.region, t.name))


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


def registry(sources: Sources) -> CollectorRegistry:
    """The server's own registry (prometheus-client's global default is never used)."""
    owned = CollectorRegistry(auto_describe=False)
    owned.register(HeadwaterCollector(sources))
    return owned
