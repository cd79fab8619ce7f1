"""Caller-thread cost of one `capture()`: our PostHogClient vs posthog-python vs a bare `put_nowait`.

    .venv/bin/python -m pytest benchmarks/test_capture_cost.py -p no:cacheprovider

What is measured is the work done on the *caller's* thread. Both clients point at a fastsink
process in blackhole mode; before measuring, one event is flushed so that each client's single
background worker is parked inside an HTTP request the sink never answers. From then on nothing
but the caller runs, so the calling thread's time per call is the caller path alone (no GIL
hand-offs to a worker serialising in parallel; that cost is measured by delivery.py). The timer is
`time.thread_time`, the calling thread's CPU time (ns resolution on Linux): on an idle machine it
equals wall time for this code, and it stays honest when other processes share the cores. Queues are sized for every call the benchmark makes, so nothing drops
(asserted). Every round uses a fixed number of iterations (pedantic mode) to keep memory bounded.

- ours:    `client.capture(Event(name, distinct_id, props(), stamp_user_id=False))`
           (Event construction included, as requested)
- posthog: `Posthog(...).capture(name, distinct_id=..., properties=props())`
- floor:   `queue.Queue(maxsize=...).put_nowait(item)`

Targets (medians, same run): ours >= 20x cheaper than posthog-python, ours <= 5x the floor.

With the spool (D17) the caller still never touches the disk. Two more clients measure that:
- spool:      ours with a spool directory, queue with room (the common path);
- spool-full: ours with a spool directory and a one-slot queue that is always full, so every call
              takes the overflow path (an in-memory hand-off; the spool thread writes to disk in
              the background, on its own CPU time).
Target: each within 10 % of ours without a spool (medians, same run).
"""

from __future__ import annotations

import logging
import queue
import tempfile
import time

import pytest

from _common import API_KEY, DISTINCT_ID, EVENT_NAME, props, verdict, write_result
from fastsink import SinkProcess
from multica.analytics.client import Event, PostHogClient
from multica.analytics.spool import Spool

# rounds x iterations per benchmark: every call stays queued (the worker is parked), so this also
# bounds memory (~0.5 kB per queued event for ours, ~2 kB for posthog-python).
FAST = dict(rounds=150, iterations=1000, warmup_rounds=5)
SLOW = dict(rounds=100, iterations=100, warmup_rounds=2)
QUEUE_SIZE = 1_000_000
# CPU time of the calling thread: with the worker parked that is exactly the caller path, and
# unlike wall time it does not grow when other processes on a shared machine preempt us.
TIMER = time.thread_time
TARGET_VS_POSTHOG = 20.0
TARGET_VS_FLOOR = 5.0
TARGET_SPOOL_OVERHEAD = 1.10

_medians: dict[str, float] = {}


@pytest.fixture(scope="module")
def sink():
    with SinkProcess(blackhole=True) as process:
        yield process


def _wait_held(sink: SinkProcess, count: int) -> None:
    deadline = time.monotonic() + 5
    while sink.stats()["held"] < count:
        assert time.monotonic() < deadline, "worker did not park in the blackholed request"
        time.sleep(0.01)


def _parked_client(sink, **options) -> PostHogClient:
    client = PostHogClient(
        API_KEY,
        sink.url,
        environment="benchmark",
        batch_size=QUEUE_SIZE,
        flush_interval=1e6,
        timeout=600,
        shutdown_timeout=0.5,
        max_retries=0,
        **options,
    )
    held = sink.stats()["held"]
    client.capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
    client.flush(0.2)  # the worker ships the one event and parks in the unanswered request
    _wait_held(sink, held + 1)
    return client


@pytest.fixture(scope="module")
def ours(sink):
    client = _parked_client(sink, queue_size=QUEUE_SIZE)
    yield client
    assert client.dropped == 0
    client.close()


@pytest.fixture(scope="module")
def ours_spool(sink):
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as directory:
        client = _parked_client(sink, queue_size=QUEUE_SIZE, spool=Spool(directory, 1024 * 1024 * 1024))
        yield client
        assert client.dropped == 0
        client.close()


@pytest.fixture(scope="module")
def ours_spool_full(sink):
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as directory:
        client = _parked_client(sink, queue_size=1, spool=Spool(directory, 1024 * 1024 * 1024))
        client.capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))  # fills the one slot
        yield client
        assert client.dropped == 0 and client.spool_dropped == 0
        client.close()


@pytest.fixture(scope="module")
def posthog_client(sink):
    from posthog import Posthog

    client = Posthog(
        API_KEY,
        host=sink.url,
        max_queue_size=QUEUE_SIZE,
        flush_at=QUEUE_SIZE,
        flush_interval=1e6,
        timeout=600,
        max_retries=0,
    )
    # After construction (Posthog() sets its logger's level): flush() below warns about the parked
    # batch, and the parked request fails noisily when the sink stops.
    logging.getLogger("posthog").setLevel(logging.CRITICAL)
    held = sink.stats()["held"]
    client.capture(EVENT_NAME, distinct_id=DISTINCT_ID, properties=props())
    client.flush(0.2)
    _wait_held(sink, held + 1)
    yield client
    # No shutdown(): it would wait on the parked request (600 s); posthog-python's atexit hook
    # gives up after 1 s and the consumer is a daemon thread. Nothing was dropped: the queue never
    # reached its bound (posthog-python only logs its drops).
    assert client._analytics_lane.queue.qsize() < QUEUE_SIZE


