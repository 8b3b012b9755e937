"""An event source mapping at work: one task per readable shard, polling, filtering, batching,
invoking in order (per partition-key lane with ParallelizationFactor), retrying, bisecting, discarding
to the on-failure destination and checkpointing durably after every batch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..clock import Clock
from ..consumer import (
    CallTransport,
    ShardCheckpoint,
    ShardCursor,
    StreamsError,
    dialect_of,
    list_shards,
    ready_shards,
)
from .events import (
    created_at,
    failure_record,
    kinesis_filter_view,
    kinesis_lambda_record,
    lambda_record,
    partition_key,
)
from .filters import matches_any, parse_patterns
from .model import MappingConfig, iso_millis
from .notify import ChangeNotifier
from .pool import InvocationResult
from .state import CHECKPOINT_KIND, StateStore

log = logging.getLogger(__name__)

MAX_PAYLOAD = 6 * 1024 * 1024
THROTTLED = "PROBLEM: Function call throttled"  # Headwater's wording: no concurrency for the function
Invoke = Callable[[str, bytes], Awaitable[InvocationResult | None]]
Discard = Callable[[MappingConfig, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    poll_interval: float = 0.25  # each shard is polled about 4 times a second, like AWS
    retry_delay: float = 0.25  # first retry backoff, doubled up to max_retry_delay
    max_retry_delay: float = 10.0
    shard_refresh: float = 1.0  # how often new shards (rollover) are looked for


@dataclass(slots=True)
class Entry:
    record: dict[str, Any]
    body: bytes  # the record's JSON, serialised once
    seq: str
    prev_seq: str | None  # the record read just before it (filtered or not): checkpoint target
    lane: int
    created: float


@dataclass(slots=True)
class WindowState:
    start: int | None = None
    state: Any = field(default_factory=dict)


class MappingRunner:
    def __init__(
        self,
        config: MappingConfig,
        *,
        transport: CallTransport,
        state: StateStore,
        invoke: Invoke,
        discard: Discard,
        function_arn: Callable[[str], str],
        settings: RunnerSettings,
        clock: Clock,
        notifier: ChangeNotifier | None = None,
    ) -> None:
        self.notifier = notifier
        self.clock = clock  # batching windows, tumbling windows and record age; waits stay real
        self.config = config
        self.transport = transport
        self.state = state
        self.invoke = invoke
        self.discard = discard
        self.function_arn = function_arn
        self.settings = settings
        self.patterns = parse_patterns(config.filters)
        self.last_result = config.last_processing_result
        self.iterator_age: float | None = None  # seconds, as of the last batch handed to the function
        self.checkpoints: dict[str, ShardCheckpoint] = {}
        self._shards: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    @property
    def name(self) -> str:
        return self.config.uuid

    def update(self, config: MappingConfig) -> None:
        """Batching, retry and filter settings apply from the next batch on."""
        self.config = config
        self.patterns = parse_patterns(config.filters)

    async def _load(self) -> None:
        prefix = self.config.uuid + "/"
        for key, doc in await self.state.list(CHECKPOINT_KIND):
            if key.startswith(prefix):
                self.checkpoints[key[len(prefix) :]] = ShardCheckpoint.from_json(doc)

    async def run(self) -> None:
        await self._load()
        try:
            while True:
                try:
                    shards = await list_shards(self.transport, self.config.event_source_arn)
                except StreamsError as err:
                    self.last_result = f"PROBLEM: {err.message or err.code}"
                    await asyncio.sleep(self.settings.shard_refresh)
                    continue
                for shard in ready_shards(shards, self.checkpoints):
                    if shard.shard_id not in self._shards:
                        processor = ShardProcessor(self, shard.shard_id)
                        task = asyncio.get_running_loop().create_task(processor.run())
                        self._shards[shard.shard_id] = task
                for shard_id, task in list(self._shards.items()):
                    if task.done():
                        del self._shards[shard_id]
                        if not task.cancelled() and task.exception() is not None:
                            log.error("shard %s failed", shard_id, exc_info=task.exception())
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.shard_refresh)
        finally:
            for task in self._shards.values():
                task.cancel()
            if self._shards:
                await asyncio.gather(*self._shards.values(), return_exceptions=True)
            self._shards.clear()  # a restarted run starts every shard afresh

    def shard_finished(self) -> None:
        self._wake.set()

    async def save_checkpoint(
        self, shard_id: str, checkpoint: ShardCheckpoint, extra: dict[str, Any]
    ) -> None:
        self.checkpoints[shard_id] = checkpoint
        doc = checkpoint.to_json()
        doc.update(extra)
        await self.state.put(CHECKPOINT_KIND, f"{self.config.uuid}/{shard_id}", doc)


class ShardProcessor:
    def __init__(self, runner: MappingRunner, shard_id: str) -> None:
        self.runner = runner
        self.shard_id = shard_id
        self.buffer: deque[Entry] = deque()
        self.first_buffered_at = 0.0
        self.window = WindowState()
        self.saved: str | None = None

    @property
    def config(self) -> MappingConfig:
        return self.runner.config

    async def run(self) -> None:
        runner = self.runner
        start = runner.checkpoints.get(self.shard_id, ShardCheckpoint())
        doc = await runner.state.get(CHECKPOINT_KIND, f"{self.config.uuid}/{self.shard_id}") or {}
        if "window" in doc:
            self.window = WindowState(doc["window"].get("start"), doc["window"].get("state", {}))
        cursor = ShardCursor(
            runner.transport,
            self.config.event_source_arn,
            self.shard_id,
            start,
            "TRIM_HORIZON",
        )
        scanned = start.sequence_number
        self.saved = scanned
        while True:
            fetched = 0
            if not cursor.ended and len(self.buffer) < max(self.config.batch_size, 1000):
                try:
                    page = await cursor.next_page(1000)
                except StreamsError as err:
                    runner.last_result = f"PROBLEM: {err.message or err.code}"
                    await asyncio.sleep(self.runner.settings.poll_interval)
                    continue
                fetched = len(page.records)
                scanned = self._accept(page.records, scanned)
            now = self.runner.clock.now()
            if self.config.tumbling_window and await self._close_window_if_over(now):
                continue
            if self.buffer and self._ready(now, cursor.ended):
                await self._dispatch()
                await self._checkpoint(scanned)
                continue
            if not self.buffer:
                await self._checkpoint(scanned)
                if cursor.ended:
                    if self.config.tumbling_window and self.window.start is not None:
                        await self._final_invoke(terminated_early=False)
                    await runner.save_checkpoint(self.shard_id, ShardCheckpoint(scanned, True), {})
                    runner.shard_finished()
                    return
            if fetched == 0:
                await self._idle(self._sleep_time(now))

    def _accept(self, records: list[dict[str, Any]], scanned: str | None) -> str | None:
        config = self.config
        lanes = config.parallelization_factor
        arn = config.event_source_arn
        kinesis = dialect_of(arn).name == "kinesis"
        prev = scanned
        for raw in records:
            if kinesis:
                record = kinesis_lambda_record(raw, arn, self.shard_id)
                seq, view = str(raw["SequenceNumber"]), kinesis_filter_view(record)
            else:
                record = lambda_record(raw, arn)
                seq, view = str(raw["dynamodb"]["SequenceNumber"]), record
            if matches_any(self.runner.patterns, view):
                if not self.buffer:
                    self.first_buffered_at = self.runner.clock.now()
                lane = zlib.crc32(partition_key(record)) % lanes if lanes > 1 else 0
                self.buffer.append(Entry(record, orjson.dumps(record), seq, prev, lane, created_at(record)))
            prev = seq
        return prev

    def _ready(self, now: float, ended: bool) -> bool:
        config = self.config
        if ended or len(self.buffer) >= config.batch_size:
            return True
        if config.tumbling_window:
            start = self._window_of(self.buffer[0])
            if any(self._window_of(e) != start for e in self.buffer):
                return True
        if sum(len(e.body) for e in self.buffer) >= MAX_PAYLOAD:
            return True
        return now - self.first_buffered_at >= config.maximum_batching_window

    async def _idle(self, seconds: float) -> None:
        notifier = self.runner.notifier
        if notifier is None:
            await asyncio.sleep(seconds)
        else:
            await notifier.wait(seconds)

    def _sleep_time(self, now: float) -> float:
        poll = self.runner.settings.poll_interval
        if self.buffer and self.config.maximum_batching_window:
            remaining = self.first_buffered_at + self.config.maximum_batching_window - now
            return max(0.001, min(poll, remaining))
        return poll

    def _take(self) -> list[list[Entry]]:
        """The next batch of each lane (a prefix of that lane's records), removed from the buffer."""
        config = self.config
        taken: dict[int, list[Entry]] = {}
        sizes: dict[int, int] = {}
        closed: set[int] = set()
        keep: deque[Entry] = deque()
        window = self._window_of(self.buffer[0]) if config.tumbling_window else None
        for entry in self.buffer:
            lane = entry.lane
            batch = taken.setdefault(lane, [])
            fits = (
                lane not in closed
                and len(batch) < config.batch_size
                and sizes.get(lane, 0) + len(entry.body) + 64 <= MAX_PAYLOAD
                and (window is None or self._window_of(entry) == window)
            )
            if fits:
                batch.append(entry)
                sizes[lane] = sizes.get(lane, 0) + len(entry.body) + 1
            else:
                closed.add(lane)
                keep.append(entry)
        self.buffer = keep
        if keep:
            self.first_buffered_at = self.runner.clock.now()
        return [batch for batch in taken.values() if batch]

    async def _dispatch(self) -> None:
        batches = self._take()
        if self.config.tumbling_window:
            start = self._window_of(batches[0][0])
            if self.window.start is not None and start != self.window.start:
                await self._final_invoke(terminated_early=False)
            self.window.start = start
        if len(batches) == 1:
            await self._deliver(batches[0], 0)
        else:
            await asyncio.gather(*(self._deliver(batch, 0) for batch in batches))

    async def _checkpoint(self, scanned: str | None) -> None:
        target = self.buffer[0].prev_seq if self.buffer else scanned
        extra: dict[str, Any] = {}
        if self.config.tumbling_window and self.window.start is not None:
            extra["window"] = {"start": self.window.start, "state": self.window.state}
        if target is None or (target == self.saved and not extra):
            return
        await self.runner.save_checkpoint(self.shard_id, ShardCheckpoint(target), extra)
        self.saved = target

    # windows ------------------------------------------------------------------------------------

    def _window_of(self, entry: Entry) -> int:
        size = self.config.tumbling_window
        return int(entry.created // size * size)

    async def _close_window_if_over(self, now: float) -> bool:
        start = self.window.start
        if start is None or now < start + self.config.tumbling_window:
            return False
        if self.buffer and self._window_of(self.buffer[0]) == start:
            return False  # records of the window are still to be delivered
        await self._final_invoke(terminated_early=False)
        return True

    async def _final_invoke(self, *, terminated_early: bool) -> None:
        await self._invoke_until_done([], final=True, terminated_early=terminated_early)
        self.window = WindowState()
        extra: dict[str, Any] = {}
        if self.saved is not None:
            await self.runner.save_checkpoint(self.shard_id, ShardCheckpoint(self.saved), extra)

    def _payload(self, entries: list[Entry], *, final: bool = False, terminated_early: bool = False) -> bytes:
        records = b"[" + b",".join(e.body for e in entries) + b"]"
        if not self.config.tumbling_window:
            return b'{"Records":' + records + b"}"
        size = self.config.tumbling_window
        start = self.window.start if self.window.start is not None else 0
        extra = {
            "window": {"start": iso_seconds(start), "end": iso_seconds(start + size)},
            "state": self.window.state,
            "shardId": self.shard_id,
            "eventSourceARN": self.config.event_source_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }
        return b'{"Records":' + records + b"," + orjson.dumps(extra)[1:]

    async def _invoke_until_done(self, entries: list[Entry], *, final: bool, terminated_early: bool) -> None:
        """The final invocation of a window: retried like a batch, nothing to discard."""
        attempts = 0
        while True:
            result = await self.runner.invoke(
                self.config.function_name,
                self._payload(entries, final=final, terminated_early=terminated_early),
            )
            if result is not None and result.throttled:
                self.runner.last_result = THROTTLED
                continue  # not an attempt: Lambda retries throttles until the records expire
            if result is not None and result.function_error is None:
                self.runner.last_result = "OK"
                return
            attempts += 1
            limit = self.config.maximum_retry_attempts
            if limit != -1 and attempts > limit:
                return
            await asyncio.sleep(self._backoff(attempts))

    # delivery -----------------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> float:
        settings = self.runner.settings
        return float(min(settings.retry_delay * 2 ** max(0, attempts - 1), settings.max_retry_delay))

    async def _deliver(self, batch: list[Entry], attempts: int) -> None:
        """Returns once every record of `batch` is consumed: delivered, or discarded after the retry
        policy gave up (one failing record blocks its shard until then). The policy is re-read on
        every attempt, so UpdateEventSourceMapping applies to a batch already being retried."""
        invokes = 0
        last: InvocationResult | None = None
        while batch:
            config = self.config
            if config.maximum_record_age != -1:
                limit = self.runner.clock.now() - config.maximum_record_age
                expired = 0
                while expired < len(batch) and batch[expired].created < limit:
                    expired += 1
                if expired:
                    await self._discard(batch[:expired], "RecordAgeExceeded", invokes, last)
                    batch = batch[expired:]
                    continue
            # CloudWatch's IteratorAge: how old the batch's last record is when it is handed over
            self.runner.iterator_age = max(0.0, self.runner.clock.now() - batch[-1].created)
            result = await self.runner.invoke(config.function_name, self._payload(batch))
            if result is not None and result.throttled:
                self.runner.last_result = THROTTLED
                continue  # not an attempt: retried until the records expire or grow too old
            invokes += 1
            last = result
            failed_from = self._failed_from(batch, result)
            if failed_from is None:
                self.runner.last_result = "OK"
                if config.tumbling_window and result is not None:
                    self._carry_state(result)
                return
            self.runner.last_result = "PROBLEM: Function call failed"
            if failed_from > 0:
                batch = batch[failed_from:]  # records before the lowest failure succeeded
            if config.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                await self._deliver(batch[:half], attempts)
                await self._deliver(batch[half:], attempts)
                return
            attempts += 1
            limit = config.maximum_retry_attempts
            if limit != -1 and attempts > limit:
                await self._discard(batch, "RetryAttemptsExhausted", invokes, last)
                return
            await asyncio.sleep(self._backoff(attempts))

    def _failed_from(self, batch: list[Entry], result: InvocationResult | None) -> int | None:
        """None: the batch succeeded. Otherwise the index of the first record to retry from."""
        if result is None or result.function_error is not None:
            return 0
        if not self.config.report_batch_item_failures:
            return None
        try:
            response = orjson.loads(result.payload) if result.payload else None
        except orjson.JSONDecodeError:
            return None
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return None
        if not isinstance(failures, list):
            return 0
        index = {e.seq: i for i, e in enumerate(batch)}
        lowest = len(batch)
        for failure in failures:
            ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not ident or str(ident) not in index:
                return 0  # an empty or unknown identifier fails the whole batch
            lowest = min(lowest, index[str(ident)])
        return lowest

    def _carry_state(self, result: InvocationResult) -> None:
        try:
            response = orjson.loads(result.payload) if result.payload else None
        except orjson.JSONDecodeError:
            return
        if isinstance(response, dict) and "state" in response:
            self.window.state = response["state"] if response["state"] is not None else {}

    async def _discard(
        self, batch: list[Entry], condition: str, invokes: int, last: InvocationResult | None
    ) -> None:
        request_id = last.request_id if last is not None else _new_request_id()
        record = failure_record(
            request_id=request_id,
            function_arn=self.runner.function_arn(self.config.function_name),
            condition=condition,
            invoke_count=invokes,
            function_error=last.function_error if last is not None else None,
            shard_id=self.shard_id,
            stream_arn=self.config.event_source_arn,
            records=[e.record for e in batch],
            now=self.runner.clock.now(),
        )
        log.warning("mapping %s: %d records discarded (%s)", self.config.uuid, len(batch), condition)
        try:
            await self.runner.discard(self.config, record)
        except Exception:
            log.exception("mapping %s: on-failure destination failed", self.config.uuid)


def iso_seconds(epoch: float) -> str:
    return iso_millis(epoch)[:-5] + "Z"


def _new_request_id() -> str:
    import uuid

    return str(uuid.uuid4())
