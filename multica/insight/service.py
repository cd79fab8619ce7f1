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
    """The user ids in `column` (rows matching `where`), for an uncorrelated `IN`."""
    return sa.select(column).where(column.is_not(None), *where)


# Each step's set of user ids is hashed once and probed by every user of the window (PostgreSQL's
# "hashed SubPlan", SQLite's ephemeral index); the hash of a million-user step must fit in memory.
FUNNEL_WORK_MEM = "64MB"


def _count_where(condition):
    """How many rows match `condition` (0 for none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _roomy_hashes() -> None:
    """On PostgreSQL, give this transaction the memory its hashed subplans need (default 4 MB)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(f"SET LOCAL work_mem = '{FUNNEL_WORK_MEM}'"))


def funnel(since: datetime) -> dict:
    """The activation funnel of users who signed up since `since`, expansion, completion paths and the
    weekly active workspaces (D16.2, D19.12).

    Each step is a set of user ids tested with an uncorrelated `IN`: one pass over each table, built
    into a hash once, and one probe per user of the window, whatever the number of users.
    """
    user = User
    # One row per combination of what a user did (at most 2^9), counted in the database; each IN
    # appears once in the statement, so each step's hash is built once.
    profile = {
        "questionnaire_submitted": user.onboarding_questionnaire_submitted_at.is_not(None),
        "workspace_created": user.id.in_(_users(Member.user_id, Member.role == "owner")),
        "runtime_registered": user.id.in_(_users(Runtime.registered_by)),
        "first_agent": user.id.in_(_users(Agent.owner_id)),
        "first_issue": user.id.in_(_users(Issue.creator_id)),
        "issue_executed": user.id.in_(_users(Issue.creator_id, Issue.first_executed_at.is_not(None))),
        "onboarded": user.onboarded_at.is_not(None),
        "invite_accepted": user.id.in_(
            _users(WorkspaceInvitation.invitee_user_id, WorkspaceInvitation.status == "accepted")
        ),
        "cloud_waitlist": user.cloud_waitlist_email.is_not(None),
    }
    per_user = sa.select(*(condition.label(name) for name, condition in profile.items())).where(
        user.created_at >= since
    ).subquery()
    columns = [per_user.c[name] for name in profile]
    _roomy_hashes()
    rows = db.session.execute(sa.select(*columns, sa.func.count().label("users")).group_by(*columns)).all()
    counts = {name: 0 for name in FUNNEL_STEPS}
    paths = {name: 0 for name in COMPLETION_PATHS if name != "unknown"}
    for row in rows:
        users = int(row.users)
        counts["signed_up"] += users
        for name in FUNNEL_STEPS[1:]:
            if getattr(row, name):
                counts[name] += users
        if row.onboarded:
            paths[completion_path(row)] += users

    invites = db.session.execute(
        sa.select(
            sa.func.count().label("sent"),
            _count_where(WorkspaceInvitation.status == "accepted").label("accepted"),
        ).where(WorkspaceInvitation.created_at >= since)
    ).one()
    counts["invites_sent"], counts["invites_accepted"] = int(invites.sent), int(invites.accepted)

    return {
        "since": since.isoformat(),
        "steps": _steps(counts, FUNNEL_STEPS) + _steps(counts, EXPANSION_STEPS),
        "completion_paths": paths,
        "weekly_active_workspaces": weekly_active_workspaces(since),
    }


def completion_path(row) -> str:
    """The path an onboarded user took, read back from what they left behind (it is not stored)."""
    if not row.workspace_created:
        return "invite_accept" if row.invite_accepted else "skip_existing"
    if row.runtime_registered:
        return "full"
    return "cloud_waitlist" if row.cloud_waitlist else "runtime_skipped"


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
