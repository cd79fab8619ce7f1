"""The /feedback page (the Help menu's Feedback item without JavaScript) and the Help menu on every
signed-in page (SPEC §16, D10, D14.13), through the test client."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import create_user, create_workspace, flush
from tests.feedback.helpers import age_rows, rows, signed_in

HELP_LINK = re.compile(r'<a role="menuitem" data-feedback-open\s+href="([^"]+)">Feedback</a>')


def feedback_links(html: str) -> list[str]:
    return HELP_LINK.findall(html)


def test_the_page_needs_a_signed_in_person(client):
    for path in ("/feedback", "/feedback?workspace=" + str(uuid.uuid4())):
        response = client.get(path)
        assert response.status_code == 302
        assert response.location.startswith("/login?next=")
    assert client.post("/feedback", data={"message": "anon"}).status_code in (302, 403)


def test_the_page_shows_the_form(app):
    client, _ = signed_in(app, create_user(app))
    page = client.get("/feedback").text
    form = page[page.index('<section class="form-card feedback-page"'):]
    assert 'action="/feedback"' in form and 'method="post"' in form
    assert 'name="csrf_token"' in form
    assert re.search(r'<textarea[^>]*name="message"', form)
    assert re.search(r'<button[^>]*type="submit"[^>]*>Send</button>', form)
    assert 'name="workspace" value=""' in form


def test_inside_a_workspace_the_page_carries_it(app):
    user = create_user(app)
    workspace = create_workspace(app, user, name="Acme", slug="acme-fb")
    client, _ = signed_in(app, user)
    page = client.get(f"/feedback?workspace={workspace['id']}").text
    form = page[page.index('<section class="form-card feedback-page"'):]
    assert f'name="workspace" value="{workspace["id"]}"' in form
    assert "About Acme" in form
    assert 'href="/acme-fb/issues"' in form


@pytest.mark.parametrize("workspace", ["not-a-uuid", str(uuid.uuid4()), "other"])
def test_a_workspace_that_is_not_mine_is_404(app, workspace):
    if workspace == "other":
        workspace = create_workspace(app, create_user(app))["id"]
    client, _ = signed_in(app, create_user(app))
    assert client.get(f"/feedback?workspace={workspace}").status_code == 404


def test_posting_stores_emits_and_redirects_to_a_thank_you(app, sink):
    user = create_user(app)
    workspace = create_workspace(app, user)
    client, token = signed_in(app, user)
    response = client.post("/feedback", data={
        "csrf_token": token, "message": "  Page feedback: works without JS  ", "url": "http://localhost/acme/issues",
        "workspace": workspace["id"],
    })
    assert response.status_code == 302
    assert response.location == f"/feedback?workspace={workspace['id']}&sent=1"
    [row] = rows(app, user)
    assert row.message == "Page feedback: works without JS"
    assert str(row.workspace_id) == workspace["id"]
    assert row.details["url"] == "http://localhost/acme/issues"
    assert row.details["platform"] == "web"
    thanks = client.get(response.location).text
    assert "Thanks — your feedback was sent." in thanks
    flush(app)
    [event] = sink.events("feedback_submitted")
    assert event["distinct_id"] == user.id
    assert event["properties"]["workspace_id"] == workspace["id"]
    assert event["properties"]["platform"] == "web"
    assert "works without JS" not in repr(event) and "localhost/acme" not in repr(event)


def test_posting_without_a_workspace_redirects_to_the_plain_page(app, sink):
    user = create_user(app)
    client, token = signed_in(app, user)
    response = client.post("/feedback", data={"csrf_token": token, "message": "hello", "workspace": ""})
    assert response.status_code == 302 and response.location == "/feedback?sent=1"
    flush(app)
    [event] = sink.events("feedback_submitted")
    assert "workspace_id" not in event["properties"]


def test_the_form_needs_the_csrf_token(app, sink):
    user = create_user(app)
    client, _ = signed_in(app, user)
    assert client.post("/feedback", data={"message": "forged"}).status_code == 403
    assert client.post("/feedback", data={"message": "forged", "csrf_token": "nope"}).status_code == 403
    assert rows(app) == []
    flush(app)
    assert sink.events("feedback_submitted") == []


@pytest.mark.parametrize(
    ("data", "status", "shown"),
    [
        ({"message": "   "}, 400, "Sorry — message is required."),
        ({"message": "x" * 10001}, 400, "Sorry — message too long."),
        ({"message": "hi", "workspace": "bad"}, 400, "Sorry — invalid workspace_id."),
        ({"message": "hi", "workspace": str(uuid.uuid4())}, 403, "Sorry — you are not a member of this workspace."),
        ({"message": "hi", "url": "https://x/" + "a" * 5000}, 400, "Sorry — url is too long."),
    ],
)
def test_refusals_are_shown_inline_with_the_status(app, sink, data, status, shown):
    user = create_user(app)
    client, token = signed_in(app, user)
    response = client.post("/feedback", data={"csrf_token": token, **data})
    assert response.status_code == status
    form = response.text[response.text.index('<section class="form-card feedback-page"'):]
    assert re.search(r'<p class="flash error" role="alert" data-feedback-error\s*>' + re.escape(shown) + "</p>", form)
    if data["message"].strip():
        assert data["message"][:50] in form  # what was typed is kept
    assert rows(app) == []
    flush(app)
    assert sink.events("feedback_submitted") == []


def test_the_eleventh_in_an_hour_shows_the_429_message(app, sink):
    user = create_user(app)
    client, token = signed_in(app, user)
    for index in range(10):
        assert client.post("/feedback", data={"csrf_token": token, "message": f"n{index}"}).status_code == 302
    response = client.post("/feedback", data={"csrf_token": token, "message": "eleventh"})
    assert response.status_code == 429
    assert "Sorry — too many feedback submissions, please try again later." in response.text
    assert len(rows(app, user)) == 10
    age_rows(app, user, minutes=61)
    assert client.post("/feedback", data={"csrf_token": token, "message": "later"}).status_code == 302
    flush(app)
    assert len(sink.events("feedback_submitted")) == 11


# ---- the Help menu on every signed-in page -------------------------------------------------------

def test_the_help_menu_is_on_onboarding_and_account_pages_without_a_workspace(app):
    user = create_user(app)
    client, _ = signed_in(app, user)
    for path in ("/onboarding", "/invitations", "/workspaces/new", "/feedback"):
        page = client.get(path).text
        assert re.search(r'<summary role="button"[^>]*>Help</summary>', page), path
        assert feedback_links(page) == ["/feedback"], path
        dialog = re.search(r"<dialog [^>]*>", page).group(0)
        assert 'role="dialog"' in dialog and "data-workspace-id" not in dialog, path


def test_inside_a_workspace_the_help_menu_carries_its_id(app):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="with-help")
    client, _ = signed_in(app, user)
    page = client.get("/with-help/issues").text
    assert feedback_links(page) == [f"/feedback?workspace={workspace['id']}"]
    dialog = re.search(r"<dialog [^>]*>", page).group(0)
    assert f'data-workspace-id="{workspace["id"]}"' in dialog
    assert re.search(r"<script src=\"/static/js/feedback.js\" defer></script>", page)


def test_feedback_is_a_reserved_workspace_slug(app, client):
    user = create_user(app)
    response = client.post("/api/workspaces", json={"name": "Feedback", "slug": "feedback"}, headers=user.headers)
    assert response.status_code == 400
    assert response.json == {"error": "invalid slug"}
