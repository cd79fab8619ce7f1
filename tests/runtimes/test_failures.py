"""A registration the database refuses: rollback, `runtime_failed`, 500 (SPEC §6.1).

The failure is real: a trigger in the test database rejects runtime rows for the provider
`explode`, the way a constraint or a failing disk would, so no application code is patched.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from multica.extensions import db
from tests.conftest import flush
from tests.runtimes.helpers import lifecycle_counts, metric, register, runtime_events_in, runtime_rows

_SQLITE = [
    """CREATE TRIGGER test_reject_runtime BEFORE INSERT ON runtime WHEN NEW.provider = 'explode'
       BEGIN SELECT RAISE(ABORT, 'runtime rejected by test trigger'); END""",
    """CREATE TRIGGER test_reject_runtime_update BEFORE UPDATE ON runtime WHEN NEW.cli_version = 'explode'
       BEGIN SELECT RAISE(ABORT, 'runtime rejected by test trigger'); END""",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS test_reject_runtime", "DROP TRIGGER IF EXISTS test_reject_runtime_update"]
_POSTGRES = [
    """CREATE FUNCTION test_reject_runtime() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.provider = 'explode' OR NEW.cli_version = 'explode' THEN
           RAISE EXCEPTION 'runtime rejected by test trigger';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER test_reject_runtime BEFORE INSERT OR UPDATE ON runtime
       FOR EACH ROW EXECUTE FUNCTION test_reject_runtime()""",
]
_POSTGRES_DROP = ["DROP TRIGGER IF EXISTS test_reject_runtime ON runtime", "DROP FUNCTION IF EXISTS test_reject_runtime()"]


@pytest.fixture
def rejecting_database(app):
    """Install the rejecting trigger for this test only."""
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        create, drop = (_POSTGRES, _POSTGRES_DROP) if postgres else (_SQLITE, _SQLITE_DROP)
        with db.engine.begin() as conn:
            for statement in create:
                conn.execute(sa.text(statement))
    yield
    with app.app_context():
        with db.engine.begin() as conn:
            for statement in drop:
                conn.execute(sa.text(statement))


def test_failed_insert_rolls_back_counts_runtime_failed_and_answers_500(app, client, daemon, sink, rejecting_database):
    response = register(client, daemon, "laptop-1", ["claude", "explode"])

    assert response.status_code == 500 and response.json == {"error": "failed to register runtime"}
    # One transaction: the claude row inserted before the failure is gone too.
    assert runtime_rows(app) == []
    assert metric(client, "multica_runtime_registered_total") == 0
    assert metric(client, "multica_runtime_ready_total") == 0
    for provider in ("claude", "other"):
        assert metric(client, "multica_runtime_failed_total", provider=provider, runtime_mode="local", recoverable="true") == 1

    # The session was rolled back cleanly: the next registration on the same app works.
    retry = register(client, daemon, "laptop-1", ["claude"])
    assert retry.status_code == 200
    assert lifecycle_counts(client, "claude") == {"registered": 1, "ready": 1, "offline": 0, "failed": 1}
    flush(app)
    assert runtime_events_in(sink) == set()


def test_failed_update_on_reregistration_keeps_the_old_row(app, client, daemon, rejecting_database):
    assert register(client, daemon, "laptop-1", ["claude"], cli_version="0.1.0").status_code == 200

    response = register(client, daemon, "laptop-1", ["claude"], cli_version="explode")

    assert response.status_code == 500 and response.json == {"error": "failed to register runtime"}
    [row] = runtime_rows(app)
    assert row.cli_version == "0.1.0" and row.status == "online"
    assert lifecycle_counts(client, "claude") == {"registered": 1, "ready": 1, "offline": 0, "failed": 1}
