"""`analytics funnel` on a generated PostgreSQL database of 1 000 000 users (D16.2).

    .venv/bin/python benchmarks/funnel_million.py [--users 1000000] [--database multica_bench_funnel]

Builds a fresh database (dropped and re-created: never point it at one you care about), migrates
it, generates the users and their rows with `generate_series` (half own a workspace, a quarter
registered a runtime and made an agent, a fifth created an issue, a tenth had it executed, a third
onboarded, invitations for a twentieth), runs `ANALYZE`, then times the funnel (best of 3 after a
warm-up) and prints the PostgreSQL plans of its queries. Goal: under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import time

import sqlalchemy as sa

from _common import write_result
from task_throughput import _admin_url, fresh_database

GOAL_SECONDS = 2.0

GENERATE = [
    """INSERT INTO "user" (id, name, email, onboarding_questionnaire, created_at, updated_at, onboarded_at,
                           onboarding_questionnaire_submitted_at, cloud_waitlist_email)
       SELECT md5('u' || i)::uuid, 'u' || i, 'u' || i || '@example.com', '{}', now() - (i % 90) * interval '1 day', now(),
              CASE WHEN i % 3 = 0 THEN now() END, CASE WHEN i % 2 = 0 THEN now() END,
              CASE WHEN i % 7 = 0 THEN 'w' || i || '@example.com' END
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO workspace (id, name, slug, created_at, updated_at)
       SELECT md5('w' || i)::uuid, 'w' || i, 'w' || i, now(), now() FROM generate_series(2, :n, 2) AS i""",
    """INSERT INTO member (id, workspace_id, user_id, role, created_at)
       SELECT md5('m' || i)::uuid, md5('w' || i)::uuid, md5('u' || i)::uuid, 'owner', now() FROM generate_series(2, :n, 2) AS i""",
    """INSERT INTO runtime (id, workspace_id, daemon_id, provider, registered_by, created_at, updated_at)
       SELECT md5('r' || i)::uuid, md5('w' || i)::uuid, 'host' || i, 'claude', md5('u' || i)::uuid, now(), now()
       FROM generate_series(4, :n, 4) AS i""",
    """INSERT INTO agent (id, workspace_id, runtime_id, owner_id, name, created_at)
       SELECT md5('a' || i)::uuid, md5('w' || i)::uuid, md5('r' || i)::uuid, md5('u' || i)::uuid, 'Coder', now()
       FROM generate_series(4, :n, 4) AS i""",
    """INSERT INTO issue (id, workspace_id, number, key, title, creator_id, first_executed_at, created_at, updated_at)
       SELECT md5('i' || i)::uuid, md5('w' || i)::uuid, 1, 'ISS-1', 'Issue', md5('u' || i)::uuid,
              CASE WHEN i % 20 = 0 THEN now() - (i % 60) * interval '1 day' END, now(), now()
       FROM generate_series(10, :n, 10) AS i""",
    """INSERT INTO workspace_invitation (id, workspace_id, inviter_id, invitee_email, invitee_user_id, role, status, created_at, updated_at, expires_at)
       SELECT md5('v' || i)::uuid, md5('w' || i)::uuid, md5('u' || i)::uuid, 'u' || (i - 1) || '@example.com',
              CASE WHEN i % 40 = 0 THEN md5('u' || (i - 1))::uuid END, 'member', CASE WHEN i % 40 = 0 THEN 'accepted' ELSE 'pending' END,
              now(), now(), now() + interval '7 days'
       FROM generate_series(20, :n, 20) AS i""",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--database", default="multica_bench_funnel")
    parser.add_argument("--reuse", action="store_true", help="Keep the database a previous run generated.")
    args = parser.parse_args()
    if args.reuse:
        url = _admin_url(args.database)[1]
    else:
        url = fresh_database(args.database)
        engine = sa.create_engine(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            for statement in GENERATE:
                conn.execute(sa.text(statement), {"n": args.users})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        print(f"generated {args.users} users and their rows in {time.perf_counter() - started:.1f} s")
        engine.dispose()

    from multica import create_app
    from multica.extensions import db
    from multica.insight.service import funnel, parse_since

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "POSTHOG_API_KEY": "", "TESTING": True})
    statements = []
    with app.app_context():
        since = parse_since("30d")
        funnel(since)  # warm-up
        timings = []
        for _ in range(3):
            begin = time.perf_counter()
            report = funnel(since)
            timings.append(time.perf_counter() - begin)

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def _capture(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        funnel(since)
        sa.event.remove(db.engine, "before_cursor_execute", _capture)
        plans = []
        for statement, parameters in statements:
            if statement.startswith("SET "):  # the transaction's settings: applied, not explained
                db.session.connection().exec_driver_sql(statement, parameters)
                plans.append(statement)
                continue
            rows = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters).all()
            plans.append("\n".join(row[0] for row in rows))
    best = min(timings)
    print("steps:", {step["name"]: step["count"] for step in report["steps"]})
    print("completion paths:", report["completion_paths"])
    print(f"funnel over {args.users} users: best {best:.3f} s, runs {[round(t, 3) for t in timings]} (goal < {GOAL_SECONDS} s)")
    for plan in plans:
        print("\n" + plan)
    write_result("funnel_million", {"users": args.users, "best_seconds": best, "runs": timings, "goal_seconds": GOAL_SECONDS})
    return 0 if best < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
