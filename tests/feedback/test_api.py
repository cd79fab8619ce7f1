"""`POST /api/feedback` from the wire: status codes, stored rows, what the sink received (SPEC §11, §5.1, §7, D13 (3))."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import create_user, create_workspace, flush
from tests.feedback.helpers import age_rows, post_feedback, rows, signed_in

RATE_LIMITED = {"error": "too many feedback submissions, please try again later"}


def submitted(app, sink) -> list[dict]:
    """Every `feedback_submitted` the sink received once the app's queue is flushed."""
    flush(app)
    return sink.events("feedback_submitted")


def metric(client, line: str) -> bool:
    return line in client.get("/metrics").get_data(as_text=True)


# ---- the happy path ------------------------------------------------------------------------------

def test_valid_message_is_stored_and_emitted(app, client, sink):
    user = create_user(app, email="Reporter.Person@Example.com")
    response = post_feedback(
        client, user, {"message": "  The sidebar flickers on resize.  ", "url": "https://app.example/acme/issues?x=1"},
        headers={"User-Agent": "TestAgent/1.0"},
    )
    assert response.status_code == 201
    assert set(response.json) == {"id", "created_at"}
    assert uuid.UUID(response.json["id"])
    assert response.json["created_at"].endswith("Z")

    [row] = rows(app, user)
    assert str(row.id) == response.json["id"]
    assert row.message == "The sidebar flickers on resize."  # trimmed
    assert row.workspace_id is None
    assert row.details == {"url": "https://app.example/acme/issues?x=1", "platform": "", "version": "", "os": "", "user_agent": "TestAgent/1.0"}

    [event] = submitted(app, sink)
    assert event["distinct_id"] == user.id
    props = event["properties"]
    assert props["message_length_bucket"] == "0-100"
    assert props["has_images"] is False
    assert props["kind"] == "general"
    assert "workspace_id" not in props
    assert "platform" not in props and "app_version" not in props
    shipped = json.dumps(event)
    for secret in ("sidebar flickers", "app.example", "Reporter.Person", "reporter.person@example.com", "TestAgent"):
        assert secret.lower() not in shipped.lower()


def test_client_headers_travel_raw_and_are_stored(app, client, sink):
    user = create_user(app)
    headers = {"X-Client-Platform": "desktop", "X-Client-Version": "1.2.3", "X-Client-OS": "macos"}
    assert post_feedback(client, user, {"message": "hello"}, headers=headers).status_code == 201
    [row] = rows(app, user)
    assert (row.details["platform"], row.details["version"], row.details["os"]) == ("desktop", "1.2.3", "macos")
    [event] = submitted(app, sink)
    assert event["properties"]["platform"] == "desktop"
    assert event["properties"]["app_version"] == "1.2.3"
    assert metric(client, 'multica_feedback_submitted_total{kind="general",platform="desktop"} 1.0')


@pytest.mark.parametrize("headers", [{}, {"X-Client-Platform": "", "X-Client-Version": ""}])
def test_without_client_headers_both_keys_are_absent(app, client, sink, headers):
    user = create_user(app)
    assert post_feedback(client, user, {"message": "hello"}, headers=headers).status_code == 201
    [event] = submitted(app, sink)
    assert "platform" not in event["properties"]
    assert "app_version" not in event["properties"]
    assert metric(client, 'multica_feedback_submitted_total{kind="general",platform="unknown"} 1.0')


def test_an_unknown_platform_header_is_bucketed_in_the_metric_only(app, client, sink):
    user = create_user(app)
    assert post_feedback(client, user, {"message": "hi"}, headers={"X-Client-Platform": "toaster-9000"}).status_code == 201
    [event] = submitted(app, sink)
    assert event["properties"]["platform"] == "toaster-9000"
    assert metric(client, 'multica_feedback_submitted_total{kind="general",platform="unknown"} 1.0')
    assert "toaster-9000" not in client.get("/metrics").get_data(as_text=True)


def test_kind_is_trimmed_and_counted(app, client, sink):
    user = create_user(app)
    assert post_feedback(client, user, {"message": "crash", "kind": "  bug "}).status_code == 201
    [event] = submitted(app, sink)
    assert event["properties"]["kind"] == "bug"
    assert metric(client, 'multica_feedback_submitted_total{kind="bug",platform="unknown"} 1.0')


