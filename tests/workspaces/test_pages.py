"""Workspace pages: the workspace home with its issues, creating a workspace, invitations (D10, D14.13)."""

from __future__ import annotations

import html
import re
import uuid

import pytest

# Routes attach to the blueprints on import; import before any app is built.


from multica.agents.models import Agent
from multica.extensions import db
from multica.runtimes.models import Runtime
from tests.conftest import create_user, create_workspace, csrf_client, flush

def signed_in(app, user):
    """A test client carrying `user`'s session; its form posts carry the session's CSRF token."""
    return csrf_client(app, user)


def add_agent(app, workspace: dict, name: str = "Coding agent") -> str:
    """An agent on a fresh runtime of the workspace; returns its id."""
    with app.app_context():
        runtime = Runtime(workspace_id=uuid.UUID(workspace["id"]), daemon_id="box", provider="claude")
        db.session.add(runtime)
        db.session.flush()
        agent = Agent(workspace_id=runtime.workspace_id, runtime_id=runtime.id, name=name, template="coding")
        db.session.add(agent)
        db.session.commit()
        return str(agent.id)


@pytest.mark.parametrize("path", ["/acme/issues", "/workspaces/new", "/invitations"])
def test_pages_need_a_signed_in_person(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == f"/login?next={path}"


def test_issues_page_is_for_members_only(app):
    owner = create_user(app)
    create_workspace(app, owner, slug="private-ws")
    client = signed_in(app, create_user(app))
    assert client.get("/private-ws/issues").status_code == 404
    assert client.get("/no-such-ws/issues").status_code == 404
    # Same answer for both, so slugs cannot be probed.
    assert client.get("/private-ws/issues").text == client.get("/no-such-ws/issues").text
    client = signed_in(app, create_user(app))
    assert client.post("/private-ws/issues", data={"title": "sneaky"}).status_code == 404


def test_issues_page_lists_key_title_and_assignee(app):
    user = create_user(app)
    workspace = create_workspace(app, user, name="Acme", slug="acme")
    agent_id = add_agent(app, workspace, "Planner")
    for body in ({"title": "First thing"}, {"title": "Second thing", "assignee_agent_id": agent_id}):
        assert app.test_client().post(f"/api/workspaces/{workspace['id']}/issues", json=body, headers=user.headers).status_code == 201
    client = signed_in(app, user)
    page = client.get("/acme/issues").text
    rows = re.findall(r'<tr data-issue="([^"]+)">\s*<td class="issue-key">[^<]+</td>\s*<td>([^<]+)</td>\s*<td><span[^>]*>([^<]+)</span>', page)
    assert rows == [("ACME-2", "Second thing", "To do"), ("ACME-1", "First thing", "To do")]
    # Each row's assign control shows its assignee, "Unassigned" for nobody (one wording everywhere).
    cells = re.findall(r'<select id="assignee-([^"]+)" name="assignee">(.*?)</select>', page, re.S)
    chosen = {key: re.search(r'<option value="[^"]*"\s*selected>([^<]+)</option>', options) for key, options in cells}
    assert {key: match.group(1) if match else "Unassigned" for key, match in chosen.items()} == {"ACME-2": "Planner", "ACME-1": "Unassigned"}


def test_empty_workspace_invites_a_first_issue(app):
    user = create_user(app)
    create_workspace(app, user, slug="empty-ws")
    client = signed_in(app, user)
    page = client.get("/empty-ws/issues").text
    assert "No issues yet" in page
    assert "<table" not in page


def test_new_issue_form_creates_and_redirects(app, sink):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="forms")
    agent_id = add_agent(app, workspace)
    client = signed_in(app, user)
    response = client.post("/forms/issues", data={"title": "  Fix the login bug  ", "assignee": agent_id})
    assert response.status_code == 302 and response.location == "/forms/issues"
    page = client.get("/forms/issues").text
    assert "FORMS-1" in page and "Fix the login bug" in page
    flush(app)
    [event] = sink.events("issue_created")
    assert event["distinct_id"] == user.id
    assert event["properties"]["source"] == "manual"
    assert event["properties"]["agent_id"] == agent_id
    assert "Fix the login bug" not in repr(event)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [({"title": "  "}, 400, "Title is required."), ({"title": "x", "assignee": str(uuid.uuid4())}, 404, "Agent not found.")],
)
def test_new_issue_errors_are_inline(app, sink, data, status, message):
    user = create_user(app)
    create_workspace(app, user, slug="oops")
    client = signed_in(app, user)
    response = client.post("/oops/issues", data={**data})
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text
    flush(app)
    assert sink.events("issue_created") == []


def test_new_issue_form_needs_the_csrf_token(app):
    user = create_user(app)
    create_workspace(app, user, slug="guarded")
    client = signed_in(app, user)
    assert client.post("/guarded/issues", data={"title": "no token"}, csrf=False).status_code == 403
    assert "No issues yet" in client.get("/guarded/issues").text


def test_workspace_header_has_a_help_menu_with_feedback(app):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="helpful")
    client = signed_in(app, user)
    page = client.get("/helpful/issues").text
    menu = page[page.index("data-help-menu"):page.index("</details>")]
    assert re.search(r'<summary role="button"[^>]*>Help</summary>', menu)
    assert re.search(rf'<a role="menuitem"[^>]*href="/feedback\?workspace={workspace["id"]}"[^>]*>Feedback</a>', menu)


def test_new_workspace_page_creates_and_opens_the_workspace(app, sink):
    user = create_user(app)
    client = signed_in(app, user)
    page = client.get("/workspaces/new").text
    assert "Create a workspace" in page
    response = client.post("/workspaces/new", data={"name": "Fresh Start", "slug": ""})
    assert response.status_code == 302 and response.location == "/fresh-start/issues"
    assert client.get("/fresh-start/issues").status_code == 200
    flush(app)
    [event] = sink.events("workspace_created")
    assert event["distinct_id"] == user.id


@pytest.mark.parametrize(
    ("name", "slug", "status", "message"),
    [
        ("", "", 400, "Give the workspace a name."),
        ("Dup", "dup-ws", 409, "The URL “dup-ws” is already taken. “dup-ws-2” is free"),
        ("Bad", "-bad-", 400, "The URL can use lowercase letters, digits and dashes"),
    ],
)
def test_new_workspace_errors_are_inline(app, name, slug, status, message):
    create_workspace(app, create_user(app), slug="dup-ws")
    client = signed_in(app, create_user(app))
    response = client.post("/workspaces/new", data={"name": name, "slug": slug})
    assert response.status_code == status
    assert message in html.unescape(response.text)
    assert f'value="{name}"' in response.text


def test_invitations_placeholder_lists_nothing(app):
    client = signed_in(app, create_user(app))
    response = client.get("/invitations")
    assert response.status_code == 200
    assert "No pending invitations" in response.text


@pytest.mark.browser
def test_help_button_reveals_the_feedback_item_without_scripts(app, live_server, browser):
    """D14.13: a button named "Help" reveals a "Feedback" item; it needs no JavaScript."""
    user = create_user(app)
    workspace = create_workspace(app, user, slug="help-desk")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        with app.test_request_context():
            cookie = app.session_interface.get_signing_serializer(app).dumps({"user_id": user.id})
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server.url}])
        page.goto(f"{live_server.url}/help-desk/issues")
        feedback = page.get_by_role("menuitem", name="Feedback")
        assert not feedback.is_visible()
        page.get_by_role("button", name="Help").click()
        assert feedback.is_visible()
        assert feedback.get_attribute("href") == f"/feedback?workspace={workspace['id']}"
    finally:
        context.close()
