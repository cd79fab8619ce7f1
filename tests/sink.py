"""A PostHog-compatible `/batch/` sink: a real threaded HTTP server on 127.0.0.1 for tests and benchmarks.

It records every request and answers according to its mode: healthy (200), a scripted status
(503 with Retry-After, 400, 500 …) for the next N requests or until a deadline, slow (answers
after a delay) or blackhole (accepts the connection and never answers until stopped).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class SinkRequest:
    """One request as the sink saw it."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int
    received_at: float = field(default_factory=time.monotonic)

    @property
    def accepted(self) -> bool:
        """The sink answered 2xx: PostHog would have ingested the batch."""
        return 200 <= self.status < 300

    @property
    def batch(self) -> list[dict]:
        """The batch items, or [] for a body that was not a PostHog batch."""
        return self.body.get("batch", []) if isinstance(self.body, dict) else []


@dataclass
class _Step:
    status: int
    retry_after: str | None = None
    delay: float = 0.0
    blackhole: bool = False
    until: float | None = None  # a `time.monotonic()` deadline, after which the sink is healthy


class PostHogSink:
    """Start with `PostHogSink().start()`; `url` is the host to give the client."""

    def __init__(self, *, record_bodies: bool = True) -> None:
        self.requests: list[SinkRequest] = []
        self.record_bodies = record_bodies
        self.event_count = 0
        self._script: list[_Step] = []
        self._default = _Step(200)
        self._lock = threading.Condition()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> "PostHogSink":
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                sink._handle(self, raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="posthog-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- behaviour -------------------------------------------------------------------------------

    def healthy(self) -> None:
        """Answer 200 from now on (and forget any script)."""
        with self._lock:
            self._script.clear()
            self._default = _Step(200)

    def respond(
        self, status: int, *, times: int | None = None, retry_after: str | None = None, until: float | None = None
    ) -> None:
        """Answer `status` for the next `times` requests, or from now on (until the `time.monotonic()`
        deadline `until`, then 200) when `times` is None."""
        step = _Step(status, retry_after=retry_after, until=until)
        with self._lock:
            if times is None:
                self._script.clear()
                self._default = step
            else:
                self._script.extend([step] * times)

    def slow(self, delay: float) -> None:
        """Answer 200 after `delay` seconds."""
        with self._lock:
            self._script.clear()
            self._default = _Step(200, delay=delay)

    def blackhole(self) -> None:
        """Accept connections and never answer (until `stop()`)."""
        with self._lock:
            self._script.clear()
            self._default = _Step(200, blackhole=True)

    def _next_step(self) -> _Step:
        with self._lock:
            if self._script:
                return self._script.pop(0)
            if self._default.until is not None and time.monotonic() >= self._default.until:
                self._default = _Step(200)
            return self._default

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        step = self._next_step()
        if step.blackhole:
            self._release.wait()
            return
        if step.delay:
            time.sleep(step.delay)
        if handler.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        record = SinkRequest(handler.path, dict(handler.headers.items()), body if self.record_bodies else None, step.status)
        count = len(body.get("batch", [])) if isinstance(body, dict) else 0
        with self._lock:
            self.requests.append(record)
            if record.accepted:
                self.event_count += count
            self._lock.notify_all()
        payload = b'{"status":1}' if record.accepted else b'{"error":"simulated"}'
        handler.send_response(step.status)
        if step.retry_after is not None:
            handler.send_header("Retry-After", step.retry_after)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    # -- reading what arrived --------------------------------------------------------------------

    def events(self, name: str | None = None, *, accepted_only: bool = True) -> list[dict]:
        """Batch items the sink received (by default only from requests it accepted)."""
        with self._lock:
            requests = list(self.requests)
        items = [item for r in requests if (r.accepted or not accepted_only) for item in r.batch]
        return [item for item in items if name is None or item.get("event") == name]

    def refused(self) -> list[SinkRequest]:
        """Requests the sink answered with a status other than 2xx."""
        with self._lock:
            return [r for r in self.requests if not r.accepted]

    def delivered_uuids(self) -> list[str]:
        """The ledger: the uuid of every event in every accepted request (a repeat means a duplicate)."""
        return [item.get("uuid") for item in self.events()]

    def duplicates(self) -> list[str]:
        """Uuids that were accepted more than once."""
        seen: set[str] = set()
        repeated: list[str] = []
        for uuid in self.delivered_uuids():
            if uuid in seen:
                repeated.append(uuid)
            seen.add(uuid)
        return repeated

    def wait_for(self, predicate: Callable[["PostHogSink"], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate(self)` holds or `timeout` passes; returns whether it held."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                self._lock.release()
                try:
                    if predicate(self):
                        return True
                finally:
                    self._lock.acquire()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))

    def wait_for_events(self, count: int, name: str | None = None, timeout: float = 5.0) -> list[dict]:
        """Wait until at least `count` matching events arrived; return them all."""
        self.wait_for(lambda s: len(s.events(name)) >= count, timeout)
        return self.events(name)

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self.requests.clear()
            self.event_count = 0
