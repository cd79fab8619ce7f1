"""PostHog batch shipper: a bounded queue, one lazy worker thread, retries (SPEC §2.5–§2.7, D5).

The caller's thread does the least it can: it takes the capture time, draws the random half of a
UUIDv7 and calls `put_nowait`. Serialisation, stamping, validation and I/O happen on the worker,
so `capture()` never blocks on the network and never raises.
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
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

import httpx
import orjson

from multica.analytics.environment import non_agent_user_id
from multica.analytics.event import Event
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


class NoopClient:
    """The client used when analytics is disabled or no key is set: accepts anything, ships nothing."""

    enabled = False
    sent = dropped = failed = retried = 0

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
        transport: httpx.BaseTransport | None = None,
        observer: Observer | None = None,
        validator: Callable[[Event], list[str]] | None = None,
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
        self._transport = transport
        self._observer = observer
        self._validator = validator
        self._key_json = json.dumps(api_key).encode()
        self.sent = self.dropped = self.failed = self.retried = 0
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
        self._http: httpx.BaseTransport | None = None
        self._deadline: float | None = None

    def _after_fork_in_child(self) -> None:
        # The parent's worker does not exist here and the parent ships what it queued; the
        # counters describe this process's pipeline, so they start again too.
        self.sent = self.dropped = self.failed = self.retried = 0
        self._reset_process_state()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="posthog-worker", daemon=True)
                self._thread.start()

    # -- caller side ---------------------------------------------------------------------------

    def capture(self, event: Event) -> None:
        """Queue the event for shipping; drop (and count) it when the queue is full. Never raises."""
        try:
            if self._closed:
                return
            if self._thread is None:
                self._ensure_worker()
            q = self._queue
            q.put_nowait((event, _time_ns(), _getrandbits(74)))
            if len(q.queue) >= self._wake_at and not self._wake.is_set():
                self._wake.set()
        except queue.Full:
            self._drop(getattr(event, "name", "?"))
        except Exception:  # noqa: BLE001 - analytics must never break a caller
            logger.exception("analytics: capture failed")

    def _drop(self, name: str, count: int = 1) -> None:
        with self._idle:
            before = self.dropped
            self.dropped += count
        for n in range(before + 1, before + count + 1):
            if n % 100 == 1:
                logger.warning("analytics: queue full, dropping event", extra={"event": name, "total_dropped": n})
        self._report("dropped", count)

    # -- worker side ---------------------------------------------------------------------------

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
            self.failed += 1
            self._report("failed", 1)
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
            self._send_with_retries(items)
        finally:
            self._inflight -= len(items)
            items.clear()
            with self._idle:
                self._idle.notify_all()

    def _post(self, body: bytes, timeout: float) -> httpx.Response:
        """POST one batch straight through httpx's pooled transport (keep-alive).

        The transport is enough here: no redirects, cookies or auth to handle, and skipping the
        `Client` layer saves its per-request cookie bookkeeping.
        """
        if self._http is None:
            self._http = self._transport or httpx.HTTPTransport()
        request = httpx.Request(
            "POST", self.url, content=body, headers=_HEADERS, extensions={"timeout": httpx.Timeout(timeout).as_dict()}
        )
        response = self._http.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return response

    def _remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _send_with_retries(self, items: list[bytes]) -> None:
        count = len(items)
        batch_json = b"[" + b",".join(items) + b"]"
        attempt = 0
        while True:
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                self._give_up(count, "shutdown deadline reached", None)
                return
            timeout = self.timeout if remaining is None else max(0.05, min(self.timeout, remaining))
            body = (
                b'{"api_key":' + self._key_json
                + b',"sent_at":"' + _format_ns(_time_ns()).encode()
                + b'","batch":' + batch_json + b"}"
            )
            retry_after = 0.0
            try:
                response = self._post(body, timeout)
            except Exception as exc:  # noqa: BLE001 - transport errors of every kind are retryable
                error, status = repr(exc), None
            else:
                status = response.status_code
                if status < 400:
                    self.sent += count
                    self._report("sent", count)
                    return
                if status not in (408, 429) and status < 500:
                    self.failed += count
                    self._report("failed", count)
                    logger.warning("analytics: posthog rejected batch", extra={"status": status, "events": count})
                    return
                error = f"HTTP {status}"
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            attempt += 1
            if attempt > self.max_retries:
                self._give_up(count, error, status)
                return
            delay = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
            delay = max(retry_after, delay * (0.5 + random.random() / 2))
            remaining = self._remaining()
            if remaining is not None and delay >= remaining:
                self._give_up(count, error, status)
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
                    self._give_up(count, error, status)
                    return
                time.sleep(rest)

    def _give_up(self, count: int, error: str, status: int | None) -> None:
        self.failed += count
        self._report("failed", count)
        if status is None:
            logger.warning("analytics: send batch failed", extra={"error": error, "events": count})
        else:
            logger.warning("analytics: posthog rejected batch", extra={"status": status, "events": count})

    def _abandon_queue(self) -> None:
        abandoned = sum(1 for _ in self._take_all())
        if abandoned:
            self.failed += abandoned
            self._report("failed", abandoned)

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
        """Stop accepting events, drain the queue within `shutdown_timeout`, then stop the worker."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        started = time.monotonic()
        self._deadline = started + self.shutdown_timeout
        thread = self._thread
        if thread is not None and self._pid == os.getpid():
            try:
                self._queue.put(_STOP, timeout=max(0.0, self._deadline - time.monotonic()))
            except queue.Full:
                pass
            self._closing.set()
            self._wake.set()
            thread.join(max(0.0, self._deadline - time.monotonic()))
            if thread.is_alive():
                # The worker is stuck in a request past the budget: settle what it never took, once
                # (taking it off the queue so the worker cannot count it again).
                self._abandon_queue()
        if self._http is not None and (thread is None or not thread.is_alive()):
            self._http.close()
        _fork_registry().discard(self)
        logger.info(
            "analytics: posthog client closed",
            extra={"sent": self.sent, "dropped": self.dropped, "failed": self.failed},
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
