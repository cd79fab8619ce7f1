"""A small database with known funnel answers: users who went all the way, who skipped steps, who
joined by invitation, who joined the cloud waitlist, and one who signed up before the window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from multica.agents.models import Agent
from multica.auth.models import User
from multica.extensions import db
from multica.insight.service import iso_week
from multica.invitations.models import WorkspaceInvitation
from multica.issues.models import Issue
from multica.runtimes.models import Runtime
from multica.workspaces.models import Member, Workspace


def seed(app) -> dict:
    now = datetime.now(timezone.utc)
    eight_days_ago = now - timedelta(days=8)
    with app.app_context():
        def user(key, **fields):
            row = User(name=key, email=f"{key}@example.com", onboarding_questionnaire={}, **fields)
            db.session.add(row)
            return row

        def workspace(owner, key):
            row = Workspace(name=key, slug=f"seed-{key}")
            db.session.add(row)
            db.session.flush()
            db.session.add(Member(workspace_id=row.id, user_id=owner.id, role="owner"))
            return row

        counter = iter(range(1, 100))

        def issue(ws, creator, executed_at=None):
            number = next(counter)
            db.session.add(Issue(workspace_id=ws.id, number=number, key=f"ISS-{number}", title="t", creator_id=creator.id,
                                 first_executed_at=executed_at))

        full = user("full", onboarding_questionnaire_submitted_at=now, onboarded_at=now)
        skipped_runtime = user("skipped-runtime", onboarding_questionnaire_submitted_at=now, onboarded_at=now)
        no_questionnaire = user("no-questionnaire")
        invited = user("invited", onboarded_at=now)
        signed_up_only = user("signed-up-only")
        waitlist = user("waitlist", onboarding_questionnaire_submitted_at=now, onboarded_at=now, cloud_waitlist_email="w@example.com")
        old = user("old", created_at=now - timedelta(days=60), onboarding_questionnaire_submitted_at=now, onboarded_at=now)
        db.session.flush()

        ws_full = workspace(full, "full")
        ws_skipped = workspace(skipped_runtime, "skipped")
        ws_noq = workspace(no_questionnaire, "noq")
        workspace(waitlist, "waitlist")
        workspace(old, "old")
        db.session.flush()
        for owner, ws in ((full, ws_full), (no_questionnaire, ws_noq)):
            runtime = Runtime(workspace_id=ws.id, daemon_id=f"host-{owner.name}", provider="claude", registered_by=owner.id)
            db.session.add(runtime)
            db.session.flush()
            db.session.add(Agent(workspace_id=ws.id, runtime_id=runtime.id, owner_id=owner.id, name="Coder", template="coding"))
        issue(ws_full, full, now)
        issue(ws_full, full, eight_days_ago)
        issue(ws_skipped, skipped_runtime)
        issue(ws_noq, no_questionnaire, now)
        db.session.add(Member(workspace_id=ws_full.id, user_id=invited.id, role="member"))
        db.session.add(WorkspaceInvitation(workspace_id=ws_full.id, inviter_id=full.id, invitee_email=invited.email,
                                           invitee_user_id=invited.id, status="accepted"))
        db.session.add(WorkspaceInvitation(workspace_id=ws_full.id, inviter_id=full.id, invitee_email="later@example.com"))
        db.session.commit()
        del signed_up_only

    this_week, earlier_week = iso_week(now.date()), iso_week(eight_days_ago.date())
    return {
        "steps": {
            "signed_up": 6, "questionnaire_submitted": 3, "workspace_created": 4, "runtime_registered": 2, "first_agent": 2,
            "first_issue": 3, "issue_executed": 2, "onboarded": 4, "invites_sent": 2, "invites_accepted": 1,
        },
        "completion_paths": {"full": 1, "runtime_skipped": 1, "cloud_waitlist": 1, "skip_existing": 0, "invite_accept": 1},
        "weekly": {this_week: 2, earlier_week: 1},
    }
