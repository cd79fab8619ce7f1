"""One builder per server event, named after the event (SPEC §5, §6.1, §6.2).

Builders take domain values and return an `Event`; they decide which properties exist, so free
text, emails and names never reach an event by accident. Emission goes through `record_event`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from multica.analytics.catalog import COMPLETION_PATHS as _COMPLETION_PATHS
from multica.analytics.catalog import CONTACT_SALES_FORM_SOURCES, COUNTRY_REGIONS, OTHER_COUNTRY_REGION
from multica.analytics.event import Event
from multica.analytics.environment import email_domain
from multica.db_utils import rfc3339

# The paths a caller may name; anything else is recorded as `unknown`.
COMPLETION_PATHS = tuple(path for path in _COMPLETION_PATHS if path != "unknown")
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]+\)")


def _filled(value: object) -> bool:
    return isinstance(value, str) and value != ""


def feedback_length_bucket(message: str) -> str:
    """`0-100` / `100-500` / `500-2000` / `2000+` by UTF-8 byte length of the trimmed message."""
    n = len(message.strip().encode("utf-8"))
    if n < 100:
        return "0-100"
    if n < 500:
        return "100-500"
    if n < 2000:
        return "500-2000"
    return "2000+"


def has_markdown_image(message: str) -> bool:
    """The trimmed message contains `![alt](target)` with a non-empty target."""
    return _MARKDOWN_IMAGE.search(message.strip()) is not None


def completion_path(value: object) -> str:
    """The allow-listed completion path, or `unknown` (SPEC §9.3)."""
    return value if isinstance(value, str) and value in COMPLETION_PATHS else "unknown"


# ---- acquisition / expansion -------------------------------------------------------------------

def signup(user_id: str, email: str, signup_source: str, *, auth_method: str | None = None) -> Event:
    """A user row was created; `auth_method` is `google` for Google and absent otherwise."""
    props = {"email_domain": email_domain(email), "signup_source": signup_source}
    if auth_method:
        props["auth_method"] = auth_method
    return Event("signup", user_id, props, set_once={"email": email, "signup_source": signup_source})


def identify(user_id: str, anon_distinct_id: str) -> Event:
    """Merge the browser's anonymous id into the user (D7)."""
    return Event("$identify", user_id, {"$anon_distinct_id": anon_distinct_id})


def team_invite_sent(inviter_id: str, workspace_id: str, invitee_email: str) -> Event:
    """An invitation row was written."""
    return Event(
        "team_invite_sent",
        inviter_id,
        {"invited_email_domain": email_domain(invitee_email.strip()), "invite_method": "email"},
        workspace_id=workspace_id,
    )