def _record(name: str, benchmark) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        _medians[name] = stats.stats.median


@pytest.mark.benchmark(group="capture-caller-path", timer=TIMER)
def test_capture_ours(benchmark, ours):
    capture = ours.capture

    def call():
        capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))

    benchmark.pedantic(call, **FAST)
    _record("ours", benchmark)
    assert ours.dropped == 0


@pytest.mark.benchmark(group="capture-caller-path", timer=TIMER)
def test_capture_ours_with_spool(benchmark, ours_spool):
    capture = ours_spool.capture

    def call():
        capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))

    benchmark.pedantic(call, **FAST)
    _record("spool", benchmark)


@pytest.mark.benchmark(group="capture-caller-path", timer=TIMER)
def test_capture_ours_with_spool_queue_full(benchmark, ours_spool_full):
    capture = ours_spool_full.capture

    def call():
        capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))

    benchmark.pedantic(call, **FAST)
    _record("spool_full", benchmark)


@pytest.mark.benchmark(group="capture-caller-path", timer=TIMER)
def test_capture_posthog_python(benchmark, posthog_client):
    capture = posthog_client.capture

    def call():
        capture(EVENT_NAME, distinct_id=DISTINCT_ID, properties=props())

    benchmark.pedantic(call, **SLOW)
    _record("posthog", benchmark)


@pytest.mark.benchmark(group="capture-caller-path", timer=TIMER)
def test_capture_put_nowait_floor(benchmark):
    q: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
    put_nowait = q.put_nowait
    item = (EVENT_NAME, 0, 0)

    def call():
        put_nowait(item)

    benchmark.pedantic(call, **FAST)
    _record("floor", benchmark)


def test_capture_ratios():
    """The targets, from the medians measured above in this same run."""
    if not {"ours", "posthog", "floor"} <= set(_medians):
        pytest.skip("needs all three capture benchmarks in the same run (not --benchmark-disable)")
    ours, posthog, floor = _medians["ours"], _medians["posthog"], _medians["floor"]
    vs_posthog = posthog / ours
    vs_floor = ours / floor
    ok_posthog = vs_posthog >= TARGET_VS_POSTHOG
    ok_floor = vs_floor <= TARGET_VS_FLOOR
    summary = (
        f"capture (median per call): ours {ours * 1e9:,.0f} ns, posthog-python {posthog * 1e9:,.0f} ns, "
        f"put_nowait floor {floor * 1e9:,.0f} ns\n"
        f"  posthog-python / ours = {vs_posthog:.1f}x (target >= {TARGET_VS_POSTHOG:.0f}x) {verdict(ok_posthog)}\n"
        f"  ours / floor          = {vs_floor:.2f}x (target <= {TARGET_VS_FLOOR:.0f}x) {verdict(ok_floor)}"
    )
    print("\n" + summary)
    write_result("capture_cost", {
        "median_ns": {"ours": ours * 1e9, "posthog": posthog * 1e9, "floor": floor * 1e9},
        "posthog_over_ours": round(vs_posthog, 2),
        "ours_over_floor": round(vs_floor, 2),
        "targets": {"posthog_over_ours": f">= {TARGET_VS_POSTHOG}", "ours_over_floor": f"<= {TARGET_VS_FLOOR}"},
        "met": {"posthog_over_ours": ok_posthog, "ours_over_floor": ok_floor},
    })
    assert ok_posthog, summary
    assert ok_floor, summary


def test_capture_spool_ratios():
    """With a spool, the caller path stays within 10 % of ours without one (medians, same run)."""
    if not {"ours", "spool", "spool_full"} <= set(_medians):
        pytest.skip("needs the spool capture benchmarks in the same run (not --benchmark-disable)")
    ours, spool, full = _medians["ours"], _medians["spool"], _medians["spool_full"]
    ok_spool = spool / ours <= TARGET_SPOOL_OVERHEAD
    ok_full = full / ours <= TARGET_SPOOL_OVERHEAD
    summary = (
        f"capture with a spool (median per call): without {ours * 1e9:,.0f} ns, with {spool * 1e9:,.0f} ns, "
        f"with and the queue full (overflow hand-off) {full * 1e9:,.0f} ns\n"
        f"  spool / without      = {spool / ours:.3f} (target <= {TARGET_SPOOL_OVERHEAD:.2f}) {verdict(ok_spool)}\n"
        f"  spool-full / without = {full / ours:.3f} (target <= {TARGET_SPOOL_OVERHEAD:.2f}) {verdict(ok_full)}"
    )
    print("\n" + summary)
    write_result("capture_spool", {
        "median_ns": {"ours": ours * 1e9, "spool": spool * 1e9, "spool_full": full * 1e9},
        "spool_over_ours": round(spool / ours, 3),
        "spool_full_over_ours": round(full / ours, 3),
        "target": f"<= {TARGET_SPOOL_OVERHEAD}",
        "met": {"spool": ok_spool, "spool_full": ok_full},
    })
    assert ok_spool, summary
    assert ok_full, summary
