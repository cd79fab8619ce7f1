"""One summary of the last benchmark run, from `.benchmarks/results/*.json`; exit 1 if a target fails.

    .venv/bin/python benchmarks/report.py [--since EPOCH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, verdict  # noqa: E402


def load(name: str, since: float) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists() or path.stat().st_mtime < since:
        return None
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", type=float, default=0.0, help="ignore result files older than this epoch time")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, str, bool | None]] = []
    versions = None

    cap = load("capture_cost", args.since)
    if cap:
        versions = cap["versions"]
        ns = cap["median_ns"]
        rows.append(("capture(): posthog-python / ours",
                     f"{cap['posthog_over_ours']:.1f}x  ({ns['posthog']:,.0f} ns vs {ns['ours']:,.0f} ns)",
                     ">= 20x", cap["met"]["posthog_over_ours"]))
        rows.append(("capture(): ours / put_nowait floor",
                     f"{cap['ours_over_floor']:.2f}x  ({ns['ours']:,.0f} ns vs {ns['floor']:,.0f} ns)",
                     "<= 5x", cap["met"]["ours_over_floor"]))
    else:
        rows.append(("capture cost", "no result", "", None))

    cs = load("capture_spool", args.since)
    if cs:
        ns = cs["median_ns"]
        rows.append(("capture(): with spool / without",
                     f"{cs['spool_over_ours']:.3f}  ({ns['spool']:,.0f} ns vs {ns['ours']:,.0f} ns)",
                     "<= 1.10", cs["met"]["spool"]))
        rows.append(("capture(): spool, queue full / without",
                     f"{cs['spool_full_over_ours']:.3f}  ({ns['spool_full']:,.0f} ns vs {ns['ours']:,.0f} ns)",
                     "<= 1.10", cs["met"]["spool_full"]))
    else:
        rows.append(("capture with spool", "no result", "", None))

    dl = load("delivery", args.since)
    if dl:
        versions = versions or dl["versions"]
        rows.append(("delivery 200k burst: ours / posthog-python",
                     f"{dl['ratio']:.1f}x  ({dl['ours_events_per_s']:,.0f} vs {dl['posthog_events_per_s']:,.0f} events/s)",
                     ">= 5x, 0 dropped", dl["met"]))
    else:
        rows.append(("delivery", "no result", "", None))

    sr = load("spool_replay", args.since)
    if sr:
        rows.append(("spool: replay after an outage",
                     f"{sr['replay_events_per_s']:,.0f} events/s ({sr['spooled']:,} in {sr['replay_s']:.1f} s, "
                     f"{sr['replay_cpu_us_per_event']:.1f} µs CPU/event); filled at {sr['fill_events_per_s']:,.0f} events/s",
                     ">= 10k ev/s, exact", sr["met"]))
    else:
        rows.append(("spool replay", "no result", "", None))

    http = load("http_load", args.since)
    if http:
        versions = versions or http["versions"]
        med = http["medians"]
        if "throughput_a_over_b" in http:
            rows.append(("HTTP: throughput on / disabled (a/b)",
                         f"{http['throughput_a_over_b']:.1%}  ({med['a']['rps']:,.0f} vs {med['b']['rps']:,.0f} req/s;"
                         f" CPU/req b/a {http.get('cpu_per_request_b_over_a', 0):.1%})",
                         ">= 95%", http["throughput_met"]))
        if "p99_c_vs_a" in http:
            rows.append(("HTTP: p99 blackholed vs healthy (c vs a)",
                         f"{http['p99_c_vs_a']:+.1%}  ({med['c']['p99_ms']:.1f} vs {med['a']['p99_ms']:.1f} ms)",
                         "<= +5%", http["p99_met"]))
        if "throughput_a_over_d" in http:
            rows.append(("HTTP: ours / posthog-python throughput (a/d)",
                         f"{http['throughput_a_over_d']:.2f}x  (p99 d vs a {http['p99_d_vs_a']:+.1%})", "info", None))
    else:
        rows.append(("HTTP load", "no result", "", None))

    cb = load("close_budget", args.since)
    if cb:
        versions = versions or cb["versions"]
        theirs = "did not return within %.0f s" % cb["config"]["bound"] if not cb["posthog_returned"] else f"{cb['posthog_shutdown_s']:.1f} s"
        rows.append(("close(): 1000 queued, sink blackholed",
                     f"ours {cb['ours_close_s']:.2f} s, with a spool {cb.get('ours_spool_close_s') or 0:.2f} s "
                     f"({cb.get('ours_spool_spooled', 0)} spooled); posthog-python shutdown() {theirs}",
                     f"<= {cb['config']['shutdown_timeout']:.0f} s", cb["met"]))
    else:
        rows.append(("close budget", "no result", "", None))

    if versions:
        print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'target':<17} verdict   figure")
    for name, figure, target, ok in rows:
        state = "-" if ok is None else verdict(ok)
        print(f"{name:<{width}}  {target:<17} {state:<9} {figure}")
    failed = [r[0] for r in rows if r[3] is False or r[1] == "no result"]
    if failed:
        print("targets not met / missing: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
