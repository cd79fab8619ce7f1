"""The delivery spool against a real sink and real files (D17, D19.16)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from pathlib import Path

import pytest

from multica.analytics.client import Event, PostHogClient
from multica.analytics.spool import Spool


def live(sink, spool_dir, *, max_bytes: int = 64 * 1024 * 1024, **kwargs) -> PostHogClient:
    options = {
        "batch_size": 16, "queue_size": 64, "flush_interval": 0.05, "backoff_base": 0.01,
        "max_retries": 2, "timeout": 1.0, "shutdown_timeout": 2.0,
    }
    options.update(kwargs)
    return PostHogClient("test-key", sink.url, spool=Spool(spool_dir, max_bytes), **options)


def segments(spool_dir) -> list[Path]:
    return sorted(Path(spool_dir).glob("*.seg")) if Path(spool_dir).is_dir() else []


def spooled_lines(spool_dir) -> int:
    return sum(p.read_bytes().count(b"\n") for p in segments(spool_dir))


def wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_overflow_is_spooled_then_replayed_with_original_uuids_and_timestamps(sink, tmp_path):
    sink.respond(503)
    client = live(sink, tmp_path / "spool")
    captured_before = time.time()
    for i in range(2000):
        client.capture(Event("signup", f"u{i}", {"seq": i}))
    # Everything beyond the queue and one batch in flight reaches the disk within seconds.
    assert wait(lambda: client.spooled >= 2000 - 64 - 16), client.spooled
    assert spooled_lines(tmp_path / "spool") >= client.spooled
    assert client.dropped == 0 and client.spool_dropped == 0
    attempted = {item["uuid"]: item["timestamp"] for item in sink.events(accepted_only=False)}
    recovered_at = time.time()
    sink.healthy()
    assert sink.wait_for(lambda s: s.event_count >= 2000, timeout=20), sink.event_count
    delivered = sink.events()
    assert sorted(item["properties"]["seq"] for item in delivered) == list(range(2000))
    assert sink.duplicates() == []
    assert wait(lambda: client.sent + client.replayed == 2000)
    assert client.replayed == client.spooled >= 2000 - 64 - 16
    # The spool is emptied (and its files deleted) within seconds of a full replay.
    assert wait(lambda: segments(tmp_path / "spool") == [] and not list((tmp_path / "spool").glob("*.ack")))
    for item in delivered:
        stamped = time.mktime(time.strptime(item["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert captured_before - 1 <= stamped <= recovered_at + 1
        if item["uuid"] in attempted:  # an event tried live keeps its uuid and timestamp in the replay
            assert attempted[item["uuid"]] == item["timestamp"]
    client.close()


OUTAGE_SECONDS = 60.0


@pytest.mark.timeout(300)
def test_a_minute_long_outage_during_a_burst_loses_nothing_and_delivers_no_uuid_twice(sink, tmp_path):
    """A 200 000-event burst while the sink answers 503 for 60 s, then recovers: every uuid is
    delivered, none twice after a 2xx, and the spool is empty afterwards."""
    total = 200_000
    spool_dir = tmp_path / "spool"
    client = live(sink, spool_dir, queue_size=1024, batch_size=500, timeout=2.0)
    started = time.monotonic()
    recovers_at = started + OUTAGE_SECONDS
    sink.respond(503, until=recovers_at)
    for i in range(total):
        client.capture(Event("download_intent_expressed", "anon", {"seq": i}, stamp_user_id=False))
    # Long before the sink recovers, every event of the burst is on the disk.
    assert wait(lambda: client.spooled == total, timeout=OUTAGE_SECONDS - 15), client.spooled
    burst_over = time.monotonic()
    assert spooled_lines(spool_dir) == total
    time.sleep(max(0.0, recovers_at - time.monotonic()))
    # The client kept trying the sink through the outage, and every attempt was refused.
    retries = [r for r in sink.refused() if r.received_at > burst_over]
    assert len(retries) >= 2, len(retries)
    assert max(r.received_at for r in retries) >= started + OUTAGE_SECONDS / 2
    assert sink.event_count == 0 and client.sent == 0
    assert sink.wait_for(lambda s: s.event_count >= total, timeout=150), sink.event_count
    assert wait(lambda: segments(spool_dir) == [] and not list(spool_dir.glob("*.ack")), timeout=20)
    client.close()
    assert all(r.received_at >= recovers_at for r in sink.requests if r.accepted)
    assert sink.duplicates() == []
    assert len(set(sink.delivered_uuids())) == total
    assert client.dropped == client.spool_dropped == client.failed == 0
    assert client.sent + client.replayed == total
    assert client.replayed == client.spooled == total


def test_retry_exhausted_batches_are_spooled_not_failed(sink, tmp_path, caplog):
    sink.respond(500, times=3)
    client = live(sink, tmp_path / "spool", max_retries=2, queue_size=1024)
    with caplog.at_level(logging.INFO, logger="multica.analytics"):
        for i in range(5):
            client.capture(Event("signup", f"u{i}"))
        assert wait(lambda: client.spooled == 5)
        assert client.failed == 0
        assert sink.wait_for(lambda s: s.event_count == 5, timeout=10)
        assert wait(lambda: client.replayed == 5) and sink.duplicates() == []
        client.close()
    closed = [r for r in caplog.records if r.getMessage() == "analytics: posthog client closed"]
    assert (closed[0].spooled, closed[0].replayed, closed[0].spool_dropped) == (5, 5, 0)


def test_a_rejected_batch_is_never_spooled(sink, tmp_path):
    sink.respond(400)
    client = live(sink, tmp_path / "spool")
    client.capture(Event("signup", "u1"))
    client.close()
    assert client.failed == 1 and client.spooled == 0
    assert segments(tmp_path / "spool") == []


def test_graceful_stop_against_an_unreachable_sink_spools_the_rest(sink, tmp_path):
    sink.blackhole()
    client = live(sink, tmp_path / "spool", queue_size=2000, batch_size=50, timeout=5.0, shutdown_timeout=1.5)
    for i in range(1000):
        client.capture(Event("signup", f"u{i}", {"seq": i}))
    time.sleep(0.3)  # the worker is now stuck in its first request
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started <= 1.5
    # Everything but the batch held by the unanswered request is on disk.
    assert client.spooled >= 1000 - 50
    assert spooled_lines(tmp_path / "spool") == client.spooled
    sink.stop()

    from tests.sink import PostHogSink

    healthy = PostHogSink().start()
    try:
        again = live(healthy, tmp_path / "spool")
        again.start()  # nothing new is captured: the replay starts with the process
        assert healthy.wait_for(lambda s: s.event_count >= client.spooled, timeout=10)
        assert wait(lambda: segments(tmp_path / "spool") == [])
        again.close()
        assert healthy.duplicates() == [] and again.replayed == client.spooled
    finally:
        healthy.stop()


def test_the_bound_drops_the_oldest_segment_and_counts_it(sink, tmp_path):
    sink.respond(503)
    spool_dir = tmp_path / "spool"
    # 64 KiB in four 16 KiB segments; each event is about 250 bytes.
    client = live(sink, spool_dir, max_bytes=64 * 1024)
    for i in range(2000):
        client.capture(Event("signup", f"u{i}", {"seq": i}))
    assert wait(lambda: client.spooled >= 2000 - 64 - 16)
    assert wait(lambda: client.spool_dropped > 0)
    assert sum(p.stat().st_size for p in segments(spool_dir)) <= 64 * 1024
    sink.healthy()
    assert wait(lambda: segments(spool_dir) == [] and client.replayed > 0, timeout=15)
    client.close()
    seqs = [item["properties"]["seq"] for item in sink.events()]
    # The newest events survived; the oldest were dropped (and counted, not silently lost).
    assert 1999 in seqs
    assert len(set(seqs)) == len(seqs)
    assert client.spooled - client.spool_dropped <= client.replayed <= client.spooled


def test_an_unwritable_spool_directory_drops_and_counts(sink, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool directory should be")
    sink.blackhole()
    client = live(sink, blocker / "spool", timeout=5.0)
    for i in range(1000):
        client.capture(Event("signup", f"u{i}"))
    assert wait(lambda: client.spool_dropped >= 1000 - 64 - 16)
    assert client.spooled == 0
    client.close()


@pytest.fixture
def small_disk(tmp_path):
    """A real 512 KiB tmpfs (mounting it needs root), unmounted after the test."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.fail("the full-disk tests need `mount` and root to mount a tmpfs")
    if mounted.returncode != 0:
        pytest.fail(f"the full-disk tests need root to mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def spooled_events(spool_dir) -> list[dict]:
    """Every event on the disk; fails on an empty segment, a torn record or an unparseable one."""
    events = []
    for path in segments(spool_dir):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path.name} is empty or ends in a torn record"
        events.extend(json.loads(line) for line in data.splitlines())
    return events


