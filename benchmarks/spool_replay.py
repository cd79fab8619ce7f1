"""The spool (D17) under a 200 000-event outage: how fast it fills, and how fast it replays.

1. Fill: a client with a 1 024-event queue and a spool directory captures 200 000 events while the
   fastsink is blackholed; everything beyond the queue overflows to the spool thread, which writes
   it to segment files (one fsync per write). `close()` then spools what was still queued. The
   clock runs from the first `capture()` until the spool thread has written the overflow.
2. Replay: the sink turns healthy and a *new* client (a restarted process) is started on the same
   directory without capturing anything; the clock runs from `start()` until the sink has counted
   every spooled event and the last segment is deleted. Default batch size (64), as in production.

    .venv/bin/python benchmarks/spool_replay.py [--events 200000] [--batch-size 64]

Target: every spooled event delivered exactly once by the sink's count, the spool empty, and a
replay rate of at least 10 000 events/s (a 200 000-event outage drains in under 20 s).
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import API_KEY, DISTINCT_ID, EVENT_NAME, props, verdict, write_result  # noqa: E402
from fastsink import SinkProcess  # noqa: E402

from multica.analytics.client import Event, PostHogClient  # noqa: E402
from multica.analytics.spool import Spool  # noqa: E402

TARGET_REPLAY_RATE = 10_000


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    logging.getLogger("multica").setLevel(logging.CRITICAL)
    directory = Path(tempfile.mkdtemp(prefix="bench-spool-"))
    try:
        with SinkProcess(blackhole=True) as sink:
            filler = PostHogClient(
                API_KEY, sink.url, environment="benchmark", queue_size=1024, batch_size=args.batch_size,
                flush_interval=0.5, timeout=30.0, shutdown_timeout=5.0, spool=Spool(directory, 1024 * 1024 * 1024),
            )
            capture = filler.capture
            t0, c0 = time.perf_counter(), cpu()
            for _ in range(args.events):
                capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
            caller_s = time.perf_counter() - t0
            while filler.spooled < args.events - 1024 - args.batch_size and time.perf_counter() - t0 < 120:
                time.sleep(0.01)
            fill_s, fill_cpu = time.perf_counter() - t0, cpu() - c0
            filler.close()
            spooled = filler.spooled
            size = sum(p.stat().st_size for p in directory.glob("*.seg"))
            print(f"  fill: {args.events} captured in {caller_s:.2f} s, {spooled} spooled "
                  f"({size / 1e6:.1f} MB, {len(list(directory.glob('*.seg')))} segments); "
                  f"overflow written at {(args.events - 1024) / fill_s:,.0f} events/s, "
                  f"CPU {fill_cpu / args.events * 1e6:.1f} µs/event", flush=True)

            sink.reset()
            sink.healthy()
            replayer = PostHogClient(
                API_KEY, sink.url, environment="benchmark", batch_size=args.batch_size, flush_interval=0.5,
                spool=Spool(directory, 1024 * 1024 * 1024),
            )
            t0, c0 = time.perf_counter(), cpu()
            replayer.start()
            stats = sink.wait_for(spooled, timeout=300)
            while list(directory.glob("*.seg")) and time.perf_counter() - t0 < 300:
                time.sleep(0.005)
            replay_s, replay_cpu = time.perf_counter() - t0, cpu() - c0
            replayer.close()
            delivered = sink.stats().get("events", stats.get("events", 0))
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    rate = spooled / replay_s if replay_s else 0.0
    exact = delivered == spooled == replayer.replayed
    ok = exact and rate >= TARGET_REPLAY_RATE
    print(f"spool replay: {spooled} events in {replay_s:.2f} s = {rate:,.0f} events/s "
          f"(target >= {TARGET_REPLAY_RATE:,}), sink counted {delivered}, replayed {replayer.replayed}, "
          f"CPU {replay_cpu / max(spooled, 1) * 1e6:.1f} µs/event {verdict(ok)}", flush=True)
    write_result("spool_replay", {
        "config": {"events": args.events, "batch_size": args.batch_size},
        "spooled": spooled,
        "fill_events_per_s": round((args.events - 1024) / fill_s),
        "fill_cpu_us_per_event": round(fill_cpu / args.events * 1e6, 2),
        "replay_s": round(replay_s, 3),
        "replay_events_per_s": round(rate),
        "replay_cpu_us_per_event": round(replay_cpu / max(spooled, 1) * 1e6, 2),
        "delivered": delivered,
        "target": f"every spooled event delivered once, >= {TARGET_REPLAY_RATE} events/s",
        "met": ok,
    })
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
