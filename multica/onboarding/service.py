"""Onboarding rules: questionnaire, completion and the cloud waitlist (SPEC §9.1–§9.5, D2, D13)."""

from __future__ import annotations

import sqlalchemy as sa

from multica.analytics import events
from multica.analytics.catalog import ROLES, TEAM_SIZES, USE_CASES
from multica.analytics.events import completion_path as allowed_completion_path
from multica.analytics.record import count_only, record_event
from multica.auth.models import User
from multica.auth.service import mark_onboarded
from multica.db_utils import as_utc, utcnow
from multica.emails import MAX_EMAIL_BYTES, canonical_email
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import has_control_characters, utf8_length

SLOTS = {"team_size": TEAM_SIZES, "role": ROLES, "use_case": USE_CASES}
MAX_OTHER_BYTES = 200
MAX_REASON_BYTES = 500


def validate_questionnaire(value: object) -> dict:
    """The questionnaire to store (known keys only), or ApiError 400 `invalid questionnaire`."""
    if not isinstance(value, dict):
        raise ApiError(400, "invalid questionnaire")
    stored: dict = {}
    for slot, allowed in SLOTS.items():
        answer = value.get(slot)
        if answer is not None and not isinstance(answer, str):
            raise ApiError(400, "invalid questionnaire")
        if answer and answer not in allowed:
            raise ApiError(400, "invalid questionnaire")
        other = value.get(f"{slot}_other")
        if other is not None and not isinstance(other, str):
            raise ApiError(400, "invalid questionnaire")
        if other is not None and not _storable(other, MAX_OTHER_BYTES):
            raise ApiError(400, "invalid questionnaire")
        if slot in value:
            stored[slot] = answer
        if f"{slot}_other" in value:
            stored[f"{slot}_other"] = other
    return stored


def _storable(text: str, max_bytes: int) -> bool:
    """At most `max_bytes` UTF-8 bytes, and nothing PostgreSQL refuses (NUL, a lone surrogate) or
    that has no place in a typed answer (other control characters; newlines and tabs are fine)."""
    size = utf8_length(text)
    return size is not None and size <= max_bytes and not has_control_characters(text, multiline=True)


def is_complete(questionnaire: object) -> bool:
    """All three slots hold a non-empty string (an unreadable value counts as incomplete)."""
    if not isinstance(questionnaire, dict):
        return False
    return all(isinstance(questionnaire.get(slot), str) and questionnaire.get(slot) for slot in SLOTS)


def update_questionnaire(user: User, questionnaire: object, *, platform: str = "") -> User:
    """Replace the stored questionnaire wholesale (or leave it when None) and emit the first completion.

    `onboarding_questionnaire_submitted` fires at most once per user: the marker column is set by a
    conditional UPDATE in the same transaction, so concurrent PATCHes cannot both emit.
    """
    before = user.onboarding_questionnaire if isinstance(user.onboarding_questionnaire, dict) else {}
    now = utcnow()
    emit = False
    if questionnaire is not None:
        stored = validate_questionnaire(questionnaire)
        user.onboarding_questionnaire = stored
        user.updated_at = now
        db.session.flush()
        if is_complete(stored) and not is_complete(before):
            claimed = db.session.execute(
                sa.update(User)
                .where(User.id == user.id, User.onboarding_questionnaire_submitted_at.is_(None))
                .values(onboarding_questionnaire_submitted_at=now)
                .returning(User.id)
            ).first()
            emit = claimed is not None
    else:
        user.updated_at = now
    db.session.commit()
    if questionnaire is not None and not before and user.onboarding_questionnaire:
        count_only(events.onboarding_started(str(user.id), platform))
    if emit:
        record_event(events.onboarding_questionnaire_submitted(str(user.id), user.onboarding_questionnaire))
    return user


def complete_onboarding(user: User, path: object, workspace_id: str = "") -> User:
    """Flip `onboarded_at` once (atomically) and emit `onboarding_completed` for that first flip only."""
    now = utcnow()
    flipped = mark_onboarded(user, now)
    db.session.commit()
    db.session.refresh(user)
    if flipped is not None:
        record_event(events.onboarding_completed(
            str(user.id),
            allowed_completion_path(path),
            onboarded_at=as_utc(flipped.onboarded_at),
            joined_cloud_waitlist=flipped.cloud_waitlist_email is not None,
            workspace_id=workspace_id,
        ))
    return user


def join_cloud_waitlist(user: User, email_input: object, reason_input: object) -> User:
    """Store (overwrite) the waitlist email and reason; never completes onboarding; emits every time."""
    if email_input is not None and not isinstance(email_input, str):
        raise ApiError(400, "invalid request body")
    if reason_input is not None and not isinstance(reason_input, str):
        raise ApiError(400, "invalid request body")
    email_text = (email_input or "").strip().lower()
    if not email_text:
        raise ApiError(400, "email is required")
    email_size = utf8_length(email_text)
    if email_size is None or has_control_characters(email_text):
        raise ApiError(400, "email is invalid")
    if email_size > MAX_EMAIL_BYTES:
        raise ApiError(400, "email is too long")
    email = canonical_email(email_text)
    if email is None:
        raise ApiError(400, "email is invalid")
    if len(email.encode("utf-8")) > MAX_EMAIL_BYTES:
        raise ApiError(400, "email is too long")
    reason = (reason_input or "").strip()
    reason_size = utf8_length(reason)
    if reason_size is None or has_control_characters(reason, multiline=True):
        raise ApiError(400, "invalid reason")
    if reason_size > MAX_REASON_BYTES:
        raise ApiError(400, "reason is too long")
    user.cloud_waitlist_email = email
    user.cloud_waitlist_reason = reason or None
    user.updated_at = utcnow()
    db.session.commit()
    record_event(events.cloud_waitlist_joined(str(user.id), reason))
    return user


# §9.5 (D20): with role "other" (or none), the use case decides.
TEMPLATE_FOR_USE_CASE = {"coding": "coding", "planning": "planning", "writing_research": "writing"}


def recommend_template(role: object, use_case: object) -> str:
    """The agent template pre-selected for a questionnaire (SPEC §9.5)."""
    if role == "founder":
        return "assistant"
    if role == "writer":
        return "writing"
    if role == "developer":
        return "planning" if use_case == "planning" else "coding"
    if role == "product_lead":
        return "coding" if use_case == "coding" else "planning"
    return TEMPLATE_FOR_USE_CASE.get(use_case, "assistant") if isinstance(use_case, str) else "assistant"
