"""Task throughput end to end on PostgreSQL: queued tasks drained over HTTP by concurrent claimers.

    .venv/bin/python benchmarks/task_throughput.py [--tasks 10000] [--claimers 8] [--database multica_bench_tasks]

Builds a fresh database (dropped and re-created: never point it at one you care about), migrates
it, creates a workspace with a daemon token, a runtime and an agent, inserts the queued tasks in
bulk, then serves the app with gunicorn (`gunicorn.conf.py`, production settings) and lets
`--claimers` threads loop claim → start → complete over keep-alive HTTP until every claim answers
204. It reports tasks/s, claim latency percentiles, double dispatches (a task id handed out twice,
or a row not completed exactly once: must be 0) and the PostgreSQL plan of the claim query, which
must use the `(runtime_id, status, created_at)` index. Results go to `.benchmarks/results/`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone

import httpx
import sqlalchemy as sa

from _common import ROOT, versions, write_result

GOAL_TASKS_PER_SECOND = 500


def _admin_url(database: str) -> tuple[str, str]:
    base = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
    return f"{base}/postgres", f"{base}/{database}"


def fresh_database(database: str) -> str:
    """Drop and create `database`, migrate it; its SQLAlchemy URL."""
    admin, url = _admin_url(database)
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "app", "db", "upgrade"], cwd=ROOT, check=True,
        env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return url


def seed(url: str, count: int) -> tuple[str, str]:
    """A workspace, a daemon token, a runtime, an agent and `count` queued tasks; (token, runtime id)."""
    from multica import create_app
    from multica.agents.models import Agent
    from multica.auth.models import User
    from multica.extensions import db
    from multica.runtimes.models import Runtime
    from multica.runtimes.service import create_daemon_token
    from multica.tasks.models import AgentTask
    from multica.workspaces.service import create_workspace

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "POSTHOG_API_KEY": "", "TESTING": True})
    with app.app_context():
        user = User(name="bench", email="bench@example.com", onboarding_questionnaire={})
        db.session.add(user)
        db.session.commit()
        workspace = create_workspace(user, "Bench", "bench")
        _, token = create_daemon_token(user, workspace)
        runtime = Runtime(workspace_id=workspace.id, daemon_id="bench", provider="claude", status="online")
        db.session.add(runtime)
        db.session.flush()
        agent = Agent(workspace_id=workspace.id, runtime_id=runtime.id, name="Bench agent", template="coding")
        db.session.add(agent)
        db.session.commit()
        start = time.time()
        rows = [
            {"id": uuid.uuid4(), "workspace_id": workspace.id, "agent_id": agent.id, "runtime_id": runtime.id, "source": "issue",
             "status": "queued", "attempt": 1, "prompt": f"task {n}", "created_at": _moment(start, n)}
            for n in range(count)
        ]
        for chunk in range(0, count, 1000):
            db.session.execute(sa.insert(AgentTask.__table__), rows[chunk:chunk + 1000])
        db.session.commit()
        db.session.execute(sa.text("ANALYZE agent_task_queue"))
        db.session.commit()
        return token, str(runtime.id)


def _moment(start: float, index: int) -> datetime:
    """Distinct creation times a microsecond apart, so "oldest first" is well defined."""
    return datetime.fromtimestamp(start + index / 1e6, timezone.utc)


def claim_plan(url: str, runtime_id: str) -> str:
    """EXPLAIN of the claim statement exactly as the app issues it."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        plan = conn.execute(sa.text(
            "EXPLAIN UPDATE agent_task_queue SET status = 'dispatched', dispatched_at = now() "
            "WHERE agent_task_queue.id = (SELECT agent_task_queue.id FROM agent_task_queue "
            "WHERE agent_task_queue.runtime_id = :runtime AND agent_task_queue.status = 'queued' "
            "ORDER BY agent_task_queue.created_at, agent_task_queue.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "AND agent_task_queue.status = 'queued' RETURNING agent_task_queue.id"
        ), {"runtime": runtime_id}).scalars().all()
        conn.rollback()
    engine.dispose()
    return "\n".join(plan)


