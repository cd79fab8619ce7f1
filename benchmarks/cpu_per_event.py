"""Where the client's CPU per event goes at an endpoint's pace (not a burst).

Events arrive at `--rate` per second (the HTTP benchmark's order of magnitude), with production
batching (64 events, 10 s flush) against a healthy fastsink. Each thread's CPU time is read from
`/proc/self/task/<tid>/stat`, so the figures split into: the caller (`capture()`), the worker
(serialisation + its share of each batch POST) and, with `--spool`, the spool thread (idle here:
nothing overflows). Serialisation alone is timed separately on the same events, so the worker's
remainder is the HTTP cost of a batch spread over its events.

    .venv/bin/python benchmarks/cpu_per_event.py [--events 20000] [--rate 2000] [--spool]

Informational: no target; the figures explain the HTTP benchmark's a/b gap.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import API_KEY, DISTINCT_ID, EVENT_NAME, props, write_result  # noqa: E402
from fastsink import SinkProcess  # noqa: E402

from multica.analytics.client import Event, PostHogClient  # noqa: E402
from multica.analytics.spool import Spool  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(native_id: int) -> float:
    """User + system CPU seconds of one thread of this process."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--spool", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("multica").setLevel(logging.CRITICAL)
    directory = tempfile.mkdtemp(prefix="bench-cpu-") if args.spool else None
    try:
        with SinkProcess() as sink:
            client = PostHogClient(API_KEY, sink.url, environment="benchmark",
                                   spool=Spool(directory, 1 << 30) if directory else None)
            client.start()
            threads = {t.name: t.native_id for t in threading.enumerate() if t.name.startswith("posthog-")}
            caller = threading.get_native_id()
            before = {name: thread_cpu(tid) for name, tid in threads.items()}
            caller_cpu = 0.0
            interval = 1.0 / args.rate
            t0 = time.perf_counter()
            for i in range(args.events):
                c0 = time.thread_time()
                client.capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
                caller_cpu += time.thread_time() - c0
                pause = t0 + (i + 1) * interval - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            client.flush(30)
            after = {name: thread_cpu(tid) for name, tid in threads.items()}
            requests = sink.stats()["requests"]
            client.close()
            del caller
            # Serialisation alone, on this thread, for the same events.
            items = [(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False), time.time_ns(), i) for i in range(args.events)]
            c0 = time.thread_time()
            for item in items:
                client._serialize(item)
            serialise = (time.thread_time() - c0) / args.events
    finally:
        if directory:
            shutil.rmtree(directory, ignore_errors=True)
    per_event = {name: (after[name] - before[name]) / args.events for name in threads}
    worker = per_event.get("posthog-worker", 0.0)
    post = max(0.0, worker - serialise)
    figures = {
        "caller_us": round(caller_cpu / args.events * 1e6, 2),
        "worker_us": round(worker * 1e6, 2),
        "worker_serialise_us": round(serialise * 1e6, 2),
        "worker_http_us": round(post * 1e6, 2),
        "http_us_per_request": round(post * args.events / max(1, requests) * 1e6, 1),
        "spool_thread_us": round(per_event.get("posthog-spool", 0.0) * 1e6, 2),
        "requests": requests,
    }
    print(f"cpu per event at {args.rate:,.0f} events/s{' (spool on)' if args.spool else ''}: "
          f"caller {figures['caller_us']} µs, worker {figures['worker_us']} µs "
          f"(serialisation {figures['worker_serialise_us']} µs + HTTP {figures['worker_http_us']} µs, "
          f"{figures['http_us_per_request']} µs per batch request, {requests} requests), "
          f"spool thread {figures['spool_thread_us']} µs (clock ticks: {1e6 / TICKS:.0f} µs)", flush=True)
    write_result("cpu_per_event" + ("_spool" if args.spool else ""), {"config": vars(args), **figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