def test_a_full_disk_drops_and_counts_what_does_not_fit_and_replays_the_rest(sink, small_disk):
    """Writes the disk refuses are counted in `spool_dropped`; what fit is replayed whole, once."""
    total = 10_000
    spool_dir = small_disk / "spool"
    sink.respond(503)
    # The bound (64 MiB) is far above the disk's 512 KiB: the disk refuses writes first.
    client = live(sink, spool_dir)
    for i in range(total):
        client.capture(Event("signup", f"u{i}", {"seq": i}))
    assert wait(lambda: client.spooled + client.spool_dropped == total, timeout=30), (client.spooled, client.spool_dropped)
    assert client.spooled > 0 and client.spool_dropped > 0
    assert client.dropped == client.failed == client.sent == 0
    on_disk = spooled_events(spool_dir)
    assert len(on_disk) == client.spooled
    sink.healthy()
    assert sink.wait_for(lambda s: s.event_count >= client.spooled, timeout=30), sink.event_count
    assert wait(lambda: segments(spool_dir) == [] and not list(spool_dir.glob("*.ack")))
    client.close()
    assert sink.duplicates() == []
    assert client.replayed == client.spooled == sink.event_count
    assert sorted(e["uuid"] for e in sink.events()) == sorted(e["uuid"] for e in on_disk)


