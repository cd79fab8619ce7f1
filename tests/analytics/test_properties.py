"""Property tests (Hypothesis) for the pure helpers the pipeline relies on; the vectors live beside them.

Email canonicalisation, the signup-source cookie decoding, the tracker's pageview normalisation
(run in Chromium) and every Prometheus label normaliser.
"""

from __future__ import annotations

import json
import re
import string
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multica.auth.service import MAX_SIGNUP_SOURCE_BYTES, normalize_email, signup_source_from_cookie
from multica.emails import canonical_email
from multica.metrics import labels
from multica.metrics.labels import NORMALIZERS

# No deadline: the suite shares a small machine, and a slow example is not a wrong one.
relaxed = settings(deadline=None)

anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(), st.binary(),
    st.lists(st.text(), max_size=3), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
# Text without lone surrogates (which no HTTP cookie or JSON body can carry).
unicode_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
# RFC 5322 dot-atoms: words joined by single dots (no leading, trailing or doubled dot).
word = st.text(alphabet=string.ascii_letters + string.digits + "_+-", min_size=1, max_size=10)
local_part = st.lists(word, min_size=1, max_size=3).map(".".join)
host_label = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=10)
host = st.lists(host_label, min_size=1, max_size=2).map(".".join)
addresses = st.builds(lambda local, name, tld: f"{local}@{name}.{tld}", local_part, host, st.sampled_from(["com", "io", "co.uk"]))


# ---- email canonicalisation -----------------------------------------------------------------------


@relaxed
@given(anything)
def test_canonical_email_never_raises_and_returns_a_lowercase_single_address(value):
    result = canonical_email(value)
    if result is not None:
        assert result == result.lower()
        assert result.count("@") == 1 and not re.search(r"[\s<>]", result)
        local, _, domain = result.partition("@")
        assert local and domain


@relaxed
@given(unicode_text)
def test_canonical_email_is_idempotent(text):
    result = canonical_email(text)
    if result is not None:
        assert canonical_email(result) == result


@relaxed
@given(addresses, st.text(alphabet=" \t", max_size=3), st.text(alphabet=" \t", max_size=3))
def test_canonical_email_ignores_case_and_surrounding_space(address, before, after):
    assert canonical_email(before + address + after) == address.lower()
    assert canonical_email(address.upper()) == address.lower()


@relaxed
@given(addresses, st.text(alphabet=string.ascii_letters + " ", max_size=20))
def test_canonical_email_reads_a_display_name_form(address, name):
    assert canonical_email(f"{name} <{address}>") == address.lower()


@relaxed
@given(addresses, addresses)
def test_canonical_email_refuses_two_addresses(first, second):
    assert canonical_email(f"{first} {second}") is None
    assert canonical_email(f"{first},{second}") is None


@relaxed
@given(anything)
def test_normalize_email_is_a_trimmed_lowercase_string_and_idempotent(value):
    result = normalize_email(value)
    assert isinstance(result, str)
    assert result == result.strip().lower()
    assert normalize_email(result) == result


# ---- signup-source cookie decoding ----------------------------------------------------------------


@relaxed
@given(st.one_of(st.none(), unicode_text))
def test_signup_source_decoding_never_raises_and_is_bounded(raw):
    decoded = signup_source_from_cookie(raw)
    assert isinstance(decoded, str)
    assert len(decoded.encode("utf-8")) <= MAX_SIGNUP_SOURCE_BYTES


@relaxed
@given(unicode_text.filter(lambda s: len(s.encode("utf-8")) <= MAX_SIGNUP_SOURCE_BYTES))
def test_signup_source_round_trips_through_both_query_encodings(value):
    assert signup_source_from_cookie(quote_plus(value)) == value
    assert signup_source_from_cookie(quote(value, safe="")) == value


@relaxed
@given(unicode_text, st.integers(min_value=1, max_value=64))
def test_signup_source_over_the_limit_is_empty(value, extra):
    padded = value + "x" * (MAX_SIGNUP_SOURCE_BYTES + extra - len(value.encode("utf-8")))
    assert len(padded.encode("utf-8")) > MAX_SIGNUP_SOURCE_BYTES
    assert signup_source_from_cookie(quote_plus(padded)) == ""


@relaxed
@given(unicode_text, st.text(alphabet="GHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz%", max_size=2), unicode_text)
def test_signup_source_with_a_malformed_escape_is_empty(before, bad, after):
    raw = quote_plus(before) + "%" + bad + quote_plus(after)
    if re.search(r"%(?![0-9A-Fa-f]{2})", raw):
        assert signup_source_from_cookie(raw) == ""


# ---- label normalisers ----------------------------------------------------------------------------

