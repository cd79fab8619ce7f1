"""Runtime rules: daemon tokens, registration, heartbeats, deregistration and the sweeper (D2, D12, SPEC §6.1).

Every lifecycle event here is metrics-only (SPEC §2.10): `record_event` bumps the paired Prometheus
counter and never ships it to PostHog. Each once-only transition is decided by one atomic
statement, so concurrent daemons and sweepers cannot double-count: the registration upsert's
`INSERT ... ON CONFLICT DO NOTHING RETURNING` for `runtime_registered`/`runtime_ready`, and
`UPDATE ... WHERE status = 'online' RETURNING` for `runtime_offline`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import session
from sqlalchemy.exc import SQLAlchemyError

from multica.analytics import events
from multica.analytics.record import record_event
from multica.auth.models import User
from multica.db_utils import insert_ignoring_conflicts, parse_uuid, utcnow
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import row_in_workspace
from multica.runtimes.models import DaemonToken, Runtime
from multica.workspaces.models import Workspace

logger = logging.getLogger("multica.runtimes")

TOKEN_PREFIX = "mdt_"
ONLINE = "online"
OFFLINE = "offline"
LOCAL = "local"
DEFAULT_MAX_SILENCE_SECONDS = 90.0
_UNIQUE_KEY = ["workspace_id", "daemon_id", "provider"]


@dataclass(frozen=True)
class ProviderSpec:
    """One agent CLI a daemon reports: its provider name (trimmed, lowercased) and version."""

    provider: str
    version: str = ""


@dataclass(frozen=True)
class Registration:
    """A validated `POST /api/daemon/register` body."""

    daemon_id: str
    providers: tuple[ProviderSpec, ...]
    cli_version: str = ""
    name: str = ""


# ---- daemon tokens ------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a daemon token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_daemon_token(user: User, workspace: Workspace, name: str = "") -> tuple[DaemonToken, str]:
    """Mint a token for the workspace; the plain token is returned once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = DaemonToken(workspace_id=workspace.id, created_by=user.id, token_hash=hash_token(token), name=name)
    db.session.add(row)
    db.session.commit()
    return row, token