# ---- message rules (§11.1, §11.3, §11.4) ---------------------------------------------------------

@pytest.mark.parametrize("body", [{"message": "   "}, {"message": ""}, {"message": None}, {}, {"message": " \n\t "}])
def test_empty_message_is_required(app, client, sink, body):
    user = create_user(app)
    response = post_feedback(client, user, body)
    assert response.status_code == 400
    assert response.json == {"error": "message is required"}
    assert rows(app) == []
    assert submitted(app, sink) == []


@pytest.mark.parametrize(
    ("size", "bucket"),
    [(1, "0-100"), (99, "0-100"), (100, "100-500"), (499, "100-500"), (500, "500-2000"), (1999, "500-2000"), (2000, "2000+"), (10000, "2000+")],
)
def test_length_buckets_count_bytes_of_the_trimmed_message(app, client, sink, size, bucket):
    user = create_user(app)
    assert post_feedback(client, user, {"message": "   " + "x" * size + "   "}).status_code == 201
    [event] = submitted(app, sink)
    assert event["properties"]["message_length_bucket"] == bucket
    [row] = rows(app, user)
    assert len(row.message) == size


def test_buckets_count_bytes_not_characters(app, client, sink):
    user = create_user(app)
    assert post_feedback(client, user, {"message": "é" * 50}).status_code == 201  # 50 characters, 100 bytes
    [event] = submitted(app, sink)
    assert event["properties"]["message_length_bucket"] == "100-500"


@pytest.mark.parametrize("message", ["x" * 10001, "é" * 5001, "  " + "x" * 10001 + "  "])
def test_message_over_10000_bytes_is_too_long(app, client, sink, message):
    user = create_user(app)
    response = post_feedback(client, user, {"message": message})
    assert response.status_code == 400
    assert response.json == {"error": "message too long"}
    assert rows(app) == []
    assert submitted(app, sink) == []


def test_leading_and_trailing_spaces_do_not_count_toward_the_limit(app, client):
    user = create_user(app)
    assert post_feedback(client, user, {"message": " " * 3000 + "x" * 10000 + "\n" * 50}).status_code == 201


@pytest.mark.parametrize(
    ("message", "has_images"),
    [
        ("![shot](https://x/y.png)", True),
        ("![](a)", True),
        ("see ![screen](https://x/a.png) please", True),
        ("![alt]()", False),
        ("![alt](url", False),
        ("no image", False),
        ("[link](https://x)", False),
    ],
)
def test_has_images(app, client, sink, message, has_images):
    user = create_user(app)
    assert post_feedback(client, user, {"message": message}).status_code == 201
    [event] = submitted(app, sink)
    assert event["properties"]["has_images"] is has_images
    assert "https://x" not in json.dumps(event)


def test_the_event_never_carries_the_message_or_the_url(app, client, sink):
    user = create_user(app)
    message = "UNIQUE-MESSAGE-TEXT-4242 with ![img](https://images.example/secret.png)"
    url = "https://app.example/UNIQUE-URL-PATH-7777"
    assert post_feedback(client, user, {"message": message, "url": url}).status_code == 201
    flush(app)
    assert len(sink.events("feedback_submitted")) == 1
    everything = json.dumps([request.body for request in sink.requests])
    for secret in ("UNIQUE-MESSAGE-TEXT-4242", "UNIQUE-URL-PATH-7777", "images.example", user.email):
        assert secret not in everything
    [event] = sink.events("feedback_submitted")
    assert "message" not in event["properties"] and "url" not in event["properties"]


# ---- the hourly limit (§11.1, D9) ----------------------------------------------------------------

def test_ten_an_hour_then_429_with_no_event(app, client, sink):
    user = create_user(app)
    for index in range(10):
        response = post_feedback(client, user, {"message": f"note {index}"})
        assert response.status_code == 201, index
    response = post_feedback(client, user, {"message": "one too many"})
    assert response.status_code == 429
    assert response.json == RATE_LIMITED
    assert len(rows(app, user)) == 10
    assert "one too many" not in [row.message for row in rows(app, user)]
    events = submitted(app, sink)
    assert len(events) == 10
    assert {event["distinct_id"] for event in events} == {user.id}
    assert metric(client, 'multica_feedback_submitted_total{kind="general",platform="unknown"} 10.0')


