"""Free-text task failure classifier (SPEC Appendix A).

Agents report failures as arbitrary provider/CLI error text. Using that text as a label would
explode cardinality, so it is folded into one of the fixed `agent_error.*` reasons by an ordered
table of case-insensitive substring rules; the first matching rule wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A 5xx status code on its own ("returned 504"), but not part of a longer number such as a port,
# a byte count or a timestamp ("15000", "1.2.3.500" still matches: dots are not digits).
_STANDALONE_5XX = re.compile(r"(?<![0-9])5[0-9]{2}(?![0-9])")


def _any(*needles: str) -> Callable[[str], bool]:
    """Return a predicate true when the lowercased text contains any of `needles`."""
    return lambda text: any(needle in text for needle in needles)


def _all(*needles: str) -> Callable[[str], bool]:
    """Return a predicate true when the lowercased text contains every one of `needles`."""
    return lambda text: all(needle in text for needle in needles)


def _either(*predicates: Callable[[str], bool]) -> Callable[[str], bool]:
    """Return a predicate true when any of `predicates` holds."""
    return lambda text: any(predicate(text) for predicate in predicates)


# Order matters: e.g. "token limit" must be context overflow before "limit" reads as quota, and
# "429" must be a rate limit before the 5xx rule or the network rule get a chance.
_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("context_overflow", _either(
        _any("context length", "context_length_exceeded", "maximum context", "prompt is too long",
             "context size has been exceeded"),
        _all("token", "limit"),
    )),
    ("missing_config", _either(
        _any("missing environment variable", "no llm provider configured", "no provider configured"),
        _all("missing", "api_key"),
        _all("api key", "required"),
    )),
    ("provider_auth_or_access", _any(
        "401", "403", "unauthorized", "login required", "not logged in", "please login again",
        "refresh token", "invalid api key", "access token", "subscription access",
        "does not have access", "you may not have access",
    )),
    ("provider_quota_limit", _any(
        "402", "insufficient_balance", "balance is too low", "monthly usage limit", "usage limit",
        "you've hit your limit", "you\u2019ve hit your limit", "credits", "quota",
    )),
    ("provider_capacity_or_rate_limit", _any("429", "rate limit", "overloaded", "529", "no capacity available")),
    ("provider_server_error", _either(
        _any("server had an error", "provider returned error", "internal error", "service unavailable",
             "bad gateway"),
        lambda text: _STANDALONE_5XX.search(text) is not None,
    )),
    ("provider_network", _any(
        "stream disconnected", "error sending request", "unable to connect", "dial tcp",
        "connection refused", "connectionrefused", "dns", "i/o timeout",
    )),
    ("model_not_found_or_unavailable", _either(
        _all("model", "not found"),
        _any("unknown model", "selected model", "http 404", "404 page not found"),
    )),
    ("empty_or_unparseable_output", _any("returned empty output", "returned no parseable output")),
    ("agent_timeout", _any("timed out after")),
    ("runtime_missing_executable", _any("executable not found")),
    ("runtime_version_unsupported", _any("below the minimum supported version", "requires a newer version")),
    ("process_failure", _any(
        "exit status", "signal", "panic", "sigsegv", "process exited", "pipe has been ended",
        "file already closed", "initialize failed",
    )),
)


def classify_failure_reason(text: object) -> str:
    """Return the `agent_error.<result>` reason for a free-text failure message.

    Empty, blank or non-string input, and text no rule matches, yield `agent_error.unknown`.
    """
    if not isinstance(text, str):
        return "agent_error.unknown"
    lowered = text.strip().lower()
    if not lowered:
        return "agent_error.unknown"
    for result, matches in _RULES:
        if matches(lowered):
            return f"agent_error.{result}"
    return "agent_error.unknown"
