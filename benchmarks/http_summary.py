"""Medians and ratios from the wrk runs of http_load.sh (reads `wrk-<config>-<round>.json`)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import verdict, write_result  # noqa: E402

LABELS = {
    "a": "analytics on, sink healthy",
    "b": "ANALYTICS_DISABLED=1",
    "c": "analytics on, sink blackholed",
    "d": "posthog-python, sink healthy",
}
TARGET_THROUGHPUT = 0.95
TARGET_P99 = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    for name in ("rounds", "duration", "threads", "connections", "workers", "gunicorn-threads"):
        parser.add_argument(f"--{name}", type=int)
    args = parser.parse_args(argv)

    runs: dict[str, list[dict]] = {}
    for path in sorted(args.workdir.glob("wrk-*-*.json")):
        config, round_no = path.stem.split("-")[1:3]
        data = json.loads(path.read_text())
        data["round"] = int(round_no)
        runs.setdefault(config, []).append(data)

    med: dict[str, dict] = {}
    for config, items in sorted(runs.items()):
        med[config] = {
            "rps": statistics.median(r["rps"] for r in items),
            "p50_ms": statistics.median(r["latency_us"]["p50"] for r in items) / 1000,
            "p90_ms": statistics.median(r["latency_us"]["p90"] for r in items) / 1000,
            "p99_ms": statistics.median(r["latency_us"]["p99"] for r in items) / 1000,
            "cpu_us_per_request": statistics.median(r.get("app_cpu_us_per_request", 0) for r in items),
            "ctxsw_per_request": statistics.median(r.get("app_ctxsw_per_request", 0) for r in items),
            "other_load": statistics.median(r.get("other_load", 0) for r in items),
            "errors": sum(sum(r["errors"].values()) for r in items),
            "rounds": len(items),
        }

    print(f"{'config':<36}{'req/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}{'vcsw/req':>11}"
          f"{'other load':>12}{'errors':>8}   (medians of {args.rounds} rounds)")
    for config, m in med.items():
        print(f"{config} {LABELS.get(config, ''):<34}{m['rps']:>10,.0f}{m['p50_ms']:>9.2f}{m['p90_ms']:>9.2f}"
              f"{m['p99_ms']:>9.2f}{m['cpu_us_per_request']:>12,.0f}{m['ctxsw_per_request']:>11.1f}"
              f"{m['other_load']:>12.0%}{m['errors']:>8}")

    result: dict = {
        "config": {k.replace("-", "_"): v for k, v in vars(args).items() if k != "workdir"},
        "runs": runs,
        "medians": med,
    }
    def paired(x: str, y: str, key) -> float | None:
        """Median over rounds of x/y measured in the same round (adjacent in time)."""
        by_round = {r["round"]: r for r in runs.get(y, [])}
        ratios = [key(r) / key(by_round[r["round"]]) for r in runs.get(x, []) if r["round"] in by_round]
        return statistics.median(ratios) if ratios else None

    ok_all = True
    if "a" in med and "b" in med:
        ratio = med["a"]["rps"] / med["b"]["rps"]
        ok = ratio >= TARGET_THROUGHPUT
        ok_all &= ok
        result["throughput_a_over_b"] = round(ratio, 4)
        result["throughput_met"] = ok
        cpu_ratio = med["b"]["cpu_us_per_request"] / med["a"]["cpu_us_per_request"]
        result["cpu_per_request_b_over_a"] = round(cpu_ratio, 4)
        result["throughput_a_over_b_paired"] = round(paired("a", "b", lambda r: r["rps"]), 4)
        print(f"throughput a/b = {ratio:.1%} (target >= {TARGET_THROUGHPUT:.0%}) {verdict(ok)}; "
              f"per-round paired median {result['throughput_a_over_b_paired']:.1%}; "
              f"by app CPU per request b/a = {cpu_ratio:.1%} "
              f"(+{med['a']['cpu_us_per_request'] - med['b']['cpu_us_per_request']:.0f} us and "
              f"{med['a']['ctxsw_per_request'] - med['b']['ctxsw_per_request']:+.1f} voluntary context switches per request)")
    if "a" in med and "c" in med:
        delta = med["c"]["p99_ms"] / med["a"]["p99_ms"] - 1
        ok = delta <= TARGET_P99
        ok_all &= ok
        result["p99_c_vs_a"] = round(delta, 4)
        result["p99_met"] = ok
        result["throughput_c_over_a"] = round(med["c"]["rps"] / med["a"]["rps"], 4)
        pair = paired("c", "a", lambda r: r["latency_us"]["p99"])
        result["p99_c_vs_a_paired"] = None if pair is None else round(pair - 1, 4)
        print(f"p99 c vs a = {delta:+.1%} (target <= +{TARGET_P99:.0%}) {verdict(ok)}; "
              f"per-round paired median {pair - 1:+.1%}; throughput c/a = {med['c']['rps'] / med['a']['rps']:.1%}")
    if "d" in med and "a" in med and "b" in med:
        result["throughput_d_over_b"] = round(med["d"]["rps"] / med["b"]["rps"], 4)
        result["throughput_a_over_d"] = round(med["a"]["rps"] / med["d"]["rps"], 4)
        result["p99_d_vs_a"] = round(med["d"]["p99_ms"] / med["a"]["p99_ms"] - 1, 4)
        print(f"posthog-python d/b = {med['d']['rps'] / med['b']['rps']:.1%}; ours a/d = "
              f"{med['a']['rps'] / med['d']['rps']:.2f}x; p99 d vs a = {result['p99_d_vs_a']:+.1%}")
    errors = sum(m["errors"] for m in med.values())
    if errors:
        ok_all = False
        print(f"wrk reported {errors} errors (non-2xx, timeouts, socket errors)")
    result["met"] = ok_all
    write_result("http_load", result)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