def test_the_limit_is_per_user(app, client):
    first, second = create_user(app), create_user(app)
    for _ in range(10):
        assert post_feedback(client, first, {"message": "mine"}).status_code == 201
    assert post_feedback(client, first, {"message": "mine"}).status_code == 429
    assert post_feedback(client, second, {"message": "theirs"}).status_code == 201


def test_refused_submissions_do_not_count(app, client):
    user = create_user(app)
    for _ in range(5):
        assert post_feedback(client, user, {"message": "   "}).status_code == 400
        assert post_feedback(client, user, {"message": "x", "workspace_id": "bad"}).status_code == 400
    for _ in range(10):
        assert post_feedback(client, user, {"message": "counted"}).status_code == 201
    assert post_feedback(client, user, {"message": "counted"}).status_code == 429


def test_the_window_is_a_rolling_hour(app, client, sink):
    user = create_user(app)
    for _ in range(10):
        assert post_feedback(client, user, {"message": "early"}).status_code == 201
    age_rows(app, user, minutes=59)
    assert post_feedback(client, user, {"message": "still too soon"}).status_code == 429
    age_rows(app, user, minutes=61)
    assert post_feedback(client, user, {"message": "an hour later"}).status_code == 201
    assert len(rows(app, user)) == 11
    assert len(submitted(app, sink)) == 11


def test_rows_leaving_the_window_free_one_slot_each(app, client):
    user = create_user(app)
    for _ in range(10):
        assert post_feedback(client, user, {"message": "x"}).status_code == 201
    # Move the three oldest out of the window: exactly three more fit.
    with app.app_context():
        import sqlalchemy as sa
        from datetime import timedelta

        from multica.db_utils import utcnow
        from multica.extensions import db
        from multica.feedback.models import Feedback

        oldest = [row.id for row in rows(app, user)[:3]]
        db.session.execute(sa.update(Feedback).where(Feedback.id.in_(oldest)).values(created_at=utcnow() - timedelta(minutes=90)))
        db.session.commit()
    assert [post_feedback(client, user, {"message": "y"}).status_code for _ in range(4)] == [201, 201, 201, 429]


# ---- workspace attachment and membership (§11.2, D13 (3), D14.10) ---------------------------------

def test_workspace_id_is_stored_and_sent(app, client, sink):
    user = create_user(app)
    workspace = create_workspace(app, user)
    assert post_feedback(client, user, {"message": "in a workspace", "workspace_id": workspace["id"]}).status_code == 201
    [row] = rows(app, user)
    assert str(row.workspace_id) == workspace["id"]
    [event] = submitted(app, sink)
    assert event["properties"]["workspace_id"] == workspace["id"]


@pytest.mark.parametrize("body", [{"message": "none"}, {"message": "none", "workspace_id": ""}, {"message": "none", "workspace_id": None}])
def test_without_a_workspace_the_event_has_no_workspace_id(app, client, sink, body):
    user = create_user(app)
    assert post_feedback(client, user, body).status_code == 201
    [event] = submitted(app, sink)
    assert "workspace_id" not in event["properties"]
    assert rows(app, user)[0].workspace_id is None


@pytest.mark.parametrize("workspace_id", ["bad", "123", "not-a-uuid-at-all"])
def test_a_malformed_workspace_id_is_400(app, client, sink, workspace_id):
    user = create_user(app)
    response = post_feedback(client, user, {"message": "x", "workspace_id": workspace_id})
    assert response.status_code == 400
    assert response.json == {"error": "invalid workspace_id"}
    assert rows(app) == []
    assert submitted(app, sink) == []


def test_someone_elses_or_an_unknown_workspace_is_403(app, client, sink):
    owner, outsider = create_user(app), create_user(app)
    workspace = create_workspace(app, owner)
    for workspace_id in (workspace["id"], str(uuid.uuid4())):
        response = post_feedback(client, outsider, {"message": "sneaky", "workspace_id": workspace_id})
        assert response.status_code == 403
        assert "error" in response.json
    assert rows(app) == []
    assert submitted(app, sink) == []


