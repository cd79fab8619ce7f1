"""`analytics funnel` on a seeded database with known answers, on SQLite and PostgreSQL (D16.2, D19.12),
and `analytics reconcile` without Prometheus or with a wrong one (D16.1, D19.14)."""

from __future__ import annotations

import json

from tests.insight.seed import seed
from tests.process.test_shutdown import free_port


def run(app, *args):
    return app.test_cli_runner().invoke(args=["analytics", *args])


def test_funnel_json_has_every_step_with_known_counts(app):
    expected = seed(app)
    result = run(app, "funnel", "--since", "30d", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    steps = {step["name"]: step["count"] for step in report["steps"]}
    assert steps == expected["steps"]
    assert [step["name"] for step in report["steps"]][:8] == [
        "signed_up", "questionnaire_submitted", "workspace_created", "runtime_registered", "first_agent", "first_issue",
        "issue_executed", "onboarded",
    ]
    conversions = {step["name"]: step["conversion"] for step in report["steps"]}
    assert conversions["signed_up"] is None and conversions["questionnaire_submitted"] == 0.5
    assert conversions["invites_accepted"] == 0.5
    assert report["completion_paths"] == expected["completion_paths"]
    weekly = report["weekly_active_workspaces"]
    for week, count in expected["weekly"].items():
        assert weekly[week] == count
    assert sum(weekly.values()) == sum(expected["weekly"].values())
    assert all(len(week) == 8 and week[4:6] == "-W" for week in weekly)


def test_funnel_window_excludes_older_users_and_the_table_prints(app):
    seed(app)
    report = json.loads(run(app, "funnel", "--since", "365d", "--json").stdout)
    assert {s["name"]: s["count"] for s in report["steps"]}["signed_up"] == 7
    table = run(app, "funnel")
    assert table.exit_code == 0 and "Issue executed" in table.stdout and "Weekly active workspaces" in table.stdout


def test_funnel_on_an_empty_database_lists_every_step_at_zero(app):
    report = json.loads(run(app, "funnel", "--json").stdout)
    assert len(report["steps"]) == 10 and all(step["count"] == 0 for step in report["steps"])


def test_funnel_refuses_a_bad_since(app):
    result = run(app, "funnel", "--since", "soon")
    assert result.exit_code == 2 and "--since" in result.stderr


def test_reconcile_without_prometheus_reports_the_database_side_only(app):
    result = run(app, "reconcile", "--days", "3")
    assert result.exit_code == 0, result.output
    assert "Prometheus was not queried" in result.stdout
    report = json.loads(run(app, "reconcile", "--days", "3", "--json").stdout)
    assert report["prometheus_queried"] is False and len(report["days"]) == 3
    assert report["days"][-1]["tasks_completed"] == {"db": 0}


def test_reconcile_with_an_unreachable_prometheus_says_so(app):
    url = f"http://127.0.0.1:{free_port()}"
    result = run(app, "reconcile", "--prometheus-url", url)
    assert result.exit_code == 1
    assert f"cannot reach Prometheus at {url}" in result.stderr
    assert "Traceback" not in result.output


def test_reconcile_with_a_url_that_is_not_prometheus_says_so(app, live_server):
    result = run(app, "reconcile", "--prometheus-url", live_server.url)
    assert result.exit_code == 1
    assert "does not look like a Prometheus server" in result.stderr


def test_reconcile_with_a_malformed_url_says_so(app):
    result = run(app, "reconcile", "--prometheus-url", "prometheus:9090")
    assert result.exit_code == 1 and "invalid Prometheus URL" in result.stderr
