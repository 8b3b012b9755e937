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
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry

from ..core.database import Database
from ..model.schema import TableSpec
from ..replication.service import ReplicationService
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
        for part in (self._requests, self._tables, self._streams, self._writer, self._triggers, self._links):
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
            cumulative, running = [], 0.0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                running += count
                cumulative.append((_bound(bound), running))
            total.add_metric([service, operation], running)
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
        yield from (written, shards)

    # -- the single writer

    def _writer(self) -> Iterator[Metric]:
        stats: Any = getattr(self.sources.db.storage, "stats", None)  # the core's writer (SQLite, PostgreSQL)
        if stats is None:
            return
        group = SummaryMetricFamily(
            "headwater_writer_group_size",
            "Operations per committed group (count: commits, sum: operations; their ratio is the mean size)",
            count_value=stats.commits,
            sum_value=stats.operations,
        )
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
        yield from (group, largest, failed, replays)
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
                cumulative, running = [], 0.0
                for bound, count in zip((*DURATION_BUCKETS, float("inf")), stats.buckets, strict=True):
                    running += count
                    cumulative.append((_bound(bound), running))
                duration.add_metric([*namespace, name], cumulative, stats.seconds)
            for runner in service.runners():
                if runner.iterator_age is not None:
                    config = runner.config
                    age.add_metric([*namespace, config.uuid, config.function_name], runner.iterator_age)
        yield from (invocations, errors, throttles, duration, age)

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


def _tables_of(db: Database) -> list[TableSpec]:
    """Every namespace's tables, in (account, region, name) order."""
    return sorted(db.catalog.every_table(), key=lambda t: (t.namespace.account, t.namespace.region, t.name))


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def registry(sources: Sources) -> CollectorRegistry:
    """The server's own registry (prometheus-client's global default is never used)."""
    owned = CollectorRegistry(auto_describe=False)
    owned.register(HeadwaterCollector(sources))
    return owned
