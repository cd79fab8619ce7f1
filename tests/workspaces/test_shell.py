"""The workspace shell and its pages without JavaScript (D20.1–D20.3, D20.6): every `/<slug>/…` page
renders in one shell for a member and answers 404 for anyone else; the runtimes page mints tokens
POST/redirect/GET and revokes them; the agents page creates agents on online runtimes only."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Blueprint

from multica.agents.models import Agent
from multica.db_utils import utcnow
from multica.extensions import db
from multica.issues.models import Issue
from multica.runtimes.models import Runtime
from tests.conftest import create_user, create_workspace, flush

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TOKEN = re.compile(r"<code class=\"token\" data-daemon-token>(mdt_[^<]+)</code>")
PAGES = ("issues", "agents", "runtimes", "settings")


def signed_in(app, user):
    """A test client carrying `user`'s session, and a CSRF token for its forms."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user.id
    token = CSRF.search(client.get("/invitations").text).group(1)
    return client, token


def add_runtime(app, workspace: dict, *, status: str = "online", daemon_id: str = "box", provider: str = "claude",
                seen_seconds_ago: int = 30) -> str:
    with app.app_context():
        runtime = Runtime(
            workspace_id=uuid.UUID(workspace["id"]), daemon_id=daemon_id, provider=provider, status=status, name=daemon_id,
            last_heartbeat_at=utcnow() - timedelta(seconds=seen_seconds_ago),
        )
        db.session.add(runtime)
        db.session.commit()
        return str(runtime.id)


def rows(app, model, **where) -> list:
    with app.app_context():
        found = list(db.session.scalars(sa.select(model).filter_by(**where)))
        db.session.expunge_all()
        return found


def text_of(response) -> str:
    return html.unescape(response.text)


# ---- the shell ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
def test_every_workspace_page_is_404_for_a_non_member_without_naming_the_workspace(app, page):
    owner = create_user(app)
    create_workspace(app, owner, name="Secret Project", slug="secret-ws")
    client, _ = signed_in(app, create_user(app))
    theirs = client.get(f"/secret-ws/{page}")
    unknown = client.get(f"/no-such-ws/{page}")
    assert theirs.status_code == unknown.status_code == 404
    # Slugs of other teams cannot be probed: the same page (the CSRF token is timestamped to the second).
    assert CSRF.sub("", theirs.text) == CSRF.sub("", unknown.text)
    assert "Secret Project" not in theirs.text and "secret-ws" not in theirs.text


@pytest.mark.parametrize("page", PAGES)
def test_every_workspace_page_renders_in_the_shell_for_a_member(app, page):
    user = create_user(app, email="shell-user@example.com")
    create_workspace(app, user, name="Acme", slug="acme")
    create_workspace(app, user, name="Beta Team", slug="beta-team")
    client, _ = signed_in(app, user)
    response = client.get(f"/acme/{page}")
    assert response.status_code == 200
    body = response.text
    # Navigation: Issues, Agents, Runtimes into this workspace; the page being viewed is current.
    for label, path in (("Issues", "issues"), ("Agents", "agents"), ("Runtimes", "runtimes")):
        assert re.search(rf'<a href="/acme/{path}"( aria-current="page")?>{label}</a>', body), label
    assert re.search(rf'<a href="/acme/{page}" aria-current="page">', body)
    # The switcher: every other workspace of mine, and "New workspace".
    switcher = body[body.index("data-workspace-switcher"):]
    switcher = switcher[:switcher.index("</details>")]
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', switcher) == [
        ("/beta-team/issues", "Beta Team"), ("/workspaces/new", "New workspace"),
    ]
    # Help, my email, Sign out; the logo (the first "Multica" link) leads into this workspace.
    assert re.search(r'<summary role="button"[^>]*>Help</summary>', body)
    assert "shell-user@example.com" in body
    assert re.search(r'<button class="link-button" type="submit">Sign out</button>', body)
    assert re.findall(r'<a [^>]*href="([^"]+)"[^>]*>Multica</a>', body)[0] == "/acme/issues"


