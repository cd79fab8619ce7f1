"""PostHog batch shipper: a bounded queue, one lazy worker thread, retries, a spool (SPEC §2.5–§2.7, D5, D17).

The caller's thread does the least it can: it takes the capture time, draws the random half of a
UUIDv7 and calls `put_nowait`. Serialisation, stamping, validation and I/O happen on the worker,
so `capture()` never blocks on the network and never raises.

With a spool (`multica.analytics.spool`), nothing the queue cannot hold is lost: an event that
finds the queue full goes into an in-memory overflow list (still no I/O for the caller), a second
background thread writes that list, batches whose retries ran out and what `close()` could not
send to the spool's segment files, and the worker replays the spool — between live batches —
as soon as PostHog answers again.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import random
import threading
import time
import weakref
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

import orjson

from multica.analytics.environment import non_agent_user_id
from multica.analytics.event import Event
from multica.analytics.spool import Segment, Spool
from multica.analytics.transport import BatchConnection
from multica.config import DEFAULT_POSTHOG_HOST

logger = logging.getLogger("multica.analytics")

DEFAULT_QUEUE_SIZE = 1024
DEFAULT_BATCH_SIZE = 64
DEFAULT_FLUSH_INTERVAL = 10.0
DEFAULT_TIMEOUT = 5.0
DEFAULT_SHUTDOWN_TIMEOUT = 5.0
DEFAULT_MAX_RETRIES = 5
MAX_EVENT_BYTES = 900 * 1024
SCHEMA_VERSION = 2
# Events waiting in memory for the spool thread. The thread writes tens of thousands a second, so
# this only fills when the disk is far slower than the callers; past it events are dropped.
OVERFLOW_LIMIT = 262_144
# Of the shutdown budget, what the spool thread keeps for writing what the worker could not send.
SPOOL_RESERVE = 0.5
# Of the shutdown budget, what close() keeps for joining threads and logging after the worker stops.
CLOSE_MARGIN = 0.05
# While the sink is failing, how often the spool thread moves queued events to the disk, and how
# long the worker waits before it tries the spool against the sink again (doubling up to the cap).
SPOOL_POLL = 0.1
# How long the spool thread gathers events before a write (one fsync each): the longest an event
# that found the queue full stays in memory only.
SPOOL_COALESCE = 0.05
REPLAY_BACKOFF = 1.0
# Replayed events are already serialised, so they go in bigger requests than live batches: the
# per-request cost (about 0.1 ms of CPU) is what bounds the replay rate.
REPLAY_BATCH_SIZE = 500
REPLAY_BACKOFF_CAP = 30.0

_HEADERS = {"Content-Type": "application/json", "User-Agent": "multica-analytics/1"}
_STOP = object()
_FLUSH = object()
_getrandbits = random.getrandbits  # reseeded in forked children by the random module itself
_time_ns = time.time_ns


class Observer(Protocol):
    """What the client reports to (Prometheus in the app, nothing in a bare client)."""

    def outcome(self, outcome: str, count: int) -> None: ...
    def queue_depth(self, depth: int) -> None: ...
    def schema_violation(self, event_name: str) -> None: ...
    def spool_bytes(self, size: int) -> None: ...


class NoopClient:
    """The client used when analytics is disabled or no key is set: accepts anything, ships nothing."""

    enabled = False
    sent = dropped = failed = retried = spooled = replayed = spool_dropped = 0

    def start(self) -> None:
        """Nothing to start."""

    def capture(self, event: Any) -> None:
        """Discard the event."""

    def flush(self, timeout: float | None = None) -> bool:
        """Nothing is ever pending."""
        return True

    def close(self) -> None:
        """Nothing to release."""


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z` suffix and trailing zeros of the fraction trimmed."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += ("." + f"{moment.microsecond:06d}").rstrip("0")
    return text + "Z"


_second_prefix: tuple[int, str] = (-1, "")


def _format_ns(ns: int) -> str:
    """RFC 3339 UTC from nanoseconds; the `YYYY-MM-DDTHH:MM:SS` part is reused within a second."""
    global _second_prefix
    seconds, rest = divmod(ns, 1_000_000_000)
    cached_second, prefix = _second_prefix
    if cached_second != seconds:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _second_prefix = (seconds, prefix)
    if rest:
        return prefix + ("." + f"{rest:09d}").rstrip("0") + "Z"
    return prefix + "Z"


def _uuid7(ns: int, rand: int) -> str:
    """A UUIDv7 (canonical text) from a capture time in nanoseconds and 74 random bits."""
    value = ((ns // 1_000_000) & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stamp_properties(event: Event, environment: str) -> dict[str, Any]:
    """A copy of the event's properties with the send-time stamps of SPEC §2.7 applied."""
    props = dict(event.properties) if event.properties else {}
    if event.workspace_id:
        props["workspace_id"] = event.workspace_id
    props["event_schema_version"] = SCHEMA_VERSION
    props["environment"] = environment
    props.setdefault("is_demo", False)
    if event.stamp_user_id and "user_id" not in props and non_agent_user_id(event.distinct_id):
        props["user_id"] = event.distinct_id
    if event.set_once:
        props["$set_once"] = dict(event.set_once)
    if event.set:
        props["$set"] = dict(event.set)
    return props


