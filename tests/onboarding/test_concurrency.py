"""Onboarding's once-only events under real concurrency on PostgreSQL (SPEC D2, D13 (12), §9.2, §9.3).

Twenty threads, each with its own keep-alive connection (so its own server thread and database
session), are released together against a live server. Whatever the interleaving, the
questionnaire event fires once, and completion flips `onboarded_at` once and emits once — through
the JSON API (Bearer) and through the onboarding page's Skip form (session cookie and CSRF token).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest


from multica.auth.models import User
from multica.extensions import db
from tests.conftest import create_user, create_workspace, csrf_token_in, flush

pytestmark = pytest.mark.postgres

THREADS = 20
FULL = {"team_size": "team", "team_size_other": None, "role": "developer", "role_other": None, "use_case": "coding", "use_case_other": None}


@pytest.fixture
def app(make_app):
    """A pool with a connection for every thread."""
    return make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": THREADS + 5, "max_overflow": 0})


def together(base_url: str, send, *, cookies=None) -> list[httpx.Response]:
    """Call `send(http, i)` from THREADS threads released at the same instant, each on its own open connection."""
    barrier = threading.Barrier(THREADS, timeout=30)

    def run(index: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30, cookies=cookies) as http:
            assert http.get("/healthz").status_code == 200  # connection (and server thread) up before the race
            barrier.wait()
            return send(http, index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def stored(app, user) -> User:
    with app.app_context():
        return db.session.get(User, uuid.UUID(user.id))


def test_concurrent_completing_patches_emit_one_questionnaire_event(app, live_server, sink):
    user = create_user(app)
    # Each thread completes the questionnaire with a different role, so every PATCH sees "incomplete before".
    roles = ["developer", "product_lead", "writer", "founder"]
    responses = together(live_server.url, lambda http, i: http.patch(
        "/api/me/onboarding", json={"questionnaire": {**FULL, "role": roles[i % 4]}}, headers=user.headers,
    ))
    assert [r.status_code for r in responses] == [200] * THREADS
    assert stored(app, user).onboarding_questionnaire_submitted_at is not None
    flush(app)
    submitted = sink.events("onboarding_questionnaire_submitted")
    assert len(submitted) == 1, submitted
    assert submitted[0]["distinct_id"] == user.id
    assert submitted[0]["properties"]["role"] in roles


def test_concurrent_completes_flip_onboarded_at_once_and_emit_once(app, live_server, sink):
    user = create_user(app)
    workspace = create_workspace(app, user)
    responses = together(live_server.url, lambda http, i: http.post(
        "/api/me/onboarding/complete", json={"completion_path": "full", "workspace_id": workspace["id"]}, headers=user.headers,
    ))
    assert [r.status_code for r in responses] == [200] * THREADS
    onboarded = {r.json()["onboarded_at"] for r in responses}
    assert len(onboarded) == 1 and None not in onboarded, onboarded
    flush(app)
    [completed] = sink.events("onboarding_completed")
    assert completed["distinct_id"] == user.id
    assert completed["properties"]["completion_path"] == "full"
    assert completed["properties"]["$set_once"]["onboarded_at"] == onboarded.pop()


def test_concurrent_skip_forms_complete_once(app, live_server, sink):
    """The page path: twenty Skip submissions from one signed-in browser session."""
    user = create_user(app)
    workspace = create_workspace(app, user)
    with app.app_context(), app.test_request_context():
        session_cookie = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id, "sid": "race"})
    name = app.config["SESSION_COOKIE_NAME"]
    page = httpx.get(f"{live_server.url}/onboarding?step=runtime&workspace={workspace['id']}", cookies={name: session_cookie})
    assert page.status_code == 200
    token = csrf_token_in(page.text)
    cookies = {name: page.cookies[name]}  # the session now also holds the CSRF secret
    responses = together(live_server.url, lambda http, i: http.post(
        "/onboarding", data={"csrf_token": token, "intent": "finish", "workspace": workspace["id"]},
    ), cookies=cookies)
    assert [r.status_code for r in responses] == [302] * THREADS
    assert {r.headers["location"] for r in responses} == {f"/onboarding?workspace={workspace['id']}&step=first_issue"}
    flush(app)
    [completed] = sink.events("onboarding_completed")
    assert completed["properties"]["completion_path"] == "runtime_skipped"
    assert stored(app, user).onboarded_at is not None
