"""The PostHog client against a real HTTP sink (SPEC §2.5–§2.7, §2.11, D5)."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

import pytest

from multica.analytics.client import Event, NoopClient, PostHogClient
from tests.sink import PostHogSink

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


def live(sink: PostHogSink, **kwargs) -> PostHogClient:
    options = {"batch_size": 64, "flush_interval": 3600, "backoff_base": 0.01, "shutdown_timeout": 3}
    options.update(kwargs)
    return PostHogClient("test-key", sink.url, **options)


def test_noop_client_accepts_anything():
    client = NoopClient()
    client.capture(Event("anything", "u1"))
    client.capture(None)
    client.close()
    assert client.sent == 0


def test_batching_and_wire_format(sink):
    client = live(sink, batch_size=2)
    client.capture(Event("signup", "u1", {"email_domain": "x.io"}, workspace_id="w1"))
    client.capture(Event("workspace_created", "u1", {}, workspace_id="w1"))
    client.close()
    assert len(sink.requests) == 1
    request = sink.requests[0]
    assert request.path == "/batch/"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body["api_key"] == "test-key"
    assert TIMESTAMP.match(request.body["sent_at"])
    batch = request.batch
    assert [item["event"] for item in batch] == ["signup", "workspace_created"]
    for item in batch:
        assert item["distinct_id"] == "u1"
        assert str(uuid.UUID(item["uuid"])) == item["uuid"]
        assert item["properties"]["workspace_id"] == "w1"
        assert TIMESTAMP.match(item["timestamp"])
        assert uuid.UUID(item["uuid"]).version == 7
    assert client.sent == 2 and client.failed == 0


def test_trailing_slash_on_host_is_stripped(sink):
    client = PostHogClient("k", sink.url + "/", flush_interval=3600)
    client.capture(Event("signup", "u1"))
    client.close()
    assert sink.requests[0].path == "/batch/"


def test_drop_when_full_never_blocks(sink):
    sink.blackhole()
    client = live(sink, queue_size=2, batch_size=1, shutdown_timeout=0.2, timeout=0.2, max_retries=0)
    started = time.monotonic()
    for i in range(20):
        client.capture(Event("signup", f"u{i}"))
    elapsed = time.monotonic() - started
    assert elapsed < 0.5
    assert client.dropped > 0
    client.close()


def test_drop_log_cadence(sink, caplog):
    sink.blackhole()
    client = live(sink, queue_size=1, batch_size=1, timeout=0.2, shutdown_timeout=0.2, max_retries=0)
    # Keep the worker busy on a blackholed request so every later capture finds the queue full.
    client.capture(Event("signup", "first"))
    time.sleep(0.05)
    client.capture(Event("signup", "fills-queue"))
    with caplog.at_level(logging.WARNING, logger="multica.analytics"):
        for _ in range(250):
            client.capture(Event("signup", "u"))
    warnings = [r for r in caplog.records if r.getMessage() == "analytics: queue full, dropping event"]
    assert client.dropped == 250
    assert [r.total_dropped for r in warnings] == [1, 101, 201]
    assert all(r.event == "signup" for r in warnings)
    client.close()


@pytest.mark.parametrize(
    ("properties", "distinct_id", "expected"),
    [
        ({}, "u1", {"is_demo": False, "user_id": "u1"}),
        ({"is_demo": True}, "u1", {"is_demo": True}),
        ({"environment": "nope", "event_schema_version": 9}, "u1", {"environment": "staging", "event_schema_version": 2}),
        ({}, "agent:x", {"is_demo": False}),
        ({"user_id": "someone-else"}, "u1", {"user_id": "someone-else"}),
    ],
)
def test_stamping(sink, properties, distinct_id, expected):
    client = live(sink, environment="staging")
    client.capture(Event("issue_created", distinct_id, dict(properties), set={}, set_once={}))
    client.close()
    props = sink.events()[0]["properties"]
    for key, value in expected.items():
        assert props[key] == value
    if distinct_id == "agent:x":
        assert "user_id" not in props
    assert "$set" not in props and "$set_once" not in props


def test_set_and_set_once_are_stamped(sink):
    client = live(sink)
    client.capture(Event("signup", "u1", {}, set={"role": "developer"}, set_once={"email": "a@b.co"}))
    client.close()
    props = sink.events()[0]["properties"]
    assert props["$set"] == {"role": "developer"}
    assert props["$set_once"] == {"email": "a@b.co"}


def test_synthetic_id_without_user_id_stamp(sink):
    client = live(sink)
    client.capture(Event("contact_sales_submitted", "c0ffee00-0000-4000-8000-000000000000", {}, stamp_user_id=False))
    client.close()
    assert "user_id" not in sink.events()[0]["properties"]


def test_rejection_is_final_and_counted(sink, caplog):
    sink.respond(400)
    client = live(sink, max_retries=5)
    with caplog.at_level(logging.WARNING, logger="multica.analytics"):
        client.capture(Event("signup", "u1"))
        client.capture(Event("signup", "u2"))
        client.close()
    assert len(sink.requests) == 1  # a 400 is never retried
    assert client.failed == 2 and client.sent == 0 and client.retried == 0
    rejected = [r for r in caplog.records if r.getMessage() == "analytics: posthog rejected batch"]
    assert rejected and rejected[0].status == 400 and rejected[0].events == 2


def test_server_errors_are_retried_with_the_same_uuids(sink):
    sink.respond(503, times=3, retry_after="0")
    client = live(sink, max_retries=5)
    for i in range(5):
        client.capture(Event("signup", f"u{i}"))
    client.close()
    assert [r.status for r in sink.requests] == [503, 503, 503, 200]
    attempts = [[item["uuid"] for item in r.batch] for r in sink.requests]
    assert all(a == attempts[0] for a in attempts)
    delivered = [item["uuid"] for item in sink.events()]
    assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == 5
    assert client.sent == 5 and client.failed == 0 and client.retried == 15


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_retryable_statuses(sink, status):
    sink.respond(status, times=1)
    client = live(sink)
    client.capture(Event("signup", "u1"))
    client.close()
    assert [r.status for r in sink.requests] == [status, 200]
    assert client.sent == 1


def test_retry_after_is_a_floor(sink):
    sink.respond(429, times=1, retry_after="1")
    client = live(sink, backoff_base=0.001)
    client.capture(Event("signup", "u1"))
    client.close()
    first, second = sink.requests
    assert second.received_at - first.received_at >= 0.95


def test_transport_errors_are_retried_then_counted_failed(caplog):
    # Nothing listens on this port: every attempt is a connection error.
    dead = PostHogSink().start()
    url = dead.url
    dead.stop()
    client = PostHogClient("k", url, flush_interval=3600, max_retries=2, backoff_base=0.01)
    with caplog.at_level(logging.WARNING, logger="multica.analytics"):
        client.capture(Event("signup", "u1"))
        client.close()
    assert client.failed == 1 and client.retried == 2
    assert any(r.getMessage() == "analytics: send batch failed" and r.events == 1 for r in caplog.records)


def test_periodic_flush_without_close(sink):
    client = live(sink, flush_interval=0.2)
    client.capture(Event("signup", "u1"))
    assert sink.wait_for(lambda s: len(s.events()) == 1, timeout=3)
    client.close()


def test_close_drains_everything_in_batch_chunks(sink):
    client = live(sink, batch_size=10, queue_size=1000)
    for i in range(95):
        client.capture(Event("signup", f"u{i}"))
    client.close()
    assert len(sink.events()) == 95
    assert max(len(r.batch) for r in sink.requests) <= 10


def test_close_logs_counts(sink, caplog):
    client = live(sink)
    client.capture(Event("signup", "u1"))
    with caplog.at_level(logging.INFO, logger="multica.analytics"):
        client.close()
    closed = [r for r in caplog.records if r.getMessage() == "analytics: posthog client closed"]
    assert len(closed) == 1
    assert (closed[0].sent, closed[0].dropped, closed[0].failed) == (1, 0, 0)


def test_close_is_bounded_when_the_sink_is_blackholed(sink):
    sink.blackhole()
    client = live(sink, shutdown_timeout=1.0, queue_size=2000)
    for i in range(1000):
        client.capture(Event("signup", f"u{i}"))
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 1.5
    assert client.sent == 0
    # Each event is settled at most once: the abandoned queue plus at most the batch in flight.
    assert 1000 - client.batch_size <= client.failed <= 1000


def test_capture_after_close_is_discarded(sink):
    client = live(sink)
    client.close()
    client.capture(Event("signup", "late"))
    assert client.sent == 0 and sink.events() == []


def test_capture_never_raises_on_unserialisable_properties(sink, caplog):
    client = live(sink)
    client.capture(Event("signup", "u1", {"bad": object()}))
    client.capture(Event("signup", "u2"))
    client.close()
    assert [e["distinct_id"] for e in sink.events()] == ["u2"]
    assert client.failed == 1


def test_oversized_event_is_dropped(sink):
    client = live(sink)
    client.capture(Event("signup", "u1", {"blob": "x" * (901 * 1024)}))
    client.capture(Event("signup", "u2"))
    client.close()
    assert [e["distinct_id"] for e in sink.events()] == ["u2"]
    assert client.dropped == 1


def test_slow_sink_does_not_block_capture(sink):
    sink.slow(1.0)
    client = live(sink, batch_size=1)
    started = time.monotonic()
    for i in range(50):
        client.capture(Event("signup", f"u{i}"))
    assert time.monotonic() - started < 0.2
    client.close()


def test_flush_ships_without_closing(sink):
    client = live(sink)
    client.capture(Event("signup", "u1"))
    assert client.flush(timeout=3)
    assert len(sink.events()) == 1
    client.capture(Event("signup", "u2"))
    assert client.flush(timeout=3)
    assert len(sink.events()) == 2
    client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_a_working_pipeline(sink):
    client = live(sink)
    client.capture(Event("signup", "parent-before-fork"))
    assert client.flush(timeout=3)
    pid = os.fork()
    if pid == 0:  # child: a fresh worker must start and deliver
        code = 1
        try:
            client.capture(Event("signup", "child"))
            client.close()
            code = 0 if client.sent == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.capture(Event("signup", "parent-after-fork"))
    client.close()
    ids = sorted(e["distinct_id"] for e in sink.events())
    assert ids == ["child", "parent-after-fork", "parent-before-fork"]


def test_validator_violations_are_shipped_logged_and_counted(sink, caplog):
    seen = []

    class Observer:
        def outcome(self, outcome, count):
            pass

        def queue_depth(self, depth):
            pass

        def schema_violation(self, name):
            seen.append(name)

    client = live(sink, observer=Observer(), validator=lambda event: ["missing required property x"])
    with caplog.at_level(logging.WARNING, logger="multica.analytics"):
        client.capture(Event("signup", "u1"))
        client.close()
    assert len(sink.events("signup")) == 1
    assert seen == ["signup"]
    assert any(r.getMessage() == "analytics: event violates its schema" for r in caplog.records)
