"""The catalog, builders, record_event routing and the generated docs (SPEC §2.10, §5.4, §6.5, §7, D6)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry

from multica.analytics import events
from multica.analytics.catalog import CATALOG, FRONTEND, POSTHOG, PROMETHEUS, SERVER, is_metrics_only
from multica.analytics.event import Event
from multica.analytics.docs import render
from multica.analytics.record import count_only, record_event
from multica.analytics.schema import SchemaViolation, validate_event
from multica.metrics.business import Metrics
from multica.metrics.labels import FORBIDDEN_LABELS
from tests.conftest import ROOT

WS = "8d5c1a2b-0035-4c62-9f14-1ad4215736a5"
U = "0b7d1f0e-6a53-4c1e-9f3e-2b9a4d3c1e10"
AGENT = "3f1a7b52-2c4e-4f0a-8d6b-5e9c7a1b2d30"

METRICS_ONLY = [
    "runtime_registered", "runtime_ready", "runtime_failed", "runtime_offline",
    "autopilot_run_started", "autopilot_run_completed", "autopilot_run_failed",
]


class SpyClient:
    enabled = True

    def __init__(self):
        self.captured = []

    def capture(self, event):
        self.captured.append(event)


@pytest.mark.parametrize("name", METRICS_ONLY)
def test_metrics_only_names(name):
    assert is_metrics_only(name)


@pytest.mark.parametrize(
    "name",
    ["signup", "workspace_created", "issue_created", "issue_executed", "chat_message_sent", "agent_created", "autopilot_created", "agent_task_completed", "unknown"],
)
def test_not_metrics_only(name):
    assert not is_metrics_only(name)


def _sample(metrics, name, **labels):
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_record_event_routes_metrics_only_events_to_prometheus_alone():
    client, metrics = SpyClient(), Metrics(CollectorRegistry())
    offline = events.runtime_offline("workspace:" + WS, WS, runtime_id=U, daemon_id="d1", provider="claude")
    record_event(offline, client=client, metrics=metrics, strict=True)
    assert client.captured == []
    assert _sample(metrics, "multica_runtime_offline_total", runtime_mode="local", provider="claude") == 1

    completed = events.autopilot_run_completed(
        "agent:" + AGENT, WS, autopilot_id=U, autopilot_run_id=U, agent_id=AGENT, trigger_source="schedule",
        duration_ms=10, cadence="daily", trigger_kind="schedule",
    )
    record_event(completed, client=client, metrics=metrics, strict=True)
    assert client.captured == []
    assert _sample(metrics, "multica_autopilot_run_terminal_total", cadence="daily", trigger_kind="schedule", terminal_status="completed") == 1

    record_event(events.workspace_created(U, WS), client=client, metrics=metrics, strict=True)
    assert [e.name for e in client.captured] == ["workspace_created"]
    assert _sample(metrics, "multica_workspace_created_total", source="manual") == 1


def test_record_event_tolerates_absent_sides():
    record_event(events.workspace_created(U, WS), client=None, metrics=None, strict=True)


def test_strict_mode_raises_on_schema_violation():
    with pytest.raises(SchemaViolation) as info:
        record_event(Event("signup", U, {"email_domain": "x.io"}), client=None, metrics=None, strict=True)
    assert "signup_source" in str(info.value)


def test_lenient_mode_ships_a_violation():
    client = SpyClient()
    record_event(Event("signup", U, {}), client=client, metrics=None, strict=False)
    assert len(client.captured) == 1


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (Event("nope", U), "unknown event"),
        (Event("workspace_created", U, {"source": "manual"}), "missing workspace_id"),
        (Event("workspace_created", U, {"source": "manual", "is_first_workspace": True}, workspace_id=WS), "forbidden property is_first_workspace"),
        (Event("signup", U, {"email_domain": "x", "signup_source": "", "email": "a@b.co"}), "forbidden property email"),
        (Event("signup", U, {"email_domain": "x", "signup_source": "", "note": "write to a@b.co"}), "looks like an email"),
        (Event("onboarding_completed", U, {"completion_path": "bogus", "joined_cloud_waitlist": False}), "completion_path must be one of"),
        (Event("team_invite_accepted", U, {"days_since_invite": "2"}, workspace_id=WS), "days_since_invite must be int"),
        (Event("cloud_waitlist_joined", U, {"has_reason": True}, set={"email": "x"}), "$set.email is not declared"),
        (Event("agent_task_completed", U), "typed task metrics"),
    ],
)
def test_validation_finds(event, problem):
    assert any(problem in v for v in validate_event(event))


def test_every_server_posthog_event_has_a_paired_counter():
    for spec in CATALOG.values():
        if spec.emitter == SERVER and not spec.typed_metrics_only:
            assert spec.metric is not None, spec.name
            metrics = Metrics(CollectorRegistry())
            assert spec.metric.name.removesuffix("_total") in {c._name for c in metrics.counters.values()}


def test_no_business_metric_declares_a_forbidden_label():
    metrics = Metrics(CollectorRegistry())
    for collector in list(metrics.counters.values()) + [metrics.runtime_ready_seconds]:
        assert not set(collector._labelnames) & set(FORBIDDEN_LABELS), collector._name
    for spec in CATALOG.values():
        for label in spec.metric.labels if spec.metric else ():
            assert label.name not in FORBIDDEN_LABELS


def test_onboarding_started_platform_labels_collapse():
    metrics = Metrics(CollectorRegistry())
    count_only(events.onboarding_started(U, "web"), metrics=metrics)
    count_only(events.onboarding_started(U, "iphone-build-1234567890-abcdef"), metrics=metrics)
    samples = [s for m in metrics.registry.collect() if m.name == "multica_onboarding_started" for s in m.samples if s.name.endswith("_total")]
    assert {s.labels["platform"]: s.value for s in samples} == {"web": 1.0, "unknown": 1.0}


def test_runtime_ready_duration():
    no_duration = events.runtime_ready(U, WS, runtime_id=U, daemon_id="d", provider="codex", ready_duration_ms=0)
    assert "ready_duration_ms" not in no_duration.properties
    measured = events.runtime_ready(U, WS, runtime_id=U, daemon_id="d", provider="codex", ready_duration_ms=123)
    assert measured.properties["ready_duration_ms"] == 123
    metrics = Metrics(CollectorRegistry())
    record_event(measured, client=None, metrics=metrics, strict=True)
    assert _sample(metrics, "multica_runtime_ready_seconds_count", runtime_mode="local", provider="codex") == 1
    assert _sample(metrics, "multica_runtime_ready_seconds_sum", runtime_mode="local", provider="codex") == pytest.approx(0.123)


def test_runtime_failed_labels():
    metrics = Metrics(CollectorRegistry())
    record_event(events.runtime_failed(U, WS, daemon_id="d", provider="provider-from-user-input"), client=None, metrics=metrics, strict=True)
    # `registration_failed` is not one of the 21 canonical reasons, so the classifier buckets it.
    assert _sample(
        metrics, "multica_runtime_failed_total", runtime_mode="local", provider="other",
        failure_reason="agent_error.unknown", recoverable="true",
    ) == 1


def test_autopilot_run_failed_shape():
    event = events.autopilot_run_failed(
        "agent:" + AGENT, WS, autopilot_id=U, autopilot_run_id=U, agent_id=AGENT, trigger_source="manual",
        duration_ms=5, failure_reason="timeout", error_type="task_error",
    )
    assert event.properties["will_retry"] is False
    assert "recoverable" not in event.properties
    assert validate_event(event) == []


def test_signup_builder():
    event = events.signup(U, "Ada@Example.com", "")
    assert event.properties == {"email_domain": "example.com", "signup_source": ""}
    assert event.set_once == {"email": "Ada@Example.com", "signup_source": ""}
    assert event.workspace_id == ""
    assert validate_event(event) == []
    google = events.signup(U, "ada@example.com", '{"utm_source":"hn"}', auth_method="google")
    assert google.properties["auth_method"] == "google"
    assert validate_event(google) == []


def test_team_invite_builders():
    sent = events.team_invite_sent(U, WS, "Bob@Example.COM")
    assert sent.distinct_id == U
    assert sent.properties == {"invited_email_domain": "example.com", "invite_method": "email"}
    assert "Bob@Example.COM" not in json.dumps(sent.properties)
    now = datetime(2026, 1, 10, 12, tzinfo=timezone.utc)
    assert events.team_invite_accepted(U, WS, now - timedelta(hours=49), now).properties["days_since_invite"] == 2
    assert events.team_invite_accepted(U, WS, now - timedelta(hours=1), now).properties["days_since_invite"] == 0
    assert events.team_invite_accepted(U, WS, None, now).properties["days_since_invite"] == 0


def test_questionnaire_builder_keeps_free_text_out():
    event = events.onboarding_questionnaire_submitted(
        U, {"team_size": "team", "role": "other", "role_other": "CTO", "use_case": "coding", "team_size_other": None}
    )
    assert event.properties["role_has_other"] is True
    assert event.properties["team_size_has_other"] is False and event.properties["use_case_has_other"] is False
    assert event.set == {"team_size": "team", "role": "other", "use_case": "coding"}
    assert "CTO" not in json.dumps(event.properties)
    assert validate_event(event) == []


def test_onboarding_completed_builder():
    event = events.onboarding_completed(U, "bogus", onboarded_at=datetime(2026, 6, 5, 12, 34, 56, 789, tzinfo=timezone.utc), joined_cloud_waitlist=True, workspace_id=WS)
    assert event.properties["completion_path"] == "unknown"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", event.set_once["onboarded_at"])
    assert event.set_once["onboarded_at"] == "2026-06-05T12:34:56Z"


@pytest.mark.parametrize(
    ("message", "bucket"),
    [("a" * 99, "0-100"), ("a" * 100, "100-500"), ("a" * 499, "100-500"), ("a" * 500, "500-2000"), ("a" * 1999, "500-2000"), ("a" * 2000, "2000+"), ("  " + "a" * 99 + "  ", "0-100"), ("é" * 50, "100-500")],
)
def test_feedback_length_bucket(message, bucket):
    assert events.feedback_length_bucket(message) == bucket


@pytest.mark.parametrize(
    ("message", "expected"),
    [("![shot](https://x/y.png)", True), ("![](a)", True), ("![alt]()", False), ("![alt](url", False), ("no image", False)],
)
def test_has_markdown_image(message, expected):
    assert events.has_markdown_image(message) is expected


def test_contact_sales_event_has_no_user_id_and_no_pii():
    event = events.contact_sales_submitted(U, company_size="11-50", country_region="United Kingdom", use_case="evaluate", goals="  ", form_source="")
    assert event.stamp_user_id is False
    assert event.properties["has_goals"] is False and event.properties["form_source"] == "page"
    assert validate_event(event) == []


def test_catalog_shape():
    for spec in CATALOG.values():
        assert spec.sink in {POSTHOG, PROMETHEUS}
        assert spec.emitter in {SERVER, FRONTEND, "posthog"}
        assert spec.description and spec.trigger
    frontend = {s.name for s in CATALOG.values() if s.emitter == FRONTEND}
    assert frontend == {
        "onboarding_started", "onboarding_runtime_path_selected", "onboarding_runtime_detected",
        "download_intent_expressed", "download_page_viewed", "download_initiated", "feedback_opened", "$pageview", "$set",
    }


def test_docs_match_the_catalog():
    committed = (ROOT / "docs" / "analytics.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/analytics.md drifted: run `flask --app app analytics docs`"


def test_docs_command_check_mode(app, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "analytics.md"
    result = runner.invoke(args=["analytics", "docs", "--output", str(target)])
    assert result.exit_code == 0 and target.read_text() == render()
    assert runner.invoke(args=["analytics", "docs", "--check", "--output", str(target)]).exit_code == 0
    target.write_text("stale")
    assert runner.invoke(args=["analytics", "docs", "--check", "--output", str(target)]).exit_code != 0
