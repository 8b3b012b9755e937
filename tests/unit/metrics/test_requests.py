"""The request counts: what observe keeps, how a front's snapshots add up in the core."""

from __future__ import annotations

from headwater.metrics.requests import (
    LATENCY_BUCKETS,
    FrontTotals,
    RequestCounts,
    decode,
    encode,
    histograms,
    of_kind,
)


def test_observe_counts_each_call_in_its_bucket_and_errors_by_type() -> None:
    counts = RequestCounts()
    counts.observe("dynamodb", "PutItem", 0.0003, None)
    counts.observe("dynamodb", "PutItem", 0.002, "ConditionalCheckFailedException")
    counts.observe("dynamodb", "PutItem", 99.0, None)  # past the last bound: +Inf
    [(service, operation, buckets, total)] = list(histograms(counts.flat()))
    assert (service, operation) == ("dynamodb", "PutItem")
    assert buckets[0] == 1 and buckets[LATENCY_BUCKETS.index(0.0025)] == 1 and buckets[-1] == 1
    assert sum(buckets) == 3 and total == 0.0003 + 0.002 + 99.0
    assert list(of_kind(counts.flat(), "errors")) == [
        (("dynamodb", "PutItem", "ConditionalCheckFailedException"), 1)
    ]


def test_a_bound_belongs_to_its_own_bucket() -> None:
    """Prometheus buckets are `le`: a call of exactly 1 ms is in the 1 ms bucket."""
    counts = RequestCounts()
    counts.observe("dynamodb", "GetItem", 0.001, None)
    [(_, _, buckets, _)] = list(histograms(counts.flat()))
    assert buckets[LATENCY_BUCKETS.index(0.001)] == 1


def test_snapshots_travel_as_bytes() -> None:
    counts = RequestCounts()
    counts.observe("dynamodbstreams", "GetRecords", 0.01, "TrimmedDataAccessException")
    assert decode(encode(counts.flat())) == counts.flat()


def test_front_totals_add_what_grew_and_never_go_down() -> None:
    totals = FrontTotals()
    key = ("errors", "dynamodb", "PutItem", "ValidationException")
    totals.merge("0", 100, {key: 2.0})
    totals.merge("0", 100, {key: 2.0})  # the same snapshot again: nothing new
    totals.merge("1", 101, {key: 5.0})
    totals.merge("0", 100, {key: 3.0})
    assert totals.totals[key] == 2 + 5 + 1
    totals.merge("1", 102, {key: 7.0})  # front 1 started again (a new process): added whole
    assert totals.totals[key] == 15