def test_requests_are_unaffected_by_a_full_disk(spooling_app, sink, small_disk):
    """Every request is answered 202 while the spool's disk is full; the drops show in /metrics."""
    requests, per_request = 60, 50
    spool_dir = small_disk / "spool"
    sink.respond(503)
    app = spooling_app(spool_dir)
    client = app.test_client()
    client.set_cookie("multica_anon_id", "anon-1")
    for i in range(requests):
        events = [{"event": "$pageview", "properties": {"$current_url": f"/p{i}/{j}"}} for j in range(per_request)]
        assert client.post("/api/analytics/events", json={"events": events}).status_code == 202
    pipeline = app.extensions["analytics"]
    total = requests * per_request
    # All but the batch the worker is still retrying reach the disk or are counted as dropped.
    assert wait(lambda: pipeline.spooled + pipeline.spool_dropped >= total - 8 - 4, timeout=30)
    assert pipeline.spooled > 0 and pipeline.spool_dropped > 0 and pipeline.dropped == 0
    on_disk = spooled_events(spool_dir)
    assert len(on_disk) == pipeline.spooled
    metrics = client.get("/metrics").get_data(as_text=True)
    line = next(line for line in metrics.splitlines() if line.startswith('multica_analytics_events_total{outcome="spool_dropped"}'))
    assert float(line.split()[-1]) == pipeline.spool_dropped
    sink.healthy()
    assert wait(lambda: pipeline.sent + pipeline.spooled + pipeline.spool_dropped == total, timeout=30)
    assert wait(lambda: pipeline.replayed == pipeline.spooled and segments(spool_dir) == [], timeout=30)
    assert sink.wait_for(lambda s: s.event_count == pipeline.sent + pipeline.replayed)
    assert sink.duplicates() == [] and pipeline.failed == 0
    assert {e["uuid"] for e in on_disk} <= set(sink.delivered_uuids())
    assert {e["event"] for e in sink.events()} == {"$pageview"}