def serve(url: str, port: int, workers: int, threads: int, work: str) -> subprocess.Popen:
    """gunicorn with the production settings, waiting until it answers."""
    env = {
        **os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-" + uuid.uuid4().hex, "DATABASE_URL": url,
        "RATELIMIT_ENABLED": "false", "POSTHOG_API_KEY": "", "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads), "PROMETHEUS_MULTIPROC_DIR": os.path.join(work, "prometheus"), "LOG_LEVEL": "WARNING",
    }
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "app:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "gunicorn.log"), "w"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/config", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not become ready")


def drain(base: str, token: str, runtime_id: str, claimers: int) -> tuple[list[str], list[float], float, int]:
    """Every claimer loops claim → start → complete until 204; (claimed ids, claim latencies, seconds, errors)."""
    claimed: list[str] = []
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(claimers)

    def claimer() -> None:
        mine, waits = [], []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            barrier.wait()
            while True:
                began = time.perf_counter()
                response = http.post("/api/daemon/tasks/claim", json={"runtime_id": runtime_id})
                waits.append(time.perf_counter() - began)
                if response.status_code == 204:
                    break
                if response.status_code != 200:
                    with lock:
                        errors[0] += 1
                    continue
                task_id = response.json()["task"]["id"]
                mine.append(task_id)
                for action, body in (("start", {}), ("complete", {"result": "ok"})):
                    if http.post(f"/api/daemon/tasks/{task_id}/{action}", json=body).status_code != 200:
                        with lock:
                            errors[0] += 1
        with lock:
            claimed.extend(mine)
            latencies.extend(waits)

    threads = [threading.Thread(target=claimer) for _ in range(claimers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claimed, latencies, time.perf_counter() - began, errors[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--claimers", type=int, default=8)
    parser.add_argument("--database", default="multica_bench_tasks")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUNICORN_THREADS", 4)))
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()

    url = fresh_database(args.database)
    token, runtime_id = seed(url, args.tasks)
    plan = claim_plan(url, runtime_id)
    print("claim plan:\n" + plan, flush=True)
    with tempfile.TemporaryDirectory() as work:
        server = serve(url, args.port, args.workers, args.threads, work)
        try:
            claimed, latencies, seconds, errors = drain(f"http://127.0.0.1:{args.port}", token, runtime_id, args.claimers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        completed = conn.execute(sa.text("SELECT count(*) FROM agent_task_queue WHERE status = 'completed'")).scalar()
        left = conn.execute(sa.text("SELECT count(*) FROM agent_task_queue WHERE status <> 'completed'")).scalar()
    engine.dispose()
    double = (len(claimed) - len(set(claimed))) + abs(completed - len(set(claimed)))
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    rate = len(set(claimed)) / seconds if seconds else 0.0
    uses_index = "ix_agent_task_queue_runtime_id_status_created_at" in plan
    result = {
        "tasks": args.tasks, "claimers": args.claimers, "gunicorn_workers": args.workers, "gunicorn_threads": args.threads,
        "seconds": round(seconds, 2), "tasks_per_second": round(rate, 1), "claim_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "claim_p99_ms": round(p99, 2), "double_dispatch": double, "errors": errors, "not_completed": left,
        "claim_uses_index": uses_index, "plan": plan, "goal_tasks_per_second": GOAL_TASKS_PER_SECOND, "versions": versions(),
    }
    write_result("task_throughput", result)
    print(
        f"{len(set(claimed))} tasks in {seconds:.1f} s = {rate:.0f} tasks/s (goal {GOAL_TASKS_PER_SECOND}); "
        f"claim p50 {result['claim_p50_ms']} ms, p99 {result['claim_p99_ms']} ms; double dispatch {double}; "
        f"errors {errors}; not completed {left}; claim uses the index: {uses_index}",
        flush=True,
    )
    return 0 if double == 0 and errors == 0 and left == 0 and uses_index and rate >= GOAL_TASKS_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