def revoke_daemon_token(workspace: Workspace, raw_token_id: object) -> None:
    """Revoke one of the workspace's tokens (idempotent); 404 when it is not the workspace's."""
    token_id = parse_uuid(raw_token_id)
    token = db.session.get(DaemonToken, token_id) if token_id else None
    if token is None or token.workspace_id != workspace.id:
        raise ApiError(404, "daemon token not found")
    db.session.execute(
        sa.update(DaemonToken).where(DaemonToken.id == token.id, DaemonToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    db.session.commit()


# Every daemon call runs this lookup: built once, so a call only binds the hash.
_LIVE_TOKEN = sa.select(DaemonToken.id, DaemonToken.workspace_id).where(
    DaemonToken.token_hash == sa.bindparam("token_hash"), DaemonToken.revoked_at.is_(None)
)


def daemon_token_for(raw_token: str | None):
    """The live token a daemon presented (its `id` and `workspace_id`), or 401.

    The answer is a row, not a `DaemonToken`: the daemon's calls need only those two columns.
    """
    if not raw_token:
        raise ApiError(401, "missing authorization")
    if not raw_token.startswith(TOKEN_PREFIX):
        raise ApiError(401, "invalid daemon token")
    token = db.session.execute(_LIVE_TOKEN, {"token_hash": hash_token(raw_token)}).first()
    if token is None:
        raise ApiError(401, "invalid daemon token")
    return token


SHOWN_TOKEN_KEY = "daemon_token_once"


def remember_token_once(workspace: Workspace, token: str) -> None:
    """Keep a new token for the next page of this workspace to show, once (POST/redirect/GET).

    It rides in the signed, HttpOnly session cookie of the browser that asked for it, which is
    the only one shown it anyway, and is dropped by the GET that displays it.
    """
    session[SHOWN_TOKEN_KEY] = {"workspace_id": str(workspace.id), "token": token}


def take_token_once(workspace: Workspace) -> str | None:
    """The token `remember_token_once` kept for this workspace, forgotten as it is read."""
    kept = session.get(SHOWN_TOKEN_KEY)
    if not isinstance(kept, dict) or kept.get("workspace_id") != str(workspace.id):
        return None
    session.pop(SHOWN_TOKEN_KEY, None)
    return kept.get("token")


def _touch(token_id: uuid.UUID, now: datetime) -> None:
    """Record that the token was used, in its own short transaction.

    Committed separately so the token row's lock is not held for the whole registration: twenty
    concurrent registrations then really race on the runtime upsert instead of queueing on this row.
    """
    db.session.execute(sa.update(DaemonToken).where(DaemonToken.id == token_id).values(last_used_at=now))
    db.session.commit()


# ---- registration, heartbeat, deregistration ----------------------------------------------------

def _token_distinct_id(workspace_id) -> str:
    """Daemon-token registrations have no user behind them (SPEC §6.1)."""
    return f"workspace:{workspace_id}"


def _distinct_id(workspace_id, registered_by) -> str:
    """The owner user when a user registered the runtime, else the workspace."""
    return str(registered_by) if registered_by else _token_distinct_id(workspace_id)


def daemon_runtimes(workspace_id, daemon_id: str) -> list[Runtime]:
    """The daemon's runtimes in the workspace, by provider."""
    return list(db.session.scalars(
        sa.select(Runtime).where(Runtime.workspace_id == workspace_id, Runtime.daemon_id == daemon_id).order_by(Runtime.provider)
    ))


def register_daemon(token: DaemonToken, registration: Registration) -> list[Runtime]:
    """Upsert one runtime per provider, all online; new rows emit `runtime_registered` and `runtime_ready`.

    Whether a row is new is decided by the insert itself (`ON CONFLICT DO NOTHING RETURNING`), so
    re-registrations and racing daemons never count twice. A database failure rolls the whole
    registration back, counts `runtime_failed` for each provider and answers 500.
    """
    workspace_id, token_id = token.workspace_id, token.id
    daemon_id = registration.daemon_id
    now = utcnow()
    inserted: list[tuple[uuid.UUID, ProviderSpec]] = []
    try:
        _touch(token_id, now)
        for spec in registration.providers:
            values = {
                "status": ONLINE,
                "name": registration.name or daemon_id,
                "runtime_version": spec.version,
                "cli_version": registration.cli_version,
                "last_heartbeat_at": now,
                "updated_at": now,
            }
            row = insert_ignoring_conflicts(
                db.session,
                Runtime.__table__,
                {"id": uuid.uuid4(), "workspace_id": workspace_id, "daemon_id": daemon_id, "provider": spec.provider,
                 "runtime_mode": LOCAL, "created_at": now, **values},
                _UNIQUE_KEY,
                [Runtime.id],
            )
            if row is not None:
                inserted.append((row.id, spec))
                continue
            # Someone registered this tuple before (or concurrently, and committed first): a reconnect.
            db.session.execute(
                sa.update(Runtime)
                .where(Runtime.workspace_id == workspace_id, Runtime.daemon_id == daemon_id, Runtime.provider == spec.provider)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    except SQLAlchemyError as error:
        db.session.rollback()
        logger.error(
            "runtimes: registration failed (%s: %s)", type(error).__name__, getattr(error, "orig", None) or error,
            extra={"workspace_id": str(workspace_id)},
        )
        # The transaction covered every provider, so none of them was registered.
        for spec in registration.providers:
            record_event(events.runtime_failed(
                _token_distinct_id(workspace_id), str(workspace_id), daemon_id=daemon_id, provider=spec.provider,
                failure_reason="registration_failed", error_type="db_error", recoverable=True,
            ))
        raise ApiError(500, "failed to register runtime") from None

    distinct_id = _token_distinct_id(workspace_id)
    for runtime_id, spec in inserted:
        record_event(events.runtime_registered(
            distinct_id, str(workspace_id), runtime_id=str(runtime_id), daemon_id=daemon_id, provider=spec.provider,
            runtime_version=spec.version, cli_version=registration.cli_version,
        ))
        record_event(events.runtime_ready(
            distinct_id, str(workspace_id), runtime_id=str(runtime_id), daemon_id=daemon_id, provider=spec.provider,
        ))
    wanted = {spec.provider for spec in registration.providers}
    return [runtime for runtime in daemon_runtimes(workspace_id, daemon_id) if runtime.provider in wanted]


def heartbeat_daemon(token: DaemonToken, daemon_id: str) -> list[Runtime]:
    """Mark the daemon's runtimes online as of now; 404 when it has none (it should register again).

    A runtime the sweeper had marked offline comes back silently: a reconnect is not `runtime_ready`.
    """
    workspace_id, now = token.workspace_id, utcnow()
    _touch(token.id, now)
    result = db.session.execute(
        sa.update(Runtime)
        .where(Runtime.workspace_id == workspace_id, Runtime.daemon_id == daemon_id)
        .values(status=ONLINE, last_heartbeat_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount == 0:
        raise ApiError(404, "daemon is not registered")
    return daemon_runtimes(workspace_id, daemon_id)


def _mark_offline(condition) -> list[sa.Row]:
    """Flip matching online runtimes offline in one statement; the rows returned are the ones this call flipped."""
    rows = db.session.execute(
        sa.update(Runtime)
        .where(Runtime.status == ONLINE, condition)
        .values(status=OFFLINE, updated_at=utcnow())
        .returning(Runtime.id, Runtime.workspace_id, Runtime.daemon_id, Runtime.provider, Runtime.runtime_mode, Runtime.registered_by)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    for row in rows:
        record_event(events.runtime_offline(
            _distinct_id(row.workspace_id, row.registered_by), str(row.workspace_id), runtime_id=str(row.id),
            daemon_id=row.daemon_id, provider=row.provider, runtime_mode=row.runtime_mode,
        ))
    return rows


def deregister_daemon(token: DaemonToken, daemon_id: str) -> list[Runtime]:
    """Mark the daemon's online runtimes offline, emitting `runtime_offline` once per runtime (idempotent)."""
    workspace_id = token.workspace_id
    _touch(token.id, utcnow())
    _mark_offline(sa.and_(Runtime.workspace_id == workspace_id, Runtime.daemon_id == daemon_id))
    return daemon_runtimes(workspace_id, daemon_id)


def sweep_silent_runtimes(max_silence_seconds: float = DEFAULT_MAX_SILENCE_SECONDS, *, now: datetime | None = None) -> int:
    """Mark offline every online runtime without a heartbeat for `max_silence_seconds`; returns how many."""
    cutoff = (now or utcnow()) - timedelta(seconds=max_silence_seconds)
    rows = _mark_offline(sa.or_(Runtime.last_heartbeat_at.is_(None), Runtime.last_heartbeat_at < cutoff))
    return len(rows)


def workspace_runtimes(workspace: Workspace) -> list[Runtime]:
    """The workspace's runtimes, newest first (the onboarding CLI card polls this)."""
    return list(db.session.scalars(
        sa.select(Runtime).where(Runtime.workspace_id == workspace.id).order_by(Runtime.created_at.desc(), Runtime.provider)
    ))


def daemon_tokens_of(workspace: Workspace) -> list[DaemonToken]:
    """The workspace's daemon tokens, live ones first, newest first within each group."""
    return list(db.session.scalars(
        sa.select(DaemonToken).where(DaemonToken.workspace_id == workspace.id)
        .order_by(DaemonToken.revoked_at.is_not(None), DaemonToken.created_at.desc())
    ))


def online_runtime(workspace: Workspace, raw_id: object) -> Runtime:
    """The workspace's runtime `raw_id` when it is online, for a page that binds work to it.

    ApiError 400 `runtime is required` when none is named, 404 when it is not the workspace's, and
    409 `runtime is offline` when its daemon is not connected (an agent there could not run).
    """
    if raw_id in (None, ""):
        raise ApiError(400, "runtime is required")
    runtime = row_in_workspace(Runtime, workspace, raw_id, noun="runtime")
    if runtime.status != ONLINE:
        raise ApiError(409, "runtime is offline")
    return runtime