def test_two_processes_sharing_a_spool_replay_without_duplicates(sink, tmp_path):
    import sys

    from multica.analytics.client import _format_ns, _uuid7

    spool_dir = tmp_path / "spool"
    writer = Spool(spool_dir, 64 * 1024 * 1024, segment_bytes=16 * 1024)
    expected = set()
    for batch in range(40):
        records = []
        for i in range(100):
            ns = time.time_ns()
            uuid = _uuid7(ns, int.from_bytes(os.urandom(10), "big"))
            expected.add(uuid)
            records.append(
                b'{"event":"signup","distinct_id":"u","properties":{"seq":%d},"timestamp":"%s","uuid":"%s"}'
                % (batch * 100 + i, _format_ns(ns).encode(), uuid.encode())
            )
        writer.append(records)
    writer.close()
    assert len(segments(spool_dir)) > 10
    script = Path(__file__).with_name("replay_process.py")
    procs = [
        subprocess.Popen([sys.executable, str(script), sink.url, str(spool_dir)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    replayed = [int(out.split()[-1]) for out in outputs]
    assert sink.duplicates() == []
    assert set(sink.delivered_uuids()) == expected
    assert sum(replayed) == len(expected)
    assert segments(spool_dir) == []


@pytest.fixture
def spooling_app(make_app, sink, tmp_path):
    def build(spool_dir):
        return make_app(
            POSTHOG_SPOOL_DIR=str(spool_dir), POSTHOG_QUEUE_SIZE=8, POSTHOG_BATCH_SIZE=4, POSTHOG_TIMEOUT=5.0,
        )
    return build


def test_requests_are_unaffected_by_an_unusable_spool(spooling_app, sink, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    sink.blackhole()
    app = spooling_app(blocker / "spool")
    client = app.test_client()
    client.set_cookie("multica_anon_id", "anon-1")
    for i in range(60):
        response = client.post(
            "/api/analytics/events",
            json={"events": [{"event": "$pageview", "properties": {"$current_url": f"/p{i}"}}]}
        )
        assert response.status_code == 202
    pipeline = app.extensions["analytics"]
    assert wait(lambda: pipeline.spool_dropped >= 60 - 8 - 4)
    metrics = client.get("/metrics").get_data(as_text=True)
    line = next(line for line in metrics.splitlines() if line.startswith('multica_analytics_events_total{outcome="spool_dropped"}'))
    assert float(line.split()[-1]) == pipeline.spool_dropped
    assert "multica_analytics_spool_bytes 0.0" in metrics


def test_spool_gauge_and_outcomes_are_exported(spooling_app, sink, tmp_path):
    sink.respond(503)
    app = spooling_app(tmp_path / "spool")
    client = app.test_client()
    client.set_cookie("multica_anon_id", "anon-1")
    for i in range(40):
        assert client.post(
            "/api/analytics/events",
            json={"events": [{"event": "$pageview", "properties": {"$current_url": f"/p{i}"}}]}
        ).status_code == 202
    pipeline = app.extensions["analytics"]
    assert wait(lambda: pipeline.spooled >= 40 - 8 - 4)
    metrics = client.get("/metrics").get_data(as_text=True)
    gauge = next(line for line in metrics.splitlines() if line.startswith("multica_analytics_spool_bytes"))
    assert float(gauge.split()[-1]) > 0
    assert 'multica_analytics_events_total{outcome="replayed"} 0.0' in metrics
    sink.healthy()
    assert sink.wait_for(lambda s: len(s.events("$pageview")) >= 40, timeout=15)
    assert wait(lambda: pipeline.replayed >= pipeline.spooled)
    assert sink.duplicates() == []


def test_a_forked_child_spools_to_a_segment_of_its_own(sink, tmp_path):
    sink.respond(503)
    spool_dir = tmp_path / "spool"
    client = live(sink, spool_dir)
    for i in range(200):
        client.capture(Event("signup", f"parent-{i}"))
    assert wait(lambda: client.spooled >= 200 - 64 - 16)
    pid = os.fork()
    if pid == 0:  # child: the parent's active segment and its lock are not the child's
        code = 1
        try:
            for i in range(200):
                client.capture(Event("signup", f"child-{i}"))
            client.close()
            code = 0 if client.spooled >= 200 - 16 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len({p.name.split("-")[1] for p in segments(spool_dir)}) == 2  # one writer pid each
    sink.healthy()
    assert sink.wait_for(lambda s: s.event_count >= 400 - 16, timeout=20), sink.event_count
    assert wait(lambda: segments(spool_dir) == [])
    client.close()
    ids = [e["distinct_id"] for e in sink.events()]
    assert sink.duplicates() == [] and len(set(ids)) == len(ids)
    assert {f"parent-{i}" for i in range(200)} <= set(ids)
    assert len([i for i in ids if i.startswith("child-")]) >= 200 - 16
