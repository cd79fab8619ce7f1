"""The figures behind `analytics reconcile`, `analytics funnel` and `/admin/funnel` (D16).

Everything is counted by the database in a handful of set-based queries (no loop over users), with
SQL that runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from multica.agents.models import Agent
from multica.analytics.catalog import COMPLETION_PATHS
from multica.auth.models import User
from multica.extensions import db
from multica.invitations.models import WorkspaceInvitation
from multica.issues.models import Issue
from multica.runtimes.models import Runtime
from multica.tasks.models import AgentTask
from multica.workspaces.models import Member

FUNNEL_STEPS = (
    "signed_up", "questionnaire_submitted", "workspace_created", "runtime_registered", "first_agent",
    "first_issue", "issue_executed", "onboarded",
)
EXPANSION_STEPS = ("invites_sent", "invites_accepted")
STEP_LABELS = {
    "signed_up": "Signed up", "questionnaire_submitted": "Questionnaire submitted", "workspace_created": "Workspace created",
    "runtime_registered": "Runtime registered", "first_agent": "First agent", "first_issue": "First issue",
    "issue_executed": "Issue executed", "onboarded": "Onboarded", "invites_sent": "Invites sent",
    "invites_accepted": "Invites accepted",
}
_SINCE = re.compile(r"^\s*(\d{1,5})\s*([hdw])\s*$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30d`, `12w`, `48h` or an ISO date (`2026-11-01`) as an aware UTC instant."""
    now = now or datetime.now(timezone.utc)
    match = _SINCE.match(text or "")
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (AttributeError, ValueError):
        raise ValueError(f"--since must look like 30d, 12w, 48h or 2026-11-01, not {text!r}") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def utc_day(column):
    """The UTC calendar day of a timestamp column, as SQL (`YYYY-MM-DD` text on SQLite, a date on PostgreSQL)."""
    if db.engine.dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", column))
    return sa.func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def daily_counts(column, since: datetime, *where) -> dict[date, int]:
    """{UTC day: rows} for rows whose `column` is at or after `since`, grouped by the database."""
    day = utc_day(column).label("day")
    rows = db.session.execute(
        sa.select(day, sa.func.count()).where(column.is_not(None), column >= since, *where).group_by(day)
    ).all()
    return {_as_date(row[0]): int(row[1]) for row in rows}


def reconcile_days(days: int, now: datetime | None = None) -> list[date]:
    """The last `days` UTC days, oldest first, today included."""
    today = (now or datetime.now(timezone.utc)).date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def database_side(days: list[date]) -> dict[str, dict[date, int]]:
    """Completed tasks (on `completed_at`) and first executions (on `first_executed_at`) per UTC day."""
    since = datetime(days[0].year, days[0].month, days[0].day, tzinfo=timezone.utc)
    return {
        "tasks_completed": daily_counts(AgentTask.completed_at, since, AgentTask.status == "completed"),
        "issues_executed": daily_counts(Issue.first_executed_at, since),
    }


def _users(column, *where):
    """The distinct user ids of `column` (rows matching `where`), as a subquery to outer-join."""
    return sa.select(column.label("user_id")).where(column.is_not(None), *where).distinct().subquery()


