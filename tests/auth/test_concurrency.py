"""Sign-up under real concurrency (SPEC D2, D9, §8.2, §8.3, §8.5).

Twenty threads start together behind a barrier. Over HTTP they hit a live server (one werkzeug
thread per request, each with its own database session), so the once-only rules are exercised the
way gunicorn workers would exercise them: one user row, one `signup`, one code per resend window.
The `postgres` tests need TEST_DATABASE_URL; the last test runs on whichever engine is configured,
because the resend throttle must also hold on the embedded SQLite default (D2, D9).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from multica.auth.models import User, VerificationCode
from multica.auth.service import Restrictions, find_or_create_user, send_code, verify_code
from multica.errors import ApiError
from multica.extensions import db
from tests.conftest import flush

THREADS = 20
EMAIL = "race@example.com"
CODE = re.compile(r"\b(\d{6})\b")


def run_in_app_contexts(app, task, count: int = THREADS) -> list:
    """`task(i)` in an app context (its own session) per thread, each holding a connection before the race."""
    barrier = threading.Barrier(count, timeout=30)

    def run(index: int):
        with app.app_context():
            db.session.connection()  # check out a connection now, so the calls overlap instead of queueing
            barrier.wait()
            return task(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def post_together(base_url: str, path: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    """POST `bodies[i]` from one thread each, all released at once; returns `(status, json)` in order.

    Each thread opens its keep-alive connection (and so its server thread) before the barrier, so
    the requests overlap instead of queueing behind connection set-up.
    """
    barrier = threading.Barrier(len(bodies), timeout=30)

    def run(index: int) -> tuple[int, dict]:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            assert http.get("/healthz").status_code == 200
            barrier.wait()
            response = http.post(path, json=bodies[index])
            return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(run, range(len(bodies))))


@pytest.fixture
def app(make_app):
    """Codes kept in memory so the test can read them; a pool with a connection for every thread."""
    return make_app(
        MAIL_BACKEND="memory",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": THREADS + 5, "max_overflow": 0},
    )


@pytest.fixture
def server(live_server):
    return live_server.url


def count_rows(app, model, email: str = EMAIL) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.email == email))


@pytest.mark.postgres
def test_concurrent_verify_code_creates_one_user_and_one_signup(app, server, sink):
    response = httpx.post(f"{server}/auth/send-code", json={"email": EMAIL})
    assert response.status_code == 200, response.text
    [message] = app.extensions["mailer"].outbox
    code = CODE.search(message.get_content()).group(1)

    results = post_together(server, "/auth/verify-code", [{"email": EMAIL, "code": code}] * THREADS)

    winners = [body for status, body in results if status == 200]
    losers = [(status, body) for status, body in results if status != 200]
    # A code signs in once: the rest lost the race for it.
    assert len(winners) == 1, results
    assert losers == [(400, {"error": "invalid or expired code"})] * (THREADS - 1)
    [winner] = winners
    assert winner["token"]
    assert count_rows(app, User) == 1
    with app.app_context():
        user_id = str(db.session.scalar(sa.select(User.id).where(User.email == EMAIL)))
    assert winner["user"]["id"] == user_id

    flush(app)
    [signup] = sink.events("signup")
    assert signup["distinct_id"] == user_id
    assert signup["properties"]["email_domain"] == "example.com"
    assert signup["properties"]["$set_once"]["email"] == EMAIL
    assert "auth_method" not in signup["properties"]


@pytest.mark.postgres
def test_concurrent_verify_code_consumes_the_code_once(app):
    """The service itself, without HTTP in the way: twenty sessions race for one code."""
    with app.app_context():
        _, code = send_code(EMAIL, Restrictions())

    def verify(_):
        try:
            return verify_code(EMAIL, code)
        except ApiError as exc:
            return exc.status, exc.message

    results = run_in_app_contexts(app, verify)

    assert results.count(EMAIL) == 1, results
    assert sorted(r for r in results if r != EMAIL) == [(400, "invalid or expired code")] * (THREADS - 1)


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_find_or_create_makes_one_row_and_one_new_user(app, round_):
    email = f"race-{round_}@example.com"

    def find_or_create(_):
        user, is_new = find_or_create_user(email, Restrictions())
        return str(user.id), is_new

    results = run_in_app_contexts(app, find_or_create)

    assert [is_new for _, is_new in results].count(True) == 1, results
    assert len({user_id for user_id, _ in results}) == 1, results
    assert count_rows(app, User, email) == 1


@pytest.mark.postgres
def test_concurrent_find_or_create_respects_restrictions(app):
    def find_or_create(_):
        try:
            find_or_create_user(EMAIL, Restrictions(allow_signup=False))
        except ApiError as exc:
            return exc.status
        return "created"

    assert run_in_app_contexts(app, find_or_create) == [403] * THREADS
    assert count_rows(app, User) == 0


@pytest.mark.postgres
def test_concurrent_send_code_mails_one_code(app, server, sink):
    results = post_together(server, "/auth/send-code", [{"email": EMAIL}] * THREADS)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [429] * (THREADS - 1), results
    for status, body in results:
        if status == 429:
            assert body == {"error": "please wait before requesting another code"}
        else:
            assert body == {"message": "Verification code sent"}
    assert count_rows(app, VerificationCode) == 1
    assert len(app.extensions["mailer"].outbox) == 1
    flush(app)
    assert sink.events() == []


@pytest.mark.postgres
def test_concurrent_send_code_for_different_emails_is_not_throttled(app, server):
    """The per-email lock must not serialise (or refuse) other people's codes."""
    emails = [f"person-{i}@example.com" for i in range(THREADS)]

    results = post_together(server, "/auth/send-code", [{"email": email} for email in emails])

    assert [status for status, _ in results] == [200] * THREADS, results
    assert sorted(m["To"] for m in app.extensions["mailer"].outbox) == sorted(emails)


def test_resend_throttle_holds_under_concurrency_on_every_engine(app, server):
    """D9: the 60 s resend window counts rows, so it must hold for simultaneous requests on SQLite too.

    Several bursts, because a lost race is a matter of timing; one burst that mails two codes fails.
    """
    for burst in range(3):
        email = f"burst-{burst}@example.com"

        results = post_together(server, "/auth/send-code", [{"email": email}] * THREADS)

        statuses = Counter(status for status, _ in results)
        assert statuses == {200: 1, 429: THREADS - 1}, f"{email}: statuses {dict(statuses)}"
        assert count_rows(app, VerificationCode, email) == 1