def test_an_area_appears_in_the_navigation_only_once_its_page_exists(make_app, monkeypatch):
    from multica.workspaces import navigation

    monkeypatch.setattr(navigation, "AREAS", (*navigation.AREAS, ("Reports", "reports.reports_page")))
    app = make_app()
    user = create_user(app)
    create_workspace(app, user, slug="areas")
    client, _ = signed_in(app, user)
    body = client.get("/areas/issues").text
    for label, path in (("Chat", "chat"), ("Autopilots", "autopilots"), ("Squads", "squads"), ("Members", "settings/members")):
        assert f'<a href="/areas/{path}">{label}</a>' in body
    assert ">Reports</a>" not in body

    later = make_app()
    reports = Blueprint("reports", __name__)
    reports.add_url_rule("/<slug>/reports", "reports_page", lambda slug: "reports")
    later.register_blueprint(reports)
    client, _ = signed_in(later, user)
    assert re.search(r'<a href="/areas/reports">Reports</a>', client.get("/areas/issues").text)


def test_the_logo_of_a_signed_in_person_leads_to_their_workspace(app, client):
    assert re.findall(r'<a class="brand" href="([^"]+)">Multica</a>', client.get("/").text) == ["/"]
    user = create_user(app, onboarded_at=utcnow())
    create_workspace(app, user, slug="home-ws")
    signed, _ = signed_in(app, user)
    for path in ("/", "/invitations", "/workspaces/new"):
        assert re.findall(r'<a class="brand" href="([^"]+)">Multica</a>', signed.get(path).text) == ["/home-ws/issues"], path


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").text


# ---- runtimes page ------------------------------------------------------------------------------------

def test_runtimes_page_lists_status_and_last_heartbeat(app):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="rt")
    add_runtime(app, workspace, daemon_id="laptop", seen_seconds_ago=42)
    add_runtime(app, workspace, daemon_id="old-box", status="offline", provider="codex")
    client, _ = signed_in(app, user)
    body = text_of(client.get("/rt/runtimes"))
    cells = re.findall(r"<tr data-runtime=\"[^\"]+\">\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td><span[^>]*>([^<]+)</span></td>\s*<td>(.*?)</td>", body, re.S)
    by_name = {name: (provider, status, re.sub(r"<[^>]+>", "", seen).strip()) for name, provider, status, seen in cells}
    assert by_name["old-box"] == ("codex", "offline", "not connected")
    provider, status, seen = by_name["laptop"]
    assert (provider, status) == ("claude", "online")
    assert re.fullmatch(r"last seen 4[2-9] seconds ago", seen)


def test_install_section_shows_the_exact_command_a_copy_button_and_the_package(app, monkeypatch):
    user = create_user(app)
    create_workspace(app, user, slug="install")
    client, _ = signed_in(app, user)
    body = text_of(client.get("/install/runtimes"))
    assert "python -m multica.daemon --server http://localhost --token <token> --provider claude" in body
    assert re.search(r'<button class="button" type="button" data-copy="#daemon-command">Copy</button>', body)
    assert "pip install multica" in body
    monkeypatch.setenv("MULTICA_APP_URL", "https://multica.example.org")
    assert "python -m multica.daemon --server https://multica.example.org --token" in text_of(client.get("/install/runtimes"))


