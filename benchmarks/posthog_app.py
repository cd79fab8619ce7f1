"""The app with posthog-python behind `capture()` instead of our client (http_load.sh config "d").

    gunicorn -c gunicorn.conf.py --pythonpath benchmarks posthog_app:app

Only for the load comparison: the adapter maps our `Event` onto `Posthog.capture()` with the same
properties our client would send; flush/close map onto posthog-python's own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from posthog import Posthog  # noqa: E402

from multica import create_app  # noqa: E402
from multica.analytics.client import SCHEMA_VERSION  # noqa: E402


class PosthogPythonAdapter:
    """Duck-types `PostHogClient` (enabled/capture/flush/close) over a `posthog.Posthog`."""

    enabled = True

    def __init__(self) -> None:
        self._client = Posthog(
            os.environ.get("POSTHOG_API_KEY", "phc_benchmark"),
            host=os.environ["POSTHOG_HOST"],
            max_queue_size=int(os.environ.get("POSTHOG_QUEUE_SIZE") or 1024),
            flush_at=int(os.environ.get("POSTHOG_BATCH_SIZE") or 64),
            flush_interval=float(os.environ.get("POSTHOG_FLUSH_INTERVAL") or 10),
            timeout=float(os.environ.get("POSTHOG_TIMEOUT") or 5),
        )
        self._environment = os.environ.get("ANALYTICS_ENVIRONMENT") or "production"

    def capture(self, event) -> None:
        properties = dict(event.properties)
        properties["event_schema_version"] = SCHEMA_VERSION
        properties["environment"] = self._environment
        if event.set:
            properties["$set"] = event.set
        if event.set_once:
            properties["$set_once"] = event.set_once
        self._client.capture(event.name, distinct_id=event.distinct_id, properties=properties)

    def flush(self, timeout: float | None = None) -> bool:
        self._client.flush(timeout)
        return True

    def close(self) -> None:
        self._client.shutdown()


app = create_app({"ANALYTICS_CLIENT": PosthogPythonAdapter()})