def team_invite_accepted(user_id: str, workspace_id: str, invited_at: datetime | None, now: datetime | None = None) -> Event:
    """An invitation was accepted; `days_since_invite` truncates toward zero."""
    days = 0
    if invited_at is not None:
        now = now or datetime.now(timezone.utc)
        if invited_at.tzinfo is None:
            invited_at = invited_at.replace(tzinfo=timezone.utc)
        days = max(0, int((now - invited_at).total_seconds() // 3600) // 24)
    return Event("team_invite_accepted", user_id, {"days_since_invite": days}, workspace_id=workspace_id)


def cloud_waitlist_joined(user_id: str, reason: str | None) -> Event:
    """A waitlist submission; only whether a reason was given travels."""
    return Event("cloud_waitlist_joined", user_id, {"has_reason": bool((reason or "").strip()), "source": "onboarding"})


def contact_sales_submitted(
    inquiry_id: str, *, company_size: str, country_region: str, use_case: str, goals: str, form_source: str
) -> Event:
    """A contact-sales inquiry was stored; only enum and flag fields travel (no user_id).

    The country/region and form source are submitted text: a value off their lists travels as
    `Other` / `other`, so whatever a caller types there stays in the database.
    """
    form_source = (form_source or "").strip() or "page"
    return Event(
        "contact_sales_submitted",
        inquiry_id,
        {
            "inquiry_id": inquiry_id,
            "company_size": company_size,
            "country_region": country_region if country_region in COUNTRY_REGIONS else OTHER_COUNTRY_REGION,
            "use_case": use_case,
            "has_goals": bool((goals or "").strip()),
            "form_source": form_source if form_source in CONTACT_SALES_FORM_SOURCES else "other",
            "source": "marketing_contact_sales",
        },
        stamp_user_id=False,
    )


def feedback_submitted(
    user_id: str, message: str, *, workspace_id: str = "", platform: str = "", app_version: str = "", kind: str = "general"
) -> Event:
    """Feedback was stored; the message itself never travels."""
    props: dict = {
        "message_length_bucket": feedback_length_bucket(message),
        "has_images": has_markdown_image(message),
        "kind": kind or "general",
        "source": "ops_feedback",
    }
    if platform:
        props["platform"] = platform
    if app_version:
        props["app_version"] = app_version
    return Event("feedback_submitted", user_id, props, workspace_id=workspace_id)


# ---- onboarding ----------------------------------------------------------------------------------

def onboarding_questionnaire_submitted(user_id: str, questionnaire: dict) -> Event:
    """The questionnaire became complete; `*_has_other` replaces the free text."""
    answers = {key: questionnaire.get(key) for key in ("team_size", "role", "use_case")}
    props = dict(answers)
    for key in answers:
        props[f"{key}_has_other"] = _filled(questionnaire.get(f"{key}_other"))
    props["source"] = "onboarding"
    return Event("onboarding_questionnaire_submitted", user_id, props, set=answers)


def onboarding_completed(
    user_id: str, path: str, *, onboarded_at: datetime, joined_cloud_waitlist: bool, workspace_id: str = ""
) -> Event:
    """`onboarded_at` flipped from NULL."""
    return Event(
        "onboarding_completed",
        user_id,
        {"completion_path": completion_path(path), "joined_cloud_waitlist": joined_cloud_waitlist, "source": "onboarding"},
        workspace_id=workspace_id,
        set_once={"onboarded_at": rfc3339(onboarded_at)},
    )


def onboarding_started(user_id: str, platform: str) -> Event:
    """Server-side count of an onboarding start (Prometheus only, SPEC §5.2)."""
    return Event("onboarding_started", user_id, {"source": "onboarding", "platform": platform})


# ---- core loop -----------------------------------------------------------------------------------

def workspace_created(user_id: str, workspace_id: str, source: str = "manual") -> Event:
    """A workspace was created."""
    return Event("workspace_created", user_id, {"source": source}, workspace_id=workspace_id)


def agent_created(
    user_id: str, workspace_id: str, *, agent_id: str, provider: str, runtime_mode: str, template: str,
    is_first_agent_in_workspace: bool,
) -> Event:
    """An agent was created."""
    return Event(
        "agent_created",
        user_id,
        {
            "agent_id": agent_id,
            "provider": provider,
            "runtime_mode": runtime_mode,
            "template": template,
            "is_first_agent_in_workspace": is_first_agent_in_workspace,
            "source": "manual",
        },
        workspace_id=workspace_id,
    )


def issue_created(
    actor_id: str, workspace_id: str, *, issue_id: str, source: str, agent_id: str = "", platform: str = "",
    task_id: str = "", autopilot_run_id: str = "",
) -> Event:
    """An issue was created (`source` is `manual`, `api` or `autopilot`)."""
    props: dict = {"issue_id": issue_id, "source": source}
    for key, value in (("agent_id", agent_id), ("task_id", task_id), ("autopilot_run_id", autopilot_run_id), ("platform", platform)):
        if value:
            props[key] = value
    return Event("issue_created", actor_id, props, workspace_id=workspace_id)


def chat_message_sent(
    user_id: str, workspace_id: str, *, chat_session_id: str, task_id: str, agent_id: str,
    runtime_mode: str = "", provider: str = "", platform: str = "",
) -> Event:
    """A chat message was stored and its task queued."""
    props: dict = {"chat_session_id": chat_session_id, "task_id": task_id, "agent_id": agent_id, "source": "chat"}
    for key, value in (("runtime_mode", runtime_mode), ("provider", provider), ("platform", platform)):
        if value:
            props[key] = value
    return Event("chat_message_sent", user_id, props, workspace_id=workspace_id)


def issue_executed(
    distinct_id: str, workspace_id: str, *, issue_id: str, task_id: str, agent_id: str, source: str,
    runtime_mode: str, provider: str, task_duration_ms: int,
) -> Event:
    """The first task on an issue completed."""
    return Event(
        "issue_executed",
        distinct_id,
        {
            "issue_id": issue_id,
            "task_id": task_id,
            "agent_id": agent_id,
            "source": source,
            "runtime_mode": runtime_mode,
            "provider": provider,
            "task_duration_ms": int(task_duration_ms),
        },
        workspace_id=workspace_id,
    )


def squad_created(user_id: str, workspace_id: str, *, squad_id: str, member_count: int = 1) -> Event:
    """A squad was created."""
    return Event("squad_created", user_id, {"squad_id": squad_id, "member_count": member_count, "source": "manual"}, workspace_id=workspace_id)


def autopilot_created(user_id: str, workspace_id: str, *, autopilot_id: str, cadence: str, trigger_kind: str = "manual") -> Event:
    """An autopilot was created."""
    return Event(
        "autopilot_created",
        user_id,
        {"autopilot_id": autopilot_id, "cadence": cadence, "trigger_kind": trigger_kind, "source": "manual"},
        workspace_id=workspace_id,
    )


# ---- operational (Prometheus only) -------------------------------------------------------------

def runtime_registered(
    distinct_id: str, workspace_id: str, *, runtime_id: str, daemon_id: str, provider: str,
    runtime_version: str = "", cli_version: str = "",
) -> Event:
    """First upsert of a (workspace, daemon, provider) runtime."""
    return Event(
        "runtime_registered",
        distinct_id,
        {
            "runtime_id": runtime_id,
            "daemon_id": daemon_id,
            "runtime_mode": "local",
            "provider": provider,
            "runtime_version": runtime_version,
            "cli_version": cli_version,
        },
        workspace_id=workspace_id,
    )


def runtime_ready(
    distinct_id: str, workspace_id: str, *, runtime_id: str, daemon_id: str, provider: str,
    runtime_mode: str = "local", ready_duration_ms: int = 0,
) -> Event:
    """A new runtime is online; `ready_duration_ms` only when measured (> 0)."""
    props: dict = {"runtime_id": runtime_id, "daemon_id": daemon_id, "runtime_mode": runtime_mode, "provider": provider}
    if ready_duration_ms > 0:
        props["ready_duration_ms"] = int(ready_duration_ms)
    return Event("runtime_ready", distinct_id, props, workspace_id=workspace_id)


def runtime_failed(
    distinct_id: str, workspace_id: str, *, daemon_id: str, provider: str, failure_reason: str = "registration_failed",
    error_type: str = "db_error", recoverable: bool = True, runtime_mode: str = "local",
) -> Event:
    """Persisting a registration failed."""
    return Event(
        "runtime_failed",
        distinct_id,
        {
            "daemon_id": daemon_id,
            "provider": provider,
            "runtime_mode": runtime_mode,
            "failure_reason": failure_reason,
            "error_type": error_type,
            "recoverable": recoverable,
        },
        workspace_id=workspace_id,
    )


def runtime_offline(distinct_id: str, workspace_id: str, *, runtime_id: str, daemon_id: str, provider: str, runtime_mode: str = "local") -> Event:
    """A runtime was deregistered or swept offline."""
    return Event(
        "runtime_offline",
        distinct_id,
        {"runtime_id": runtime_id, "daemon_id": daemon_id, "runtime_mode": runtime_mode, "provider": provider},
        workspace_id=workspace_id,
    )


def _autopilot_run(name: str, distinct_id: str, workspace_id: str, props: dict) -> Event:
    props = {**props, "source": "autopilot"}
    return Event(name, distinct_id, props, workspace_id=workspace_id)


def autopilot_run_started(
    distinct_id: str, workspace_id: str, *, autopilot_id: str, autopilot_run_id: str, agent_id: str,
    trigger_source: str, cadence: str = "", trigger_kind: str = "",
) -> Event:
    """An autopilot run started."""
    return _autopilot_run("autopilot_run_started", distinct_id, workspace_id, {
        "autopilot_id": autopilot_id, "autopilot_run_id": autopilot_run_id, "agent_id": agent_id,
        "trigger_source": trigger_source, "cadence": cadence, "trigger_kind": trigger_kind,
    })


def autopilot_run_completed(
    distinct_id: str, workspace_id: str, *, autopilot_id: str, autopilot_run_id: str, agent_id: str,
    trigger_source: str, duration_ms: int, cadence: str = "", trigger_kind: str = "",
) -> Event:
    """An autopilot run completed."""
    return _autopilot_run("autopilot_run_completed", distinct_id, workspace_id, {
        "autopilot_id": autopilot_id, "autopilot_run_id": autopilot_run_id, "agent_id": agent_id,
        "trigger_source": trigger_source, "duration_ms": int(duration_ms), "cadence": cadence, "trigger_kind": trigger_kind,
    })


def autopilot_run_failed(
    distinct_id: str, workspace_id: str, *, autopilot_id: str, autopilot_run_id: str, agent_id: str,
    trigger_source: str, duration_ms: int, failure_reason: str, error_type: str, cadence: str = "", trigger_kind: str = "",
) -> Event:
    """An autopilot run failed; `will_retry` is always false and there is no `recoverable`."""
    return _autopilot_run("autopilot_run_failed", distinct_id, workspace_id, {
        "autopilot_id": autopilot_id, "autopilot_run_id": autopilot_run_id, "agent_id": agent_id,
        "trigger_source": trigger_source, "duration_ms": int(duration_ms), "failure_reason": failure_reason,
        "error_type": error_type, "will_retry": False, "cadence": cadence, "trigger_kind": trigger_kind,
    })
