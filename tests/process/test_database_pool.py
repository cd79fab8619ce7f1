"""Pooled database connections: one that died while idle is replaced before a request uses it."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from multica.extensions import db

pytestmark = pytest.mark.postgres

BAD_TOKEN = {"Authorization": "Bearer mdt_not-a-real-token"}


def _kill_pooled_connection(app, database_url: str) -> None:
    """Terminate the server side of the app's one pooled connection, as a server restart would."""
    with app.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.commit()
    admin = sa.create_engine(database_url)
    with admin.begin() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def _claim(client):
    """A daemon call that reads the database (the token lookup) before answering 401."""
    return client.post("/api/daemon/tasks/claim", json={"runtime_id": "00000000-0000-0000-0000-000000000000"}, headers=BAD_TOKEN)


def test_a_connection_killed_while_idle_is_pinged_and_replaced(make_app, database_url):
    idle = 0.2
    app = make_app(DATABASE_PING_AFTER_IDLE=idle, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client = app.test_client()
    assert _claim(client).status_code == 401
    _kill_pooled_connection(app, database_url)
    time.sleep(idle + 0.1)
    assert _claim(client).status_code == 401


def test_a_connection_used_a_moment_ago_is_not_pinged(make_app, database_url):
    """The control, and the saving: within the idle window there is no ping, so a connection that
    died meanwhile reaches the request (once: the pool drops it)."""
    app = make_app(DATABASE_PING_AFTER_IDLE=3600, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client = app.test_client()
    assert _claim(client).status_code == 401
    _kill_pooled_connection(app, database_url)
    time.sleep(0.3)
    assert _claim(client).status_code == 500
    assert _claim(client).status_code == 401  # the pool has dropped the dead connection by now
