"""The issue page without JavaScript: tasks with results and failure reasons, assign, rerun, cancel; task status on the list (D15.9)."""

from __future__ import annotations

import re

from tests.conftest import create_user
from tests.tasks.helpers import claim, create_issue, report, tasks

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def signed_in(app, user):
    """A test client carrying `user`'s session, and a CSRF token for its forms."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user.id
    token = CSRF.search(client.get("/invitations").text).group(1)
    return client, token


def test_issue_page_shows_results_failures_and_the_list_shows_task_status(app, client, owner, workspace, daemon, runtime, agent):
    done = create_issue(client, owner, workspace, agent, title="Write the changelog")
    task = claim(client, daemon, runtime).json["task"]
    report(client, daemon, task["id"], "start")
    report(client, daemon, task["id"], "complete", {"result": "Changelog <written>"})
    broken = create_issue(client, owner, workspace, agent, title="Upgrade the database")
    task = claim(client, daemon, runtime).json["task"]
    report(client, daemon, task["id"], "fail", {"error": "API Error: 401 Unauthorized"})
    waiting = create_issue(client, owner, workspace, agent, title="Still waiting")
    page, _ = signed_in(app, owner)

    listing = page.get(f"/{workspace['slug']}/issues").text
    for issue, status in ((done, "completed"), (broken, "failed"), (waiting, "queued")):
        row = listing[listing.index(f'data-issue="{issue["key"]}"'):]
        row = row[:row.index("</tr>")]
        assert f'data-task-status="{status}"' in row and f'href="/{workspace["slug"]}/issues/{issue["key"]}"' in row

    detail = page.get(f"/{workspace['slug']}/issues/{done['key']}")
    assert detail.status_code == 200
    assert "Changelog &lt;written&gt;" in detail.text and "Attempt 1" in detail.text and ">done<" in detail.text
    failed = page.get(f"/{workspace['slug']}/issues/{broken['key']}").text
    assert "agent_error.provider_auth_or_access" in failed and "API Error: 401 Unauthorized" in failed
    # By id as well as by key.
    assert page.get(f"/{workspace['slug']}/issues/{waiting['id']}").status_code == 200
    assert 'data-status="queued"' in page.get(f"/{workspace['slug']}/issues/{waiting['key']}").text


def test_assign_rerun_and_cancel_forms(app, client, owner, workspace, daemon, runtime, agent):
    issue = create_issue(client, owner, workspace, title="Nobody owns this")
    page, token = signed_in(app, owner)
    url = f"/{workspace['slug']}/issues/{issue['key']}"
    assert "Rerun" not in page.get(url).text
    assigned = page.post(f"{url}/assign", data={"csrf_token": token, "assignee": agent["id"]})
    assert assigned.status_code == 302 and assigned.location == url
    [queued] = tasks(client, owner, workspace, issue)
    assert queued["status"] == "queued"
    cancelled = page.post(f"{url}/tasks/{queued['id']}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 302
    assert tasks(client, owner, workspace, issue)[0]["status"] == "cancelled"
    again = page.post(f"{url}/tasks/{queued['id']}/cancel", data={"csrf_token": token})
    assert again.status_code == 409 and "Task is not" in again.text
    assert page.post(f"{url}/rerun", data={"csrf_token": token}).status_code == 302
    assert [task["attempt"] for task in tasks(client, owner, workspace, issue)] == [2, 1]
    bad = page.post(f"{url}/assign", data={"csrf_token": token, "assignee": "not-an-agent"})
    assert bad.status_code == 400
    assert page.post(f"{url}/rerun", data={}).status_code in (400, 403)
    assert len(tasks(client, owner, workspace, issue)) == 2


def test_issue_pages_are_for_members_only(app, client, owner, workspace, agent):
    issue = create_issue(client, owner, workspace, agent)
    stranger, token = signed_in(app, create_user(app))
    url = f"/{workspace['slug']}/issues/{issue['key']}"
    assert stranger.get(url).status_code == 404
    assert stranger.post(f"{url}/rerun", data={"csrf_token": token}).status_code == 404
    assert stranger.post(f"{url}/assign", data={"csrf_token": token, "assignee": ""}).status_code == 404
    member, _ = signed_in(app, owner)
    assert member.get(f"/{workspace['slug']}/issues/NOPE-99").status_code == 404
    assert app.test_client().get(url).status_code == 302
    assert len(tasks(client, owner, workspace, issue)) == 1