def test_tokens_are_post_redirect_get_shown_once_and_revocable(app):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="tokens")
    client, csrf = signed_in(app, user)
    response = client.post("/tokens/runtimes/tokens", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.location == "/tokens/runtimes#install"
    page = client.get("/tokens/runtimes")
    assert page.headers["Cache-Control"] == "no-store"
    token = TOKEN.search(page.text).group(1)
    assert f"--token {token} --provider claude" in page.text
    again = client.get("/tokens/runtimes").text  # a reload neither shows it again nor mints another
    assert token not in again
    assert len(re.findall(r"<tr data-token=", again)) == 1
    daemon = {"Authorization": f"Bearer {token}"}
    assert app.test_client().post("/api/daemon/register", json={"daemon_id": "d", "providers": ["claude"]}, headers=daemon).status_code == 200
    # Revoke it with the button: the daemon's token is refused from then on.
    token_id = re.search(r'<tr data-token="([^"]+)">', again).group(1)
    response = client.post(f"/tokens/runtimes/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert app.test_client().post("/api/daemon/heartbeat", json={"daemon_id": "d"}, headers=daemon).status_code == 401
    assert "revoked" in client.get("/tokens/runtimes").text
    # Someone else's token id is not found, and a non-member cannot mint one.
    stranger, stranger_csrf = signed_in(app, create_user(app))
    assert stranger.post("/tokens/runtimes/tokens", data={"csrf_token": stranger_csrf}).status_code == 404
    assert client.post(f"/tokens/runtimes/tokens/{uuid.uuid4()}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert workspace["id"]


# ---- agents page --------------------------------------------------------------------------------------

def test_agents_page_without_a_runtime_links_to_runtimes(app):
    user = create_user(app)
    create_workspace(app, user, slug="lonely")
    client, _ = signed_in(app, user)
    body = text_of(client.get("/lonely/agents"))
    assert "No agents yet" in body
    assert re.search(r'<a href="/lonely/runtimes">Connect a runtime</a>', body)
    assert 'name="template"' not in body


def test_agents_are_created_on_online_runtimes_only(app, sink):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="crew")
    online = add_runtime(app, workspace, daemon_id="laptop")
    offline = add_runtime(app, workspace, daemon_id="asleep", status="offline")
    client, csrf = signed_in(app, user)
    body = client.get("/crew/agents").text
    labels = re.findall(r'<input type="radio" name="template" value="(\w+)"[^>]*>\s*<span><strong>(\w+)</strong>', body)
    assert [label for _, label in labels] == ["Coding", "Planning", "Writing", "Assistant"]
    assert re.search(rf'<option value="{offline}" disabled', body)
    assert re.search(rf'<option value="{online}"\s*>', body)

    response = client.post("/crew/agents", data={"csrf_token": csrf, "runtime": offline, "template": "coding"})
    assert response.status_code == 409
    assert "That runtime is offline" in text_of(response)
    response = client.post("/crew/agents", data={"csrf_token": csrf, "runtime": "", "template": "coding"})
    assert response.status_code == 400 and "Choose the runtime" in text_of(response)
    assert rows(app, Agent) == []

    response = client.post("/crew/agents", data={"csrf_token": csrf, "runtime": online, "template": "planning", "name": "Planner"})
    assert response.status_code == 303 and response.location == "/crew/agents"
    body = client.get("/crew/agents").text
    assert re.search(r'<tr data-agent="[^"]+">\s*<td>Planner</td>\s*<td>Planning</td>\s*<td>laptop</td>', body)
    flush(app)
    [event] = sink.events("agent_created")
    assert event["distinct_id"] == user.id
    assert event["properties"]["template"] == "planning" and event["properties"]["is_first_agent_in_workspace"] is True


# ---- issues page --------------------------------------------------------------------------------------

def test_issues_page_without_an_agent_points_to_runtimes_then_agents(app):
    user = create_user(app)
    workspace = create_workspace(app, user, slug="empty")
    client, _ = signed_in(app, user)
    body = client.get("/empty/issues").text
    main = body[body.index("<main"):]
    assert re.search(r'<a href="/empty/runtimes">connect a runtime</a>', main)
    add_runtime(app, workspace)
    main = client.get("/empty/issues").text
    main = main[main.index("<main"):]
    assert re.search(r'<a href="/empty/agents">Create an agent</a>', main)


def test_issues_show_their_status_and_can_be_assigned_from_the_list(app, sink):
    user = create_user(app)
    workspace = create_workspace(app, user, name="Acme", slug="acme")
    runtime = add_runtime(app, workspace)
    client, csrf = signed_in(app, user)
    client.post("/acme/agents", data={"csrf_token": csrf, "runtime": runtime, "template": "coding"})
    [agent] = rows(app, Agent)
    client.post("/acme/issues", data={"csrf_token": csrf, "title": "Fix the login"})
    body = client.get("/acme/issues").text
    assert re.search(r'<tr data-issue="ACME-1">.*?<span class="status-badge" data-issue-status>To do</span>', body, re.S)
    response = client.post("/acme/issues/ACME-1/assignee", data={"csrf_token": csrf, "assignee": str(agent.id)})
    assert response.status_code == 303
    [issue] = rows(app, Issue)
    assert issue.assignee_agent_id == agent.id
    body = client.get("/acme/issues").text
    assert re.search(rf'<option value="{agent.id}" selected>Coding agent</option>', body)
    # Unassigning uses the same word as everywhere else.
    client.post("/acme/issues/ACME-1/assignee", data={"csrf_token": csrf, "assignee": ""})
    assert rows(app, Issue)[0].assignee_agent_id is None
    # Someone else's agent, or an unknown issue, is refused.
    assert client.post("/acme/issues/ACME-1/assignee", data={"csrf_token": csrf, "assignee": str(uuid.uuid4())}).status_code == 404
    assert client.post("/acme/issues/ACME-9/assignee", data={"csrf_token": csrf, "assignee": ""}).status_code == 404
