"""Small database helpers shared by the product areas: UTC times, portable JSON, atomic inserts."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

# JSONB on PostgreSQL, JSON text elsewhere.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def rfc3339(moment: datetime | None) -> str | None:
    """`YYYY-MM-DDTHH:MM:SSZ` (second precision, UTC) for API responses."""
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID from user input, or None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def insert_ignoring_conflicts(session, table, values: dict, conflict_columns: list[str], returning):
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING ...` on PostgreSQL and SQLite: one atomic statement.

    Returns the returned row, or None when a conflicting row already existed.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict_columns).returning(*returning)
    return session.execute(statement).first()


def advisory_lock(session, key: str) -> None:
    """Serialise concurrent transactions on `key` until commit or rollback.

    PostgreSQL takes a transaction-scoped advisory lock on the key. SQLite has no such lock, and
    its driver only begins a transaction at the first write, so reads before it are unguarded: we
    take the database write lock now (`BEGIN IMMEDIATE`), which serialises every writer.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
    elif dialect == "sqlite":
        driver = session.connection().connection.driver_connection
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")


def ping_after_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use when it sat idle longer than `idle_seconds`.

    `pool_pre_ping` pings on every checkout, a round trip per request; a connection that was in use
    a moment ago is as good as a ping. One that sat idle (where a server restart or a dropped link
    leaves it dead) is pinged, and a dead one is replaced before the request sees it.
    """

    @sa.event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means this connection cannot be trusted
            raise sa.exc.DisconnectionError(f"idle connection failed its ping: {exc!r}") from exc