class PostHogClient:
    """Ships events to `<host>/batch/` from one background worker per process."""

    enabled = True

    def __init__(
        self,
        api_key: str,
        host: str = DEFAULT_POSTHOG_HOST,
        *,
        environment: str = "dev",
        queue_size: int = DEFAULT_QUEUE_SIZE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        observer: Observer | None = None,
        validator: Callable[[Event], list[str]] | None = None,
        spool: Spool | None = None,
    ) -> None:
        self.api_key = api_key
        self.host = (host or DEFAULT_POSTHOG_HOST).rstrip("/")
        self.url = self.host + "/batch/"
        self.environment = environment
        self.queue_size = queue_size if queue_size > 0 else DEFAULT_QUEUE_SIZE
        self.batch_size = batch_size if batch_size > 0 else DEFAULT_BATCH_SIZE
        self._wake_at = min(self.batch_size, self.queue_size)
        self.flush_interval = flush_interval if flush_interval > 0 else DEFAULT_FLUSH_INTERVAL
        self.timeout = timeout if timeout > 0 else DEFAULT_TIMEOUT
        self.shutdown_timeout = shutdown_timeout if shutdown_timeout > 0 else DEFAULT_SHUTDOWN_TIMEOUT
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._observer = observer
        self._validator = validator
        self._spool = spool
        self._key_json = json.dumps(api_key).encode()
        self.sent = self.dropped = self.failed = self.retried = 0
        self.spooled = self.replayed = self.spool_dropped = 0
        self._counts = threading.Lock()
        self._closed = False
        self._reset_process_state()
        _fork_registry().add(self)

    # -- process-local state -------------------------------------------------------------------

    def _reset_process_state(self) -> None:
        """Fresh queue, lock, worker slot and HTTP pool; run at start and in a forked child."""
        self._pid = os.getpid()
        self._queue: queue.Queue = queue.Queue(self.queue_size)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        # Set by callers once a batch is waiting, so the worker wakes per batch, not per event.
        self._wake = threading.Event()
        self._idle = threading.Condition(threading.Lock())
        self._inflight = 0  # events taken off the queue and not yet settled (worker writes only)
        self._thread: threading.Thread | None = None
        self._http: BatchConnection | None = None
        self._deadline: float | None = None
        # The spool's side (D17): events for the spool thread, and the worker's replay state.
        self._overflow: deque = deque()  # raw queue items that found the queue full
        self._handoff: deque = deque()  # serialised batches the worker could not deliver
        self._spool_wake = threading.Event()
        self._spool_thread: threading.Thread | None = None
        self._spool_stop = False
        self._spool_writable = True
        self._sink_down = False
        self._replaying: Segment | None = None
        self._replay_pending = self._spool is not None  # a spool left by an earlier process
        self._replay_at = 0.0
        self._replay_backoff = REPLAY_BACKOFF

    def _after_fork_in_child(self) -> None:
        # The parent's worker does not exist here and the parent ships what it queued; the
        # counters describe this process's pipeline, so they start again too.
        self.sent = self.dropped = self.failed = self.retried = 0
        self.spooled = self.replayed = self.spool_dropped = 0
        self._counts = threading.Lock()
        if self._replaying is not None:
            self._replaying.release()  # our copy of the parent's descriptors; the parent keeps its lock
        if self._spool is not None:
            self._spool.after_fork()
        self._reset_process_state()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="posthog-worker", daemon=True)
                self._thread.start()
                if self._spool is not None:
                    self._spool_thread = threading.Thread(target=self._spool_run, name="posthog-spool", daemon=True)
                    self._spool_thread.start()

    def start(self) -> None:
        """Start the background threads now rather than at the first event.

        Called at a process's first request, so that a spool left by an earlier process is
        replayed without waiting for traffic (and never in a gunicorn master before it forks).
        """
        if self._thread is None:
            self._ensure_worker()

    # -- caller side ---------------------------------------------------------------------------

    def capture(self, event: Event) -> None:
        """Queue the event for shipping; drop (and count) it when the queue is full. Never raises."""
        try:
            if self._closed:
                return
            if self._thread is None:
                self._ensure_worker()
            q = self._queue
            item = (event, _time_ns(), _getrandbits(74))
            if self._spool is not None and len(q.queue) >= self.queue_size:
                self._overflow_append(item)  # known full: skip raising and catching queue.Full
                return
            q.put_nowait(item)
            if len(q.queue) >= self._wake_at and not self._wake.is_set():
                self._wake.set()
        except queue.Full:
            if self._spool is not None:
                self._overflow_append(item)
            else:
                self._drop(getattr(event, "name", "?"))
        except Exception:  # noqa: BLE001 - analytics must never break a caller
            logger.exception("analytics: capture failed")

    def _overflow_append(self, item: tuple) -> None:
        """Hand an event the queue cannot hold to the spool thread (memory only: the caller never waits)."""
        if len(self._overflow) < OVERFLOW_LIMIT:
            self._overflow.append(item)
            if not self._spool_wake.is_set():
                self._spool_wake.set()
        else:
            self._drop(getattr(item[0], "name", "?"))

    def _drop(self, name: str, count: int = 1) -> None:
        with self._idle:
            before = self.dropped
            self.dropped += count
        for n in range(before + 1, before + count + 1):
            if n % 100 == 1:
                logger.warning("analytics: queue full, dropping event", extra={"event": name, "total_dropped": n})
        self._report("dropped", count)

    # -- worker side ---------------------------------------------------------------------------

    def _tally(self, outcome: str, count: int) -> None:
        """Add `count` to a counter that more than one background thread updates, and report it."""
        with self._counts:
            setattr(self, outcome, getattr(self, outcome) + count)
        self._report(outcome, count)

    def _report(self, outcome: str, count: int) -> None:
        if self._observer is not None and count:
            try:
                self._observer.outcome(outcome, count)
            except Exception:  # noqa: BLE001
                logger.debug("analytics: observer failed", exc_info=True)

    def _report_depth(self) -> None:
        if self._observer is not None:
            try:
                self._observer.queue_depth(self._queue.qsize())
            except Exception:  # noqa: BLE001
                pass

    def _serialize(self, item: tuple) -> bytes | None:
        event, ns, rand = item
        try:
            if self._validator is not None:
                violations = self._validator(event)
                if violations:
                    logger.warning(
                        "analytics: event violates its schema",
                        extra={"event": event.name, "violations": "; ".join(violations)},
                    )
                    if self._observer is not None:
                        self._observer.schema_violation(event.name)
            body = {
                "event": event.name,
                "distinct_id": event.distinct_id,
                "properties": stamp_properties(event, self.environment),
                "timestamp": format_timestamp(event.timestamp) if event.timestamp else _format_ns(ns),
                "uuid": _uuid7(ns, rand),
            }
            # orjson: a tenth of the stdlib encoder's cost, which dominated the worker's time per event.
            data = orjson.dumps(body)
        except Exception as exc:  # noqa: BLE001 - a bad event must not stop the worker
            logger.error("analytics: could not serialise event", extra={"event": getattr(event, "name", "?"), "error": repr(exc)})
            self._tally("failed", 1)
            return None
        if len(data) > MAX_EVENT_BYTES:
            self._drop(event.name)
            return None
        return data

    def _run(self) -> None:
        pending: list[bytes] = []
        q = self._queue
        next_flush = time.monotonic() + self.flush_interval
        while True:
            if len(q.queue) < self._wake_at:
                wait = next_flush - time.monotonic()
                if self._replay_pending and self._deadline is None:
                    wait = min(wait, self._replay_at - time.monotonic())
                if wait > 0:
                    self._wake.wait(wait)
                self._wake.clear()
            # Take what is queued now; anything arriving meanwhile is seen on the next pass.
            for _ in range(len(q.queue)):
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._drain(pending)
                    return
                if item is _FLUSH:
                    self._ship(pending)
                else:
                    self._accept(pending, item)
            if self._closing.is_set():
                self._drain(pending)
                return
            if time.monotonic() >= next_flush:
                self._ship(pending)
                next_flush = time.monotonic() + self.flush_interval
                self._report_depth()
            if self._replay_pending and self._deadline is None and time.monotonic() >= self._replay_at:
                self._replay_step()

    def _accept(self, pending: list[bytes], item: tuple) -> None:
        """Serialise `item` into the pending batch; ship the batch once it is full."""
        data = self._serialize(item)
        if data is not None:
            self._inflight += 1
            pending.append(data)
        if len(pending) >= self.batch_size:
            self._ship(pending)

    def _take_all(self):
        """Yield every queued event (sentinels skipped) until the queue is empty."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item is not _FLUSH:
                yield item

    def _drain(self, pending: list[bytes]) -> None:
        """Ship what is pending and everything still queued, within the shutdown deadline."""
        for item in self._take_all():
            self._accept(pending, item)
        self._ship(pending)
        self._report_depth()

    def _ship(self, items: list[bytes]) -> None:
        """Send the batch (retrying what may succeed later), settle its accounting and empty it."""
        if not items:
            return
        try:
            self._send_with_retries(items, spool_on_failure=True)
        finally:
            self._inflight -= len(items)
            items.clear()
            with self._idle:
                self._idle.notify_all()

    def _post(self, body: bytes, timeout: float) -> tuple[int, str | None]:
        """POST one batch over the worker's keep-alive connection: (status, Retry-After)."""
        if self._http is None:
            self._http = BatchConnection(self.url)
        return self._http.post(body, _HEADERS, timeout)

    def _remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _body(self, batch_json: bytes) -> bytes:
        return (
            b'{"api_key":' + self._key_json
            + b',"sent_at":"' + _format_ns(_time_ns()).encode()
            + b'","batch":' + batch_json + b"}"
        )

    def _attempt(self, batch_json: bytes, timeout: float) -> tuple[str, int | None, str, float]:
        """POST once: (`ok` | `rejected` | `retry`, status, error, Retry-After seconds)."""
        try:
            status, retry_after = self._post(self._body(batch_json), timeout)
        except Exception as exc:  # noqa: BLE001 - transport errors of every kind are retryable
            self._mark_sink(False)
            return "retry", None, repr(exc), 0.0
        if status < 400:
            self._mark_sink(True)
            return "ok", status, "", 0.0
        if status not in (408, 429) and status < 500:
            return "rejected", status, f"HTTP {status}", 0.0
        self._mark_sink(False)
        return "retry", status, f"HTTP {status}", _retry_after_seconds(retry_after)

    def _mark_sink(self, answering: bool) -> None:
        """Remember whether PostHog answers: a failure sends queued events to the spool sooner, a
        success after one starts the replay."""
        if answering:
            if self._sink_down:
                self._sink_down = False
                self._replay_at = 0.0
                self._replay_backoff = REPLAY_BACKOFF
        elif not self._sink_down:
            self._sink_down = True
            if self._spool is not None:
                self._spool_wake.set()

    def _send_with_retries(self, items: list[bytes], spool_on_failure: bool = False) -> None:
        count = len(items)
        batch_json = b"[" + b",".join(items) + b"]"
        spool_items = items if spool_on_failure else None
        attempt = 0
        while True:
            remaining = self._remaining()
            if remaining is not None and remaining <= 0.05:
                self._give_up(count, "shutdown deadline reached", None, spool_items)
                return
            timeout = self.timeout if remaining is None else min(self.timeout, remaining)
            result, status, error, retry_after = self._attempt(batch_json, timeout)
            if result == "ok":
                self.sent += count
                self._report("sent", count)
                return
            if result == "rejected":
                self._tally("failed", count)
                logger.warning("analytics: posthog rejected batch", extra={"status": status, "events": count})
                return
            attempt += 1
            if attempt > self.max_retries:
                self._give_up(count, error, status, spool_items)
                return
            delay = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
            delay = max(retry_after, delay * (0.5 + random.random() / 2))
            remaining = self._remaining()
            if remaining is not None and delay >= remaining:
                self._give_up(count, error, status, spool_items)
                return
            self.retried += count
            self._report("retried", count)
            logger.debug("analytics: retrying batch", extra={"error": error, "events": count, "delay": round(delay, 3)})
            wake_at = time.monotonic() + delay
            # close() wakes us early so a long backoff cannot eat the shutdown budget unseen.
            self._closing.wait(delay)
            rest = wake_at - time.monotonic()
            if rest > 0:
                remaining = self._remaining()
                if remaining is not None and rest >= remaining:
                    self._give_up(count, error, status, spool_items)
                    return
                time.sleep(rest)

    def _give_up(self, count: int, error: str, status: int | None, items: list[bytes] | None = None) -> None:
        """Settle a batch that could not be delivered: spool it when there is a spool, else count it failed."""
        if items is not None and self._spool is not None and not self._spool_stop:
            self._handoff.append(list(items))
            self._spool_wake.set()
            logger.info("analytics: spooling undelivered batch", extra={"error": error, "events": count})
            return
        self._tally("failed", count)
        if status is None:
            logger.warning("analytics: send batch failed", extra={"error": error, "events": count})
        else:
            logger.warning("analytics: posthog rejected batch", extra={"status": status, "events": count})

    def _abandon_queue(self) -> None:
        abandoned = sum(1 for _ in self._take_all())
        if abandoned:
            self._tally("failed", abandoned)

    # -- the spool: replay (worker) ------------------------------------------------------------

    def _replay_step(self) -> None:
        """Send the next batch of the spool once; delete a segment when all of it was acknowledged."""
        spool = self._spool
        segment = self._replaying
        try:
            if segment is None:
                segment = spool.claim()
                if segment is None:
                    self._nothing_to_replay()
                    return
                self._replaying = segment
            lines = segment.next_batch(max(self.batch_size, REPLAY_BATCH_SIZE))
            if not lines:
                segment.delete()
                self._replaying = None
                self._report_spool_size(fresh=True)
                return
        except OSError as exc:
            logger.warning("analytics: could not read the spool", extra={"error": repr(exc)})
            self._stop_replaying(backoff=True)
            return
        count = len(lines)
        result, status, error, retry_after = self._attempt(b"[" + b",".join(lines) + b"]", self.timeout)
        if result == "retry":
            logger.debug("analytics: spool replay deferred", extra={"error": error, "events": count})
            self._stop_replaying(backoff=True, at_least=retry_after)
            return
        try:
            segment.ack()
        except OSError as exc:  # the batch was delivered; a later replay may send it again
            logger.warning("analytics: could not record spool progress", extra={"error": repr(exc)})
        if result == "ok":
            self._tally("replayed", count)
        else:
            self._tally("failed", count)
            logger.warning("analytics: posthog rejected batch", extra={"status": status, "events": count})

    def _nothing_to_replay(self) -> None:
        """No sealed segment is free: seal this process's own, wait for others', or stop looking."""
        spool = self._spool
        if spool.seal():
            return  # claimed on the next pass
        if spool.segments():
            # Held by other processes (written or being replayed): look again in a while, in case
            # one of them dies and leaves its segment behind.
            self._replay_at = time.monotonic() + REPLAY_BACKOFF_CAP / 6
        else:
            self._replay_pending = False
            spool.sweep()
        self._report_spool_size(fresh=True)

    def _stop_replaying(self, *, backoff: bool, at_least: float = 0.0) -> None:
        if self._replaying is not None:
            self._replaying.release()
            self._replaying = None
        if backoff:
            self._replay_at = time.monotonic() + max(at_least, self._replay_backoff)
            self._replay_backoff = min(REPLAY_BACKOFF_CAP, self._replay_backoff * 2)

    def _report_spool_size(self, fresh: bool = False) -> None:
        if self._observer is not None and self._spool is not None:
            try:
                self._observer.spool_bytes(self._spool.size(fresh=fresh))
            except Exception:  # noqa: BLE001 - an observer without the gauge, or a vanished directory
                pass

    # -- the spool: writing (spool thread) ------------------------------------------------------

    def _spool_run(self) -> None:
        """Write what the queue could not hold or the worker could not send; fsync per write."""
        while True:
            self._spool_wake.wait(SPOOL_POLL if self._sink_down else 1.0)
            if not self._spool_stop and len(self._overflow) < 1024:
                # Woken by the first overflowing event: let a few more arrive, so that a trickle
                # costs one write and one fsync per interval rather than per event.
                time.sleep(SPOOL_COALESCE)
            self._spool_wake.clear()
            stopping = self._spool_stop
            # While PostHog fails, queued events go to the disk too: a crash then loses at most
            # what arrived since the last pass and the batch the worker is trying to send.
            steal = self._spool_writable and self._sink_down and not self._closing.is_set()
            self._spool_pass(steal=stopping or steal)
            if stopping:
                try:
                    self._spool.close()
                except OSError:
                    pass
                return

    def _spool_pass(self, *, steal: bool) -> None:
        wrote = False
        while True:
            records = self._spool_chunk(steal)
            if not records:
                break
            wrote = True
            try:
                dropped = self._spool.append(records)
            except OSError as exc:
                # Never take events off the queue for a disk that refuses them: the worker may
                # still deliver those.
                self._spool_writable = False
                self._spool_drop(len(records), repr(exc))
                continue
            self._spool_writable = True
            self._tally("spooled", len(records))
            if dropped:
                self._spool_drop(dropped, "spool full, oldest segment deleted")
        if wrote:
            self._replay_pending = True
            self._wake.set()  # the worker may be waiting for its next flush tick: replay is due now
            self._report_spool_size()

    def _spool_chunk(self, steal: bool, limit: int = 1024) -> list[bytes]:
        """Serialised events for one write: the worker's failures, the overflow and (`steal`) the queue.

        At most `limit` events and about one segment's worth of bytes, so a write always fits.
        """
        records: list[bytes] = []
        room = self._spool.segment_bytes
        handoff, overflow = self._handoff, self._overflow
        while handoff and len(records) < limit and room > 0:
            batch = handoff.popleft()
            records.extend(batch)
            room -= sum(len(r) + 1 for r in batch)
        while overflow and len(records) < limit and room > 0:
            data = self._serialize(overflow.popleft())
            if data is not None:
                records.append(data)
                room -= len(data) + 1
        if steal:
            q = self._queue
            while len(records) < limit and room > 0:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                # A stolen flush or stop marker is harmless: flush() waits for an empty queue and
                # the worker also watches the closing flag.
                if item is not _STOP and item is not _FLUSH:
                    data = self._serialize(item)
                    if data is not None:
                        records.append(data)
                        room -= len(data) + 1
        return records

    def _spool_drop(self, count: int, error: str) -> None:
        with self._counts:
            before = self.spool_dropped
            self.spool_dropped += count
        if before // 1000 != self.spool_dropped // 1000 or before == 0:
            logger.warning("analytics: spool cannot hold events, dropping them", extra={"error": error, "events": count, "total_dropped": before + count})
        self._report("spool_dropped", count)

    def pending(self) -> int:
        """Events waiting in the queue (approximate, for health checks)."""
        return self._queue.qsize()

    # -- lifecycle -----------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Ship everything captured so far now; True when it settled within `timeout` seconds."""
        if self._thread is None or self._closed:
            return self._queue.empty()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._queue.put(_FLUSH, timeout=timeout)
        except queue.Full:
            return False
        self._wake.set()
        with self._idle:
            while self._queue.qsize() or self._inflight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(0.05 if remaining is None else min(0.05, remaining))
        return True

    def close(self) -> None:
        """Stop accepting events, drain the queue within `shutdown_timeout`, then stop the worker.

        The budget is split: the worker sends until `_deadline`, a little earlier than the end, so
        that spooling what it could not send, joining the threads and logging fit in the rest.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        started = time.monotonic()
        budget_end = started + self.shutdown_timeout - min(CLOSE_MARGIN, self.shutdown_timeout / 10)
        reserve = min(SPOOL_RESERVE, self.shutdown_timeout / 4) if self._spool is not None else 0.0
        self._deadline = budget_end - reserve
        thread = self._thread
        spool_thread = self._spool_thread
        here = self._pid == os.getpid()
        if thread is not None and here:
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                pass  # the worker also watches the closing flag
            self._closing.set()
            self._wake.set()
            thread.join(max(0.0, self._deadline - time.monotonic()))
            if thread.is_alive() and spool_thread is None:
                # The worker is stuck in a request past the budget: settle what it never took, once
                # (taking it off the queue so the worker cannot count it again).
                self._abandon_queue()
        if spool_thread is not None and here:
            # Its last pass takes the queue too: whatever the (stuck) worker never took is spooled.
            self._spool_stop = True
            self._spool_wake.set()
            spool_thread.join(max(0.0, budget_end - time.monotonic()))
        if self._replaying is not None and (thread is None or not thread.is_alive()):
            self._replaying.release()
            self._replaying = None
        if self._http is not None and (thread is None or not thread.is_alive()):
            self._http.close()
        _fork_registry().discard(self)
        logger.info(
            "analytics: posthog client closed",
            extra={
                "sent": self.sent, "dropped": self.dropped, "failed": self.failed,
                "spooled": self.spooled, "replayed": self.replayed, "spool_dropped": self.spool_dropped,
            },
        )


def _retry_after_seconds(value: str | None) -> float:
    """`Retry-After` in seconds (delta form only), or 0 when absent or unparseable."""
    try:
        return max(0.0, float((value or "").strip()))
    except ValueError:
        return 0.0


class _ForkRegistry:
    """Resets every live client in a forked child (gunicorn `--preload`)."""

    _instance: "_ForkRegistry | None" = None

    def __init__(self) -> None:
        self._clients: weakref.WeakSet = weakref.WeakSet()
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def add(self, client: PostHogClient) -> None:
        self._clients.add(client)

    def discard(self, client: PostHogClient) -> None:
        self._clients.discard(client)

    def _after_fork_in_child(self) -> None:
        for client in list(self._clients):
            client._after_fork_in_child()


def _fork_registry() -> _ForkRegistry:
    """The process-wide registry, created (and its fork hook installed) on first use."""
    if _ForkRegistry._instance is None:
        _ForkRegistry._instance = _ForkRegistry()
    return _ForkRegistry._instance