@pytest.mark.postgres  # the app's SQLite connections do not enforce foreign keys
def test_deleting_the_workspace_keeps_the_feedback(app, client):
    user = create_user(app)
    workspace = create_workspace(app, user)
    assert post_feedback(client, user, {"message": "keep me", "workspace_id": workspace["id"]}).status_code == 201
    with app.app_context():
        from multica.extensions import db
        from multica.workspaces.models import Workspace

        db.session.delete(db.session.get(Workspace, uuid.UUID(workspace["id"])))
        db.session.commit()
    [row] = rows(app, user)
    assert row.message == "keep me" and row.workspace_id is None


# ---- authentication and CSRF (D3, D14.5) ---------------------------------------------------------

def test_requires_authentication(app, client, sink):
    assert client.post("/api/feedback", json={"message": "anon"}).status_code == 401
    response = client.post("/api/feedback", json={"message": "anon"}, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and "error" in response.json
    assert rows(app) == []
    assert submitted(app, sink) == []


def test_a_browser_session_needs_the_csrf_header(app, sink):
    user = create_user(app)
    client, token = signed_in(app, user)
    assert client.post("/api/feedback", json={"message": "no token"}).status_code == 403
    assert rows(app) == []
    response = client.post("/api/feedback", json={"message": "with token"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert [row.message for row in rows(app, user)] == ["with token"]


# ---- bad input (D14.9) ---------------------------------------------------------------------------

BAD_BODIES = [
    ("not json", "not json at all", "application/json"),
    ("form-encoded", "message=hello", "application/x-www-form-urlencoded"),
    ("array", json.dumps([{"message": "hello"}]), "application/json"),
    ("string", json.dumps("hello"), "application/json"),
    ("null", "null", "application/json"),
    ("number", "42", "application/json"),
    ("message number", json.dumps({"message": 42}), "application/json"),
    ("message object", json.dumps({"message": {"text": "hi"}}), "application/json"),
    ("message list", json.dumps({"message": ["hi"]}), "application/json"),
    ("url number", json.dumps({"message": "hi", "url": 7}), "application/json"),
    ("kind list", json.dumps({"message": "hi", "kind": ["bug"]}), "application/json"),
    ("workspace_id number", json.dumps({"message": "hi", "workspace_id": 5}), "application/json"),
    ("100 KB message", json.dumps({"message": "x" * 100_000}), "application/json"),
    ("over 64 KiB", json.dumps({"message": "hi", "pad": "x" * (64 * 1024)}), "application/json"),
    ("invalid utf-8", b'{"message": "\xff\xfe"}', "application/json"),
]


@pytest.mark.parametrize(("label", "data", "content_type"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_malformed_bodies_are_400_invalid_request_body(app, client, sink, label, data, content_type):
    user = create_user(app)
    response = client.post("/api/feedback", data=data, content_type=content_type, headers=user.headers)
    assert response.status_code == 400
    assert response.json == {"error": "invalid request body"}
    assert rows(app) == []
    assert submitted(app, sink) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "nul \x00 byte"}, "invalid message"),
        ({"message": "lone \ud800 surrogate"}, "invalid message"),
        ({"message": "hi", "url": "https://x/" + "a" * 5000}, "url is too long"),
        ({"message": "hi", "url": "https://x/\nnewline"}, "invalid url"),
        ({"message": "hi", "kind": "rant"}, "invalid kind"),
    ],
)
def test_invalid_fields_are_400_with_a_message(app, client, sink, body, message):
    user = create_user(app)
    response = client.post("/api/feedback", data=json.dumps(body), content_type="application/json", headers=user.headers)
    assert response.status_code == 400
    assert response.json == {"error": message}
    assert rows(app) == []
    assert submitted(app, sink) == []


def test_a_2_mb_body_is_413(app, client, sink):
    user = create_user(app)
    response = client.post("/api/feedback", data=json.dumps({"message": "x" * 2_000_000}), content_type="application/json", headers=user.headers)
    assert response.status_code == 413
    assert "error" in response.json
    assert rows(app) == []
    assert submitted(app, sink) == []


def test_multiline_messages_keep_their_lines(app, client):
    user = create_user(app)
    assert post_feedback(client, user, {"message": "line one\nline two\r\n\tindented"}).status_code == 201
    assert rows(app, user)[0].message == "line one\nline two\r\n\tindented"
