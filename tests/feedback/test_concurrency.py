"""The hourly feedback limit under real concurrency on PostgreSQL (SPEC §11.1, D9).

Twenty threads, each on its own keep-alive connection (so its own server thread and database
session), are released together against a live server. However they interleave, one user never has
more than 10 rows in the hour, every refused post is a 429, and only stored posts emit.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from multica.db_utils import utcnow
from multica.extensions import db
from multica.feedback.models import Feedback
from tests.conftest import create_user, create_workspace, flush
from tests.feedback.helpers import rows

pytestmark = pytest.mark.postgres

THREADS = 20
RATE_LIMITED = {"error": "too many feedback submissions, please try again later"}


@pytest.fixture
def app(make_app):
    """A pool with a connection for every thread."""
    return make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": THREADS + 5, "max_overflow": 0})


def together(base_url: str, send) -> list[httpx.Response]:
    """Call `send(http, i)` from THREADS threads released at the same instant, each on its own open connection."""
    barrier = threading.Barrier(THREADS, timeout=30)

    def run(index: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            assert http.get("/healthz").status_code == 200  # connection (and server thread) up before the race
            barrier.wait()
            return send(http, index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def seed(app, user, count: int, *, minutes_ago: float) -> None:
    """`count` stored rows for `user`, `minutes_ago` old (written directly: they emit nothing)."""
    with app.app_context():
        for index in range(count):
            db.session.add(Feedback(
                user_id=uuid.UUID(user.id), message=f"seeded {index}", details={},
                created_at=utcnow() - timedelta(minutes=minutes_ago),
            ))
        db.session.commit()


def in_the_hour(app, user) -> int:
    since = utcnow() - timedelta(hours=1)
    return len([row for row in rows(app, user) if row.created_at.replace(tzinfo=since.tzinfo) > since])


@pytest.mark.parametrize(("already", "free"), [(0, 10), (7, 3), (9, 1), (10, 0)])
def test_twenty_concurrent_posts_at_the_limit_edge(app, live_server, sink, already, free):
    user = create_user(app)
    workspace = create_workspace(app, user)
    seed(app, user, already, minutes_ago=30)
    seed(app, user, 5, minutes_ago=61)  # outside the window: they do not count
    responses = together(live_server.url, lambda http, i: http.post(
        "/api/feedback", json={"message": f"race {i}", "workspace_id": workspace["id"]},
        headers={**user.headers, "X-Client-Platform": "desktop"},
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * free + [429] * (THREADS - free)
    assert all(r.json() == RATE_LIMITED for r in responses if r.status_code == 429)
    assert in_the_hour(app, user) == 10
    stored_ids = {str(row.id) for row in rows(app, user) if row.message.startswith("race ")}
    assert stored_ids == {r.json()["id"] for r in responses if r.status_code == 201}
    flush(app)
    events = sink.events("feedback_submitted")
    assert len(events) == free
    assert {e["distinct_id"] for e in events} <= {user.id}
    metrics = httpx.get(f"{live_server.url}/metrics").text
    counted = f'multica_feedback_submitted_total{{kind="general",platform="desktop"}} {float(free)}'
    assert (counted in metrics) if free else ('platform="desktop"' not in metrics)


def test_concurrent_posts_by_different_users_do_not_share_a_limit(app, live_server, sink):
    users = [create_user(app) for _ in range(2)]
    for user in users:
        seed(app, user, 5, minutes_ago=10)
    responses = together(live_server.url, lambda http, i: http.post(
        "/api/feedback", json={"message": f"user {i % 2}"}, headers=users[i % 2].headers,
    ))
    assert sorted(r.status_code for r in responses) == [201] * 10 + [429] * 10
    assert [in_the_hour(app, user) for user in users] == [10, 10]
    flush(app)
    assert len(sink.events("feedback_submitted")) == 10
