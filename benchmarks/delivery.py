"""Delivered events/second for a 200 000-event burst: our PostHogClient vs posthog-python.

Both clients ship to the same fastsink (a separate process on 127.0.0.1, so the sink never competes
with the client for the GIL), with the same batch size (100), a queue big enough that nothing drops,
and their default single worker thread. The clock runs from the first `capture()` until the sink
has counted every event of the burst; the caller's capture cost is therefore included.

    .venv/bin/python benchmarks/delivery.py [--events 200000] [--rounds 1] [--batch-size 100]

Target: ours >= 5x posthog-python's rate, with 0 dropped events for both.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import API_KEY, DISTINCT_ID, EVENT_NAME, props, verdict, write_result  # noqa: E402
from fastsink import SinkProcess  # noqa: E402

from multica.analytics.client import Event, PostHogClient  # noqa: E402

TARGET_RATIO = 5.0


class _CountDrops(logging.Handler):
    """posthog-python reports a full queue only in a log line; count those lines."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "queue is full" in record.getMessage():
            self.dropped += 1


def run_ours(sink: SinkProcess, events: int, batch_size: int) -> dict:
    client = PostHogClient(
        API_KEY,
        sink.url,
        environment="benchmark",
        queue_size=events + 10_000,
        batch_size=batch_size,
        flush_interval=0.5,
        timeout=10.0,
        shutdown_timeout=30.0,
    )
    capture = client.capture
    # Warm-up: start the worker, open the keep-alive connection, settle.
    for _ in range(1000):
        capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
    client.flush(30)
    sink.reset()
    sent_before = client.sent

    gc.collect()
    c0, tc0 = _cpu(), time.thread_time()
    t0 = time.perf_counter()
    for _ in range(events):
        capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
    t_captured = time.perf_counter()
    caller = time.thread_time() - tc0
    stats = sink.wait_for(events, timeout=120)
    t1 = time.perf_counter()
    cpu = _cpu() - c0
    client.close()
    return _result("ours", events, t0, t_captured, t1, stats, cpu, caller, dropped=client.dropped,
                   failed=client.failed, client_sent=client.sent - sent_before)


def run_posthog(sink: SinkProcess, events: int, batch_size: int) -> dict:
    from posthog import Posthog

    drops = _CountDrops()
    logging.getLogger("posthog").addHandler(drops)
    failed = []
    client = Posthog(
        API_KEY,
        host=sink.url,
        max_queue_size=events + 10_000,
        flush_at=batch_size,
        flush_interval=0.5,
        timeout=10,
        on_error=lambda exc, batch: failed.append(len(batch)),
    )
    capture = client.capture
    for _ in range(1000):
        capture(EVENT_NAME, distinct_id=DISTINCT_ID, properties=props())
    client.flush(30)
    sink.reset()

    gc.collect()
    c0, tc0 = _cpu(), time.thread_time()
    t0 = time.perf_counter()
    for _ in range(events):
        capture(EVENT_NAME, distinct_id=DISTINCT_ID, properties=props())
    t_captured = time.perf_counter()
    caller = time.thread_time() - tc0
    stats = sink.wait_for(events, timeout=240)
    t1 = time.perf_counter()
    cpu = _cpu() - c0
    client.shutdown()
    logging.getLogger("posthog").removeHandler(drops)
    return _result("posthog-python", events, t0, t_captured, t1, stats, cpu, caller, dropped=drops.dropped,
                   failed=sum(failed), client_sent=None)


def _cpu() -> float:
    """CPU seconds (user + system) of this process: caller and worker threads together."""
    times = os.times()
    return times.user + times.system


def _result(name, events, t0, t_captured, t1, stats, cpu, caller, *, dropped, failed, client_sent) -> dict:
    delivered = stats["events"]
    elapsed = t1 - t0
    return {
        "client": name,
        "events": events,
        "delivered": delivered,
        "complete": delivered >= events,
        "dropped": dropped,
        "failed": failed,
        "client_sent": client_sent,
        "sink_requests": stats["requests"],
        "capture_phase_s": round(t_captured - t0, 3),
        "elapsed_s": round(elapsed, 3),
        "events_per_s": round(delivered / elapsed, 1),
        "cpu_s": round(cpu, 3),
        "cpu_us_per_event": round(cpu / events * 1e6, 2),
        # the capture loop's own thread; the rest is the worker (and the interpreter around it)
        "caller_cpu_us_per_event": round(caller / events * 1e6, 2),
        "worker_cpu_us_per_event": round((cpu - caller) / events * 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median rate is reported")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)

    runs: list[dict] = []
    with SinkProcess() as sink:
        for round_no in range(args.rounds):
            for runner in (run_ours, run_posthog):
                result = runner(sink, args.events, args.batch_size)
                result["round"] = round_no + 1
                runs.append(result)
                print(
                    f"  round {round_no + 1} {result['client']:<15} {result['events_per_s']:>10,.0f} events/s  "
                    f"(capture phase {result['capture_phase_s']:.2f} s, total {result['elapsed_s']:.2f} s, "
                    f"CPU {result['cpu_us_per_event']:.1f} us/event = caller {result['caller_cpu_us_per_event']:.1f}"
                    f" + worker {result['worker_cpu_us_per_event']:.1f}, "
                    f"delivered {result['delivered']:,}, dropped {result['dropped']}, failed {result['failed']})",
                    flush=True,
                )
                sink.reset()

    def median_rate(name: str) -> float:
        return statistics.median(r["events_per_s"] for r in runs if r["client"] == name)

    def median_cpu(name: str) -> float:
        return statistics.median(r["cpu_us_per_event"] for r in runs if r["client"] == name)

    ours, theirs = median_rate("ours"), median_rate("posthog-python")
    ratio = ours / theirs
    cpu_ratio = median_cpu("posthog-python") / median_cpu("ours")
    complete = all(r["complete"] and r["dropped"] == 0 and r["failed"] == 0 for r in runs)
    ok = ratio >= TARGET_RATIO and complete
    print(f"delivery: ours {ours:,.0f} ev/s vs posthog-python {theirs:,.0f} ev/s -> {ratio:.1f}x "
          f"(target >= {TARGET_RATIO:.0f}x; all delivered, 0 dropped: {complete}) {verdict(ok)}\n"
          f"  CPU per event: ours {median_cpu('ours'):.1f} us vs posthog-python {median_cpu('posthog-python'):.1f} us "
          f"-> {cpu_ratio:.1f}x (same-process caller + worker; insensitive to other load on the machine)")
    write_result("delivery", {
        "config": {"events": args.events, "batch_size": args.batch_size, "rounds": args.rounds},
        "runs": runs,
        "ours_events_per_s": ours,
        "posthog_events_per_s": theirs,
        "ratio": round(ratio, 2),
        "ours_cpu_us_per_event": median_cpu("ours"),
        "posthog_cpu_us_per_event": median_cpu("posthog-python"),
        "cpu_ratio": round(cpu_ratio, 2),
        "target": f">= {TARGET_RATIO}x, dropped == 0",
        "all_delivered_none_dropped": complete,
        "met": ok,
    })
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
