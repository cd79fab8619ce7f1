"""Questionnaire, completion and cloud waitlist from the wire (SPEC §9.2–§9.4, §9.7, D13)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from multica.auth.models import User
from multica.extensions import db
from multica.onboarding.service import recommend_template
from tests.conftest import create_user, create_workspace, flush

FULL = {"team_size": "solo", "team_size_other": None, "role": "developer", "role_other": None, "use_case": "coding", "use_case_other": None}


def patch(client, user, questionnaire=..., headers=None):
    body = {} if questionnaire is ... else {"questionnaire": questionnaire}
    return client.patch("/api/me/onboarding", json=body, headers={**user.headers, **(headers or {})})


def stored(app, user):
    with app.app_context():
        return db.session.get(User, uuid.UUID(user.id))


# ---- questionnaire -------------------------------------------------------------------------------

def test_first_complete_questionnaire_emits_once(app, client, sink):
    user = create_user(app)
    response = patch(client, user, FULL)
    assert response.status_code == 200
    assert response.json["onboarding_questionnaire"] == FULL
    flush(app)
    submitted = sink.events("onboarding_questionnaire_submitted")
    assert len(submitted) == 1
    event = submitted[0]
    assert event["distinct_id"] == user.id
    props = event["properties"]
    assert {k: props[k] for k in ("team_size", "role", "use_case")} == {"team_size": "solo", "role": "developer", "use_case": "coding"}
    assert props["team_size_has_other"] is False and props["role_has_other"] is False and props["use_case_has_other"] is False
    assert props["$set"] == {"team_size": "solo", "role": "developer", "use_case": "coding"}
    assert "workspace_id" not in props
    # A revision does not re-emit; clearing then refilling does not either.
    patch(client, user, {**FULL, "role": "founder"})
    patch(client, user, {**FULL, "role": None})
    patch(client, user, FULL)
    flush(app)
    assert len(sink.events("onboarding_questionnaire_submitted")) == 1
    assert stored(app, user).onboarding_questionnaire_submitted_at is not None


def test_other_text_never_travels(app, client, sink):
    user = create_user(app)
    patch(client, user, {"team_size": "team", "role": "other", "role_other": "CTO", "use_case": "coding"})
    flush(app)
    props = sink.events("onboarding_questionnaire_submitted")[0]["properties"]
    assert props["role_has_other"] is True
    assert props["team_size_has_other"] is False and props["use_case_has_other"] is False
    assert "CTO" not in json.dumps(sink.events())


def test_emitted_on_the_call_that_completes(app, client, sink):
    user = create_user(app)
    patch(client, user, {"team_size": "solo", "role": "writer"})
    flush(app)
    assert sink.events("onboarding_questionnaire_submitted") == []
    patch(client, user, {"team_size": "solo", "role": "writer", "use_case": "writing_research"})
    flush(app)
    assert len(sink.events("onboarding_questionnaire_submitted")) == 1


@pytest.mark.parametrize("body", [{}, {"questionnaire": None}])
def test_absent_questionnaire_is_unchanged(app, client, sink, body):
    user = create_user(app)
    patch(client, user, {"team_size": "solo"})
    before = stored(app, user).updated_at
    response = client.patch("/api/me/onboarding", json=body, headers=user.headers)
    assert response.status_code == 200
    assert response.json["onboarding_questionnaire"] == {"team_size": "solo"}
    assert stored(app, user).updated_at >= before
    flush(app)
    assert sink.events("onboarding_questionnaire_submitted") == []


def test_replaced_wholesale(app, client):
    user = create_user(app)
    patch(client, user, {"team_size": "solo", "role": "writer"})
    assert patch(client, user, {"use_case": "explore"}).json["onboarding_questionnaire"] == {"use_case": "explore"}


@pytest.mark.parametrize(
    "questionnaire",
    ["solo", ["solo"], 42, {"team_size": "huge"}, {"role": 7}, {"use_case": ["coding"]}, {"role_other": "x" * 201}, {"team_size_other": 5}],
)
def test_invalid_questionnaire(app, client, sink, questionnaire):
    user = create_user(app)
    response = patch(client, user, questionnaire)
    assert response.status_code == 400 and response.json == {"error": "invalid questionnaire"}
    assert stored(app, user).onboarding_questionnaire == {}
    flush(app)
    assert sink.events() == []


def test_other_text_of_200_bytes_is_fine(app, client):
    user = create_user(app)
    assert patch(client, user, {"role": "other", "role_other": "é" * 100}).status_code == 200


def test_body_over_16_kib(app, client):
    user = create_user(app)
    response = client.patch("/api/me/onboarding", data=json.dumps({"questionnaire": {}, "pad": "x" * 17000}), content_type="application/json", headers=user.headers)
    assert response.status_code == 400 and response.json == {"error": "invalid request body"}


def test_requires_auth(client):
    assert client.patch("/api/me/onboarding", json={"questionnaire": FULL}).status_code == 401


def test_onboarding_started_is_counted_not_shipped(app, client, sink):
    user = create_user(app)
    patch(client, user, {"team_size": "solo"}, headers={"X-Client-Platform": "web"})
    patch(client, user, {"team_size": "team"}, headers={"X-Client-Platform": "web"})
    flush(app)
    assert sink.events("onboarding_started") == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'multica_onboarding_started_total{platform="web"} 1.0' in metrics


# ---- completion ----------------------------------------------------------------------------------

def test_complete_once(app, client, sink):
    user = create_user(app)
    workspace = create_workspace(app, user)
    response = client.post("/api/me/onboarding/complete", json={"completion_path": "full", "workspace_id": workspace["id"]}, headers=user.headers)
    assert response.status_code == 200
    onboarded_at = response.json["onboarded_at"]
    assert onboarded_at
    again = client.post("/api/me/onboarding/complete", json={"completion_path": "runtime_skipped"}, headers=user.headers)
    assert again.status_code == 200 and again.json["onboarded_at"] == onboarded_at
    flush(app)
    completed = sink.events("onboarding_completed")
    assert len(completed) == 1
    props = completed[0]["properties"]
    assert completed[0]["distinct_id"] == user.id
    assert props["completion_path"] == "full" and props["joined_cloud_waitlist"] is False
    assert props["workspace_id"] == workspace["id"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", props["$set_once"]["onboarded_at"])
    assert props["$set_once"]["onboarded_at"] == onboarded_at
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'multica_onboarding_completed_total{path="full"} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "path"),
    [(None, "unknown"), ({}, "unknown"), ({"completion_path": "bogus"}, "unknown"), ({"completion_path": "unknown"}, "unknown"),
     ({"completion_path": ""}, "unknown"), ({"completion_path": "skip_existing"}, "skip_existing"), ({"completion_path": "cloud_waitlist"}, "cloud_waitlist")],
)
def test_completion_paths(app, client, sink, body, path):
    user = create_user(app)
    kwargs = {"headers": user.headers}
    if body is not None:
        kwargs["json"] = body
    assert client.post("/api/me/onboarding/complete", **kwargs).status_code == 200
    flush(app)
    event = sink.events("onboarding_completed")[0]
    assert event["properties"]["completion_path"] == path
    assert "workspace_id" not in event["properties"]


@pytest.mark.parametrize(
    ("workspace_id", "status"),
    [("nope", 400), ("00000000-0000-4000-8000-000000000000", 403)],
)
def test_completion_workspace_checks(app, client, sink, workspace_id, status):
    user = create_user(app)
    response = client.post("/api/me/onboarding/complete", json={"completion_path": "full", "workspace_id": workspace_id}, headers=user.headers)
    assert response.status_code == status
    if status == 400:
        assert response.json == {"error": "invalid workspace_id"}
    assert stored(app, user).onboarded_at is None
    flush(app)
    assert sink.events("onboarding_completed") == []


def test_someone_elses_workspace_is_403(app, client):
    owner, stranger = create_user(app), create_user(app)
    workspace = create_workspace(app, owner)
    response = client.post("/api/me/onboarding/complete", json={"workspace_id": workspace["id"]}, headers=stranger.headers)
    assert response.status_code == 403


def test_workspace_id_is_canonicalised(app, client, sink):
    user = create_user(app)
    workspace = create_workspace(app, user)
    client.post("/api/me/onboarding/complete", json={"completion_path": "full", "workspace_id": workspace["id"].upper()}, headers=user.headers)
    flush(app)
    assert sink.events("onboarding_completed")[0]["properties"]["workspace_id"] == workspace["id"]


@pytest.mark.parametrize("body", [b"nope", b"[]", b'"x"', b'{"completion_path": 5}', b'{"workspace_id": 5}'])
def test_completion_bad_bodies(app, client, body):
    user = create_user(app)
    response = client.post("/api/me/onboarding/complete", data=body, content_type="application/json", headers=user.headers)
    assert response.status_code == 400
    assert stored(app, user).onboarded_at is None


# ---- cloud waitlist ------------------------------------------------------------------------------

def test_waitlist(app, client, sink):
    user = create_user(app)
    response = client.post("/api/me/onboarding/cloud-waitlist", json={"email": "Someone@Example.COM", "reason": "evaluating for our team"}, headers=user.headers)
    assert response.status_code == 200 and response.json["onboarded_at"] is None
    row = stored(app, user)
    assert row.cloud_waitlist_email == "someone@example.com" and row.cloud_waitlist_reason == "evaluating for our team"
    second = client.post("/api/me/onboarding/cloud-waitlist", json={"email": "other@example.com"}, headers=user.headers)
    assert second.status_code == 200
    row = stored(app, user)
    assert row.cloud_waitlist_email == "other@example.com" and row.cloud_waitlist_reason is None and row.onboarded_at is None
    flush(app)
    joined = sink.events("cloud_waitlist_joined")
    assert [e["properties"]["has_reason"] for e in joined] == [True, False]
    text = json.dumps(joined)
    assert "evaluating" not in text and "someone@example.com" not in text and "other@example.com" not in text
    # Then completing reports the waitlist.
    client.post("/api/me/onboarding/complete", json={"completion_path": "cloud_waitlist"}, headers=user.headers)
    flush(app)
    assert sink.events("onboarding_completed")[0]["properties"]["joined_cloud_waitlist"] is True


def test_waitlist_blank_reason(app, client, sink):
    user = create_user(app)
    client.post("/api/me/onboarding/cloud-waitlist", json={"email": "a@b.co", "reason": "  "}, headers=user.headers)
    assert stored(app, user).cloud_waitlist_reason is None
    flush(app)
    assert sink.events("cloud_waitlist_joined")[0]["properties"]["has_reason"] is False


def test_waitlist_display_name_is_canonicalised(app, client):
    user = create_user(app)
    client.post("/api/me/onboarding/cloud-waitlist", json={"email": "Ada Lovelace <Ada@Example.com>"}, headers=user.headers)
    assert stored(app, user).cloud_waitlist_email == "ada@example.com"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "email is required"), ({"email": ""}, "email is required"), ({"email": "   "}, "email is required"),
        ({"reason": "no email here"}, "email is required"), ({"email": "not-an-email"}, "email is invalid"),
        ({"email": "a@b.co", "reason": "x" * 501}, "reason is too long"), ({"email": "a" * 250 + "@b.co"}, "email is too long"),
        ({"email": 5}, "invalid request body"),
    ],
)
def test_waitlist_validation(app, client, sink, body, error):
    user = create_user(app)
    response = client.post("/api/me/onboarding/cloud-waitlist", json=body, headers=user.headers)
    assert response.status_code == 400 and response.json == {"error": error}
    assert stored(app, user).cloud_waitlist_email is None
    flush(app)
    assert sink.events() == []


def test_waitlist_reason_of_500_bytes(app, client):
    user = create_user(app)
    assert client.post("/api/me/onboarding/cloud-waitlist", json={"email": "a@b.co", "reason": "x" * 500}, headers=user.headers).status_code == 200


# ---- template recommendation ---------------------------------------------------------------------

USE_CASES = ["coding", "planning", "writing_research", "explore", "other", None]


@pytest.mark.parametrize(
    ("role", "use_case", "template"),
    [("other", "coding", "coding"), ("other", "planning", "planning"), ("other", "writing_research", "writing"),
     ("other", "explore", "assistant"), ("other", "other", "assistant"), ("other", None, "assistant")],
)
def test_role_other_is_recommended_by_use_case(role, use_case, template):
    assert recommend_template(role, use_case) == template


@pytest.mark.parametrize("use_case", USE_CASES)
def test_recommend_template(use_case):
    # D20: role "other" (or none, or unknown) decides by use case; the reference said "assistant" for all.
    by_use_case = {"coding": "coding", "planning": "planning", "writing_research": "writing"}.get(use_case, "assistant")
    assert recommend_template("other", use_case) == by_use_case
    assert recommend_template("founder", use_case) == "assistant"
    assert recommend_template("writer", use_case) == "writing"
    assert recommend_template("developer", use_case) == ("planning" if use_case == "planning" else "coding")
    assert recommend_template("product_lead", use_case) == ("coding" if use_case == "coding" else "planning")
    assert recommend_template(None, use_case) == by_use_case
    assert recommend_template("astronaut", use_case) == by_use_case
