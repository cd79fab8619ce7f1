"""Failure-reason classifier (SPEC Appendix A)."""

import pytest

from multica.metrics.classifier import classify_failure_reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Appendix A [R] vectors.
        ("Error: context length exceeded for model gpt-4", "context_overflow"),
        ("Hit the token limit for this conversation", "context_overflow"),
        ("Missing environment variable: MIFY_API_KEY.", "missing_config"),
        ("API Error: 401 Unauthorized", "provider_auth_or_access"),
        ("Your account has 0 credits remaining", "provider_quota_limit"),
        ("API Error: 429 Too Many Requests", "provider_capacity_or_rate_limit"),
        ("upstream returned 504", "provider_server_error"),
        ("dial tcp 1.2.3.4:443: connect: connection refused", "provider_network"),
        ("Error: model claude-3-opus-99 not found", "model_not_found_or_unavailable"),
        ("kimi returned no parseable output", "empty_or_unparseable_output"),
        ("claude timed out after 2h0m0s", "agent_timeout"),
        ("executable not found in $PATH", "runtime_missing_executable"),
        ("this protocol requires a newer version of the runtime", "runtime_version_unsupported"),
        ("agent exit status 137", "process_failure"),
        ("Hello world.", "unknown"),
        ("", "unknown"),
        ("   ", "unknown"),
        # §6.5 [R]: a 429 with an "overloaded" body is capacity, not unknown.
        ('API Error: 429 {"error":"overloaded"}', "provider_capacity_or_rate_limit"),
    ],
)
def test_reference_vectors(text, expected):
    assert classify_failure_reason(text) == f"agent_error.{expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Rule 1: every trigger.
        ("CONTEXT_LENGTH_EXCEEDED", "context_overflow"),
        ("exceeds the maximum context of the model", "context_overflow"),
        ("Prompt is too long: 210000 tokens", "context_overflow"),
        ("the context size has been exceeded", "context_overflow"),
        # Rule 2.
        ("missing ANTHROPIC_API_KEY", "missing_config"),
        ("An API key is required", "missing_config"),
        ("No LLM provider configured", "missing_config"),
        ("no provider configured for agent", "missing_config"),
        # Rule 3.
        ("HTTP 403 Forbidden", "provider_auth_or_access"),
        ("Login required", "provider_auth_or_access"),
        ("You are not logged in", "provider_auth_or_access"),
        ("Session expired, please login again", "provider_auth_or_access"),
        ("failed to refresh token", "provider_auth_or_access"),
        ("Invalid API key provided", "provider_auth_or_access"),
        ("access token expired", "provider_auth_or_access"),
        ("this model needs subscription access", "provider_auth_or_access"),
        ("org does not have access to this model", "provider_auth_or_access"),
        ("you may not have access to it", "provider_auth_or_access"),
        # Rule 4, including both apostrophes.
        ("402 Payment Required", "provider_quota_limit"),
        ("insufficient_balance", "provider_quota_limit"),
        ("Your balance is too low", "provider_quota_limit"),
        ("monthly usage limit reached", "provider_quota_limit"),
        ("You've hit your limit · resets 5pm", "provider_quota_limit"),
        ("You\u2019ve hit your limit \u00b7 resets 5pm", "provider_quota_limit"),
        ("Quota exceeded", "provider_quota_limit"),
        # Rule 5.
        ("Rate limit exceeded", "provider_capacity_or_rate_limit"),
        ("Overloaded", "provider_capacity_or_rate_limit"),
        ("status 529", "provider_capacity_or_rate_limit"),
        ("No capacity available for model", "provider_capacity_or_rate_limit"),
        # Rule 6, including the standalone-5xx regex.
        ("The server had an error while processing", "provider_server_error"),
        ("Provider returned error", "provider_server_error"),
        ("internal error", "provider_server_error"),
        ("503 Service Unavailable", "provider_server_error"),
        ("Bad Gateway", "provider_server_error"),
        ("status=500", "provider_server_error"),
        ("(502)", "provider_server_error"),
        # Rule 7.
        ("stream disconnected before completion", "provider_network"),
        ("error sending request for url", "provider_network"),
        ("Unable to connect to API", "provider_network"),
        ("ConnectionRefused", "provider_network"),
        ("DNS resolution failed", "provider_network"),
        ("read: i/o timeout", "provider_network"),
        # Rule 8.
        ("Unknown model: foo", "model_not_found_or_unavailable"),
        ("The selected model is unavailable", "model_not_found_or_unavailable"),
        ("HTTP 404", "model_not_found_or_unavailable"),
        ("404 page not found", "model_not_found_or_unavailable"),
        # Rule 9.
        ("codex returned empty output", "empty_or_unparseable_output"),
        # Rule 12.
        ("version 1.0 is below the minimum supported version", "runtime_version_unsupported"),
        # Rule 13.
        ("killed by signal 9", "process_failure"),
        ("goroutine panic", "process_failure"),
        ("SIGSEGV", "process_failure"),
        ("process exited unexpectedly", "process_failure"),
        ("The pipe has been ended.", "process_failure"),
        ("write: file already closed", "process_failure"),
        ("MCP initialize failed", "process_failure"),
    ],
)
def test_every_rule_trigger(text, expected):
    assert classify_failure_reason(text) == f"agent_error.{expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # First matching rule wins.
        ("token limit hit: 429", "context_overflow"),
        ("401 after 429", "provider_auth_or_access"),
        ("quota 429", "provider_quota_limit"),
        ("429 then 500", "provider_capacity_or_rate_limit"),
        ("500 connection refused", "provider_server_error"),
        ("model not found: exit status 1", "model_not_found_or_unavailable"),
        ("timed out after 10s: exit status 1", "agent_timeout"),
    ],
)
def test_rule_order(text, expected):
    assert classify_failure_reason(text) == f"agent_error.{expected}"


@pytest.mark.parametrize(
    "text",
    [
        "took 15000 ms",  # 500 inside a longer number
        "job 5000",
        "id 1500",
        "code 5001",
        "600 ms",
    ],
)
def test_5xx_must_stand_alone(text):
    assert classify_failure_reason(text) == "agent_error.unknown"


@pytest.mark.parametrize("value", [None, 42, b"429", ["429"]])
def test_non_string_is_unknown(value):
    assert classify_failure_reason(value) == "agent_error.unknown"


def test_agent_error_default_is_unknown():
    # §20 X-8: the reference's default reason `agent_error` is not canonical and lands on unknown.
    assert classify_failure_reason("agent_error") == "agent_error.unknown"
