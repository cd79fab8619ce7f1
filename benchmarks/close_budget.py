"""How long shutdown takes with 1 000 events queued and PostHog not answering.

Both clients point at a fastsink in blackhole mode (it accepts connections, reads each request and
never answers). 1 000 events are captured, the worker is given 0.5 s to get stuck in its first
request, then the clock runs around our `close()` and around posthog-python's `shutdown()`. Each
runs on its own daemon thread and is abandoned after `--bound` seconds (reported as "> N s").
Both clients use their defaults apart from host and `shutdown_timeout` (ours: 5 s).

    .venv/bin/python benchmarks/close_budget.py [--events 1000] [--shutdown-timeout 5] [--bound 90]

Target: ours returns within `shutdown_timeout`, with and without a spool directory; with one,
everything but the batch held by the unanswered request is in the spool when `close()` returns.
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

from _common import API_KEY, DISTINCT_ID, EVENT_NAME, props, verdict, write_result  # noqa: E402
from fastsink import SinkProcess  # noqa: E402

from multica.analytics.client import Event, PostHogClient  # noqa: E402
from multica.analytics.spool import Spool  # noqa: E402


def timed(fn, bound: float) -> float | None:
    """Seconds `fn()` took on a daemon thread, or None if it had not returned after `bound` s."""
    done = threading.Event()
    elapsed: list[float] = []

    def run() -> None:
        t0 = time.perf_counter()
        try:
            fn()
        finally:
            elapsed.append(time.perf_counter() - t0)
            done.set()

    threading.Thread(target=run, name="shutdown-under-test", daemon=True).start()
    done.wait(bound)
    return elapsed[0] if elapsed else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--shutdown-timeout", type=float, default=5.0)
    parser.add_argument("--bound", type=float, default=90.0, help="give up on posthog-python's shutdown() after this")
    args = parser.parse_args(argv)
    logging.getLogger("multica").setLevel(logging.CRITICAL)
    logging.getLogger("posthog").setLevel(logging.CRITICAL)

    with SinkProcess(blackhole=True) as sink:
        ours = PostHogClient(API_KEY, sink.url, environment="benchmark", shutdown_timeout=args.shutdown_timeout)
        for _ in range(args.events):
            ours.capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
        time.sleep(0.5)
        held = sink.stats()["held"]
        ours_s = timed(ours.close, args.bound)
        print(f"  ours: close() with {args.events} queued, sink blackholed ({held} request held): "
              f"{'> %.0f' % args.bound if ours_s is None else '%.2f' % ours_s} s "
              f"(sent {ours.sent}, failed {ours.failed}, dropped {ours.dropped})", flush=True)

        spool_dir = tempfile.mkdtemp(prefix="bench-close-spool-")
        try:
            spooling = PostHogClient(API_KEY, sink.url, environment="benchmark", shutdown_timeout=args.shutdown_timeout,
                                     spool=Spool(spool_dir, 256 * 1024 * 1024))
            for _ in range(args.events):
                spooling.capture(Event(EVENT_NAME, DISTINCT_ID, props(), stamp_user_id=False))
            time.sleep(0.5)
            spool_s = timed(spooling.close, args.bound)
        finally:
            shutil.rmtree(spool_dir, ignore_errors=True)
        print(f"  ours with a spool: close() {'> %.0f' % args.bound if spool_s is None else '%.2f' % spool_s} s "
              f"(spooled {spooling.spooled}, failed {spooling.failed}, held in the request {args.events - spooling.spooled})",
              flush=True)

        from posthog import Posthog

        theirs = Posthog(API_KEY, host=sink.url)
        logging.getLogger("posthog").setLevel(logging.CRITICAL)  # Posthog() resets it
        for _ in range(args.events):
            theirs.capture(EVENT_NAME, distinct_id=DISTINCT_ID, properties=props())
        time.sleep(0.5)
        held = sink.stats()["held"]
        print(f"  posthog-python: shutdown() with {args.events} queued (waiting up to {args.bound:.0f} s) ...", flush=True)
        theirs_s = timed(theirs.shutdown, args.bound)
        print(f"  posthog-python: shutdown() {'> %.0f' % args.bound if theirs_s is None else '%.2f' % theirs_s} s", flush=True)

    spool_ok = (spool_s is not None and spool_s <= args.shutdown_timeout
                and spooling.spooled >= args.events - spooling.batch_size)
    ok = ours_s is not None and ours_s <= args.shutdown_timeout and spool_ok
    theirs_text = f"> {args.bound:.0f} s (did not return)" if theirs_s is None else f"{theirs_s:.2f} s"
    ratio_text = (f">= {args.bound / ours_s:.0f}x longer" if theirs_s is None else f"{theirs_s / ours_s:.1f}x") if ours_s else "n/a"
    def seconds(value: float | None) -> str:
        return f"> {args.bound:.0f}" if value is None else f"{value:.2f}"

    print(f"close budget: ours close() {seconds(ours_s)} s, with a spool {seconds(spool_s)} s "
          f"(budget {args.shutdown_timeout:.0f} s) {verdict(ok)}; "
          f"posthog-python shutdown() {theirs_text}; posthog-python/ours {ratio_text}", flush=True)
    write_result("close_budget", {
        "config": {"events": args.events, "shutdown_timeout": args.shutdown_timeout, "bound": args.bound},
        "ours_close_s": None if ours_s is None else round(ours_s, 3),
        "ours_spool_close_s": None if spool_s is None else round(spool_s, 3),
        "ours_spool_spooled": spooling.spooled,
        "posthog_shutdown_s": None if theirs_s is None else round(theirs_s, 3),
        "posthog_returned": theirs_s is not None,
        "posthog_over_ours": ratio_text,
        "target": f"ours <= shutdown_timeout ({args.shutdown_timeout} s), with and without a spool",
        "met": ok,
    })
    sys.stdout.flush()
    # posthog-python's shutdown thread may still hold its lifecycle lock; don't let its atexit
    # hook wait on it.
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
