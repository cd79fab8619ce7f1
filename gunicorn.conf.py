"""Production server settings: `gunicorn -c gunicorn.conf.py app:app`.

Every hook the app needs under gunicorn lives here:
- Prometheus multiprocess mode, so `/metrics` on any worker reports the sum of all workers;
- starting each worker's analytics threads (so a spool is replayed at start-up) and draining its
  analytics client when the worker exits.
"""

import os
import shutil
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# No --preload by default; with it, the analytics client rebuilds its worker after the fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "") == "1"

# prometheus_client picks its multiprocess value class at import, so the directory must be set
# before the app (and prometheus_client) is imported: this file is read first.
_multiproc_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"multica-prometheus-{os.getpid()}")
)
# Start every run with an empty metrics directory (stale files would double-count). This runs when
# the master reads this file, before `preload_app` imports the app and its metrics touch the files.
shutil.rmtree(_multiproc_dir, ignore_errors=True)
os.makedirs(_multiproc_dir, exist_ok=True)


def post_worker_init(worker):
    """Start this worker's analytics threads, so a spool left by an earlier process is replayed
    without waiting for the first request (after the fork: no thread crosses it)."""
    client = getattr(worker.wsgi, "extensions", {}).get("analytics")
    start = getattr(client, "start", None)
    if start is not None:
        start()


def worker_exit(server, worker):
    """Drain this worker's analytics queue within POSTHOG_SHUTDOWN_TIMEOUT."""
    app = getattr(worker, "wsgi", None)
    client = getattr(app, "extensions", {}).get("analytics") if app is not None else None
    if client is not None:
        client.close()


def child_exit(server, worker):
    """Let Prometheus forget the dead worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