def funnel(since: datetime) -> dict:
    """The activation funnel of users who signed up since `since`, expansion, completion paths and the
    weekly active workspaces (D16.2, D19.12).

    Each step is a distinct set of user ids, outer-joined to the users of the window: one pass over
    each table (hash joins), whatever the number of users.
    """
    user = User
    owners = _users(Member.user_id, Member.role == "owner")
    registrars = _users(Runtime.registered_by)
    agent_owners = _users(Agent.owner_id)
    issue_creators = _users(Issue.creator_id)
    executors = _users(Issue.creator_id, Issue.first_executed_at.is_not(None))
    invitees = _users(WorkspaceInvitation.invitee_user_id, WorkspaceInvitation.status == "accepted")
    joined = (
        sa.select(user)
        .outerjoin(owners, owners.c.user_id == user.id)
        .outerjoin(registrars, registrars.c.user_id == user.id)
        .outerjoin(agent_owners, agent_owners.c.user_id == user.id)
        .outerjoin(issue_creators, issue_creators.c.user_id == user.id)
        .outerjoin(executors, executors.c.user_id == user.id)
        .outerjoin(invitees, invitees.c.user_id == user.id)
    )
    owns_workspace = owners.c.user_id.is_not(None)
    has_runtime = registrars.c.user_id.is_not(None)

    def flag(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    # The path is not stored: it is read back from what the onboarded user left behind.
    path = sa.case(
        (sa.and_(invitees.c.user_id.is_not(None), sa.not_(owns_workspace)), "invite_accept"),
        (sa.not_(owns_workspace), "skip_existing"),
        (has_runtime, "full"),
        (user.cloud_waitlist_email.is_not(None), "cloud_waitlist"),
        else_="runtime_skipped",
    )
    per_user = joined.with_only_columns(
        user.onboarding_questionnaire_submitted_at.is_not(None).label("questionnaire"),
        owns_workspace.label("workspace"),
        has_runtime.label("runtime"),
        agent_owners.c.user_id.is_not(None).label("agent"),
        issue_creators.c.user_id.is_not(None).label("issue"),
        executors.c.user_id.is_not(None).label("executed"),
        user.onboarded_at.is_not(None).label("onboarded"),
        sa.case((user.onboarded_at.is_not(None), path), else_=None).label("path"),
    ).where(user.created_at >= since).subquery()
    rows = db.session.execute(
        sa.select(
            per_user.c.path,
            sa.func.count().label("signed_up"),
            flag(per_user.c.questionnaire).label("questionnaire_submitted"),
            flag(per_user.c.workspace).label("workspace_created"),
            flag(per_user.c.runtime).label("runtime_registered"),
            flag(per_user.c.agent).label("first_agent"),
            flag(per_user.c.issue).label("first_issue"),
            flag(per_user.c.executed).label("issue_executed"),
            flag(per_user.c.onboarded).label("onboarded"),
        ).group_by(per_user.c.path)
    ).all()
    counts = {name: 0 for name in FUNNEL_STEPS}
    paths = {name: 0 for name in COMPLETION_PATHS if name != "unknown"}
    for row in rows:
        for name in FUNNEL_STEPS:
            counts[name] += int(getattr(row, name))
        if row.path is not None:
            paths[row.path] = int(row.signed_up)

    invites = db.session.execute(
        sa.select(
            sa.func.count().label("sent"),
            flag(WorkspaceInvitation.status == "accepted").label("accepted"),
        ).where(WorkspaceInvitation.created_at >= since)
    ).one()
    counts["invites_sent"], counts["invites_accepted"] = int(invites.sent), int(invites.accepted)

    return {
        "since": since.isoformat(),
        "steps": _steps(counts, FUNNEL_STEPS) + _steps(counts, EXPANSION_STEPS),
        "completion_paths": paths,
        "weekly_active_workspaces": weekly_active_workspaces(since),
    }


def _steps(counts: dict, names: tuple) -> list[dict]:
    steps = []
    previous = None
    for name in names:
        count = counts[name]
        conversion = None if previous is None else (round(count / previous, 4) if previous else 0.0)
        steps.append({"name": name, "label": STEP_LABELS[name], "count": count, "conversion": conversion})
        previous = count
    return steps


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_active_workspaces(since: datetime) -> dict[str, int]:
    """{ISO week: workspaces with at least one issue executed that week}, every week since `since`.

    The database reduces issues to distinct (workspace, day) pairs; the days are folded into ISO weeks
    here, a set per week, so the work is bounded by workspaces × days, never by users or issues.
    """
    day = utc_day(Issue.first_executed_at).label("day")
    rows = db.session.execute(
        sa.select(Issue.workspace_id, day).where(Issue.first_executed_at >= since).group_by(Issue.workspace_id, day)
    ).all()
    weeks: dict[str, set] = {}
    start = since.astimezone(timezone.utc).date()
    today = datetime.now(timezone.utc).date()
    cursor = start - timedelta(days=start.weekday())
    while cursor <= today:
        weeks[iso_week(cursor)] = set()
        cursor += timedelta(days=7)
    for workspace_id, value in rows:
        weeks.setdefault(iso_week(_as_date(value)), set()).add(workspace_id)
    return {week: len(members) for week, members in sorted(weeks.items())}
