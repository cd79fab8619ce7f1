"""Task throughput end to end on PostgreSQL: queued tasks drained over HTTP by concurrent claimers.

    .venv/bin/python benchmarks/task_throughput.py [--tasks 10000] [--claimers 8] [--database multica_bench_tasks]

Builds a fresh database (dropped and re-created: never point it at one you care about), migrates
it, creates a workspace with a daemon token, a runtime and an agent, inserts the queued tasks in
bulk, then serves the app with gunicorn (`gunicorn.conf.py`, production settings) and lets
`--claimers` processes (one keep-alive `http.client` connection each) loop claim → start → complete over keep-alive HTTP until every claim answers
204. It reports tasks/s, claim latency percentiles, double dispatches (a task id handed out twice,
or a row not completed exactly once: must be 0) and the PostgreSQL plan of the claim query, which
must use the `(runtime_id, status, created_at)` index. Results go to `.benchmarks/results/`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from http.client import HTTPConnection
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa

from _common import ROOT, versions, write_result
from _procstat import tree_cpu

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


def _claimer(base: str, token: str, runtime_id: str, ready, results) -> None:
    """One daemon: claim → start → complete over one keep-alive connection until a claim answers 204."""
    address = urlsplit(base)
    http = HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    claim_body = json.dumps({"runtime_id": runtime_id})
    mine, waits, errors = [], [], 0

    def post(path: str, body: str) -> tuple[int, bytes]:
        http.request("POST", path, body=body, headers=headers)
        response = http.getresponse()
        return response.status, response.read()

    ready.wait()
    while True:
        began = time.perf_counter()
        status, payload = post("/api/daemon/tasks/claim", claim_body)
        waits.append(time.perf_counter() - began)
        if status == 204:
            break
        if status != 200:
            errors += 1
            continue
        task_id = json.loads(payload)["task"]["id"]
        mine.append(task_id)
        for action, body in (("start", "{}"), ("complete", '{"result": "ok"}')):
            if post(f"/api/daemon/tasks/{task_id}/{action}", body)[0] != 200:
                errors += 1
    http.close()
    results.put((mine, waits, errors))


def drain(base: str, token: str, runtime_id: str, claimers: int) -> tuple[list[str], list[float], float, int]:
    """`claimers` processes (each a daemon with its own connection, so the load generator is not one
    interpreter's GIL) drain the queue; (claimed ids, claim latencies, seconds, errors)."""
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(claimers + 1)
    results = context.Queue()
    processes = [context.Process(target=_claimer, args=(base, token, runtime_id, ready, results)) for _ in range(claimers)]
    for process in processes:
        process.start()
    ready.wait()
    began = time.perf_counter()
    claimed: list[str] = []
    latencies: list[float] = []
    errors = 0
    for _ in processes:
        mine, waits, failed = results.get()
        claimed.extend(mine)
        latencies.extend(waits)
        errors += failed
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
    return claimed, latencies, seconds, errors


def _children_cpu() -> float:
    """CPU seconds of this process's children that have been waited for (the claimers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _backends_cpu(url: str, database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `database` (the app's pool: opened by the run)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pids = conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        ), {"db": database}).scalars().all()
    engine.dispose()
    return sum(tree_cpu(pid) for pid in pids)


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
            app_before, claimers_before = tree_cpu(server.pid), _children_cpu()
            claimed, latencies, seconds, errors = drain(f"http://127.0.0.1:{args.port}", token, runtime_id, args.claimers)
            app_cpu, claimers_cpu = tree_cpu(server.pid) - app_before, _children_cpu() - claimers_before
            database_cpu = _backends_cpu(url, args.database)
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
        "cpu_ms_per_task": {
            "app": round(app_cpu / max(1, len(claimed)) * 1000, 3),
            "postgres": round(database_cpu / max(1, len(claimed)) * 1000, 3),
            "claimers": round(claimers_cpu / max(1, len(claimed)) * 1000, 3),
        },
        "claim_uses_index": uses_index, "plan": plan, "goal_tasks_per_second": GOAL_TASKS_PER_SECOND, "versions": versions(),
    }
    write_result("task_throughput", result)
    print(
        f"{len(set(claimed))} tasks in {seconds:.1f} s = {rate:.0f} tasks/s (goal {GOAL_TASKS_PER_SECOND}); "
        f"claim p50 {result['claim_p50_ms']} ms, p99 {result['claim_p99_ms']} ms; double dispatch {double}; "
        f"errors {errors}; not completed {left}; claim uses the index: {uses_index}; CPU per task: "
        + ", ".join(f"{name} {value} ms" for name, value in result["cpu_ms_per_task"].items()),
        flush=True,
    )
    return 0 if double == 0 and errors == 0 and left == 0 and uses_index and rate >= GOAL_TASKS_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