ALLOWED = {
    "task_source": set(labels.TASK_SOURCES),
    "runtime_mode": set(labels.RUNTIME_MODES),
    "provider": set(labels.PROVIDERS),
    "terminal_status": set(labels.TERMINAL_STATUSES),
    "failure_reason": set(labels.CANONICAL_FAILURE_REASONS),
    "platform": set(labels.PLATFORMS),
    "onboarding_path": set(labels.ONBOARDING_PATHS),
    "autopilot_cadence": set(labels.AUTOPILOT_CADENCES),
    "autopilot_trigger": set(labels.AUTOPILOT_TRIGGERS),
    "feedback_kind": set(labels.FEEDBACK_KINDS),
    "contact_sales_source": set(labels.CONTACT_SALES_SOURCES),
    "signup_source": set(labels._SIGNUP_SOURCES.values()) | {"direct"},
    "bool": {"true", "false"},
}
ENUM_NORMALIZERS = [name for name in ALLOWED if name not in {"failure_reason", "signup_source", "bool"}]


def test_every_normaliser_has_an_allow_list():
    assert set(ALLOWED) == set(NORMALIZERS)


@pytest.mark.parametrize("name", sorted(NORMALIZERS))
@relaxed
@given(value=st.one_of(anything, st.sampled_from(sorted(set().union(*ALLOWED.values())))))
def test_a_label_only_takes_allowed_values_and_is_stable(name, value):
    normalise = NORMALIZERS[name]
    label = normalise(value)
    assert label in ALLOWED[name]
    assert normalise(label) == label


@pytest.mark.parametrize("name", ENUM_NORMALIZERS)
@relaxed
@given(data=st.data())
def test_allowed_values_survive_case_and_whitespace(name, data):
    value = data.draw(st.sampled_from(sorted(ALLOWED[name])))
    padding = data.draw(st.text(alphabet=" \t\n", max_size=3))
    assert NORMALIZERS[name](padding + value.upper() + padding) == value


known_hosts = st.sampled_from(sorted(labels._SIGNUP_HOSTS))
plain_sources = unicode_text.filter(lambda s: s.strip() and not s.strip().startswith("{"))


@relaxed
@given(known_hosts, st.sampled_from(["", "https://", "http://", "//"]), st.booleans(), st.sampled_from(["", "/", "/path?q=1", "#x"]))
def test_signup_source_reads_a_known_host_in_any_url_form(host, scheme, www, suffix):
    expected = labels._SIGNUP_SOURCES[labels._SIGNUP_HOSTS[host]]
    prefix = "www." if www and not host.startswith("www.") else ""
    assert labels.normalize_signup_source(f"{scheme}{prefix}{host.upper()}{suffix}") == expected


@relaxed
@given(plain_sources, st.sampled_from(labels._SIGNUP_SOURCE_KEYS))
def test_signup_source_from_a_json_cookie_matches_the_bare_value(value, key):
    assert labels.normalize_signup_source(json.dumps({key: value})) == labels.normalize_signup_source(value)


# ---- pageview normalisation (the tracker, in Chromium) -------------------------------------------

UUID = st.uuids().map(str)
segment = st.one_of(
    UUID, UUID.map(str.upper),
    st.from_regex(r"\A[A-Z][A-Z0-9]{0,4}-[0-9]{1,5}\Z"),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", min_size=0, max_size=12),
)
paths = st.builds(
    lambda parts, query: "/" + "/".join(parts) + query,
    st.lists(segment, max_size=6),
    st.sampled_from(["", "?status=open", "#top", "?a=1#b", "?x=/MUL-1/"]),
)
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_KEY_RE = re.compile(r"^[A-Z][A-Z0-9]*-[0-9]+$")


def reference_pageview_path(path: str) -> str:
    """SPEC §14.4: drop query and fragment, empty segments, and ids or issue keys after the first segment."""
    parts = [p for p in re.split(r"[?#]", path)[0].split("/") if p]
    kept = [p for i, p in enumerate(parts) if i == 0 or not (_UUID_RE.match(p) or _KEY_RE.match(p))]
    return "/" + "/".join(kept)


@pytest.mark.browser
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(paths, min_size=1, max_size=25))
def test_pageview_normalisation_properties(live_server, page, batch):
    if not page.evaluate("() => Boolean(window.multicaAnalytics)"):
        page.goto(live_server.url + "/api/config")
        page.add_script_tag(url=live_server.url + "/static/js/analytics.js")
        page.wait_for_function("() => Boolean(window.multicaAnalytics)")
    once, twice = page.evaluate(
        """(paths) => {
            const n = window.multicaAnalytics.normalizePageviewPath;
            const once = paths.map((p) => n(p));
            return [once, once.map((p) => n(p))];
        }""",
        batch,
    )
    for path, normalised, again in zip(batch, once, twice):
        assert normalised == reference_pageview_path(path)
        assert again == normalised  # idempotent
        assert normalised.startswith("/") and "?" not in normalised and "#" not in normalised
        assert not any(_UUID_RE.match(s) or _KEY_RE.match(s) for s in normalised.split("/")[2:])
