"""Overlapping `autopilots tick` on PostgreSQL start at most one run per autopilot per due period (D15.7, D19.8)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from multica.autopilots.models import Autopilot, AutopilotRun
from multica.autopilots.service import tick
from multica.db_utils import utcnow
from multica.extensions import db
from tests.tasks.helpers import metric

pytestmark = pytest.mark.postgres

AUTOPILOTS = 10
TICKS = 4


def test_overlapping_ticks_start_one_run_per_due_period(app, client, owner, workspace, agent):
    for number in range(AUTOPILOTS):
        body = {"name": f"hourly {number}", "agent_id": agent["id"], "action": "run_agent", "cadence": "hourly", "prompt": "go"}
        assert client.post(f"/api/workspaces/{workspace['id']}/autopilots", json=body, headers=owner.headers).status_code == 201
    with app.app_context():
        db.session.execute(sa.update(Autopilot).values(created_at=utcnow() - timedelta(minutes=61)))
        db.session.commit()
    barrier = threading.Barrier(TICKS, timeout=30)

    def one_tick(_):
        with app.app_context():
            barrier.wait()
            return tick()

    with ThreadPoolExecutor(max_workers=TICKS) as pool:
        started = list(pool.map(one_tick, range(TICKS)))

    assert sum(started) == AUTOPILOTS
    with app.app_context():
        per_autopilot = db.session.execute(sa.select(AutopilotRun.autopilot_id, sa.func.count()).group_by(AutopilotRun.autopilot_id)).all()
    assert len(per_autopilot) == AUTOPILOTS and {count for _, count in per_autopilot} == {1}
    assert metric(client, "multica_autopilot_run_started_total", cadence="hourly", trigger_kind="schedule") == AUTOPILOTS
    assert metric(client, "multica_agent_task_enqueued_total", source="autopilot") == AUTOPILOTS
