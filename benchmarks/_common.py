"""Shared bits of the benchmark suite: the event both clients send, versions, result files."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Results land in `.benchmarks/` (already git-ignored; pytest-benchmark's own store lives there too).
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / ".benchmarks" / "results"))

API_KEY = "phc_benchmark"
EVENT_NAME = "download_intent_expressed"
DISTINCT_ID = "anon-0b6f3c1e-benchmark"


def props() -> dict:
    """The ~4 properties of the benchmark event (a fresh dict per call, as a real caller builds one)."""
    return {"source": "landing_hero", "page": "/", "variant": "a", "$geoip_disable": True}


def versions() -> dict:
    def ver(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    return {
        "python": platform.python_version(),
        "posthog": ver("posthog"),
        "httpx": ver("httpx"),
        "requests": ver("requests"),
        "pytest-benchmark": ver("pytest-benchmark"),
        "gunicorn": ver("gunicorn"),
        "flask": ver("flask"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "kernel": platform.release(),
    }


def write_result(name: str, data: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "versions": versions(), **data}
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"
