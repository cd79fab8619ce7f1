"""The pure contact-sales helpers: address parsing, the free-mail check, the stored user agent (SPEC §12.1)."""

from __future__ import annotations

import pytest

from multica.analytics.catalog import COMPANY_SIZES, CONTACT_SALES_FORM_SOURCES, SALES_USE_CASES
from multica.emails import canonical_email
from multica.metrics.labels import CONTACT_SALES_SOURCES, normalize_contact_sales_source
from multica.sales.service import FIELDS, FREE_MAIL_DOMAINS, check_inquiry, cut_user_agent, is_business_email, submitter_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada@multica.ai", True),
        ("ada@example.com", True),
        ("ada@gmail.com", False),
        ("ada@Gmail.COM", False),
        ("ada@yahoo.co.uk", False),
        ("ada@qq.com", False),
        ("weird-no-at", False),
        ("ada@", False),
        ("Ada Lovelace <ada@gmail.com>", False),
        ("ada@mail.gmail.com", True),  # exact domains only
    ],
)
def test_business_domain_table(raw, expected):
    assert is_business_email(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada@multica.ai", "ada@multica.ai"),
        ("Ada@Multica.AI", "ada@multica.ai"),
        ("  ada@multica.ai  ", "ada@multica.ai"),
        ("Ada Lovelace <ada@multica.ai>", "ada@multica.ai"),
        ('"Lovelace, Ada" <ada@multica.ai>', "ada@multica.ai"),
        ("<ada@multica.ai>", "ada@multica.ai"),
        ("", None),
        ("   ", None),
        ("no-at-sign", None),
        ("@multica.ai", None),
        ("ada@", None),
        ("ada@multica.ai, bob@multica.ai", None),
        ("team: ada@multica.ai;", None),
        ("Ada <ada@multica.ai> trailing", None),
        ("<ada@multica.ai", None),
        ("ada@@multica.ai", None),
        ("ada@multica.ai\nBcc: eve@example.com", None),
        (None, None),
        (42, None),
    ],
)
def test_canonicalisation_table(raw, expected):
    assert canonical_email(raw) == expected


def test_the_free_mail_list_is_the_spec_list():
    assert len(FREE_MAIL_DOMAINS) == 28
    assert {"gmail.com", "proton.me", "pm.me", "163.com", "foxmail.com", "yahoo.co.jp"} <= FREE_MAIL_DOMAINS


def test_enumerations_are_declared_once():
    assert COMPANY_SIZES == ("1-10", "11-50", "51-200", "201-500", "501-1000", "1000+")
    assert SALES_USE_CASES == ("evaluate", "adopt_team", "self_host", "integrate", "partner", "other")
    assert CONTACT_SALES_SOURCES is CONTACT_SALES_FORM_SOURCES
    assert normalize_contact_sales_source("homepage_modal") == "other"


def test_every_failing_field_is_reported_in_rule_order():
    inquiry, errors = check_inquiry({"business_email": "ada@gmail.com", "goals": "x" * 2001, "consent_updates": "yes"})
    assert inquiry is None
    assert list(errors) == [
        "first_name", "last_name", "company_name", "business_email", "company_size", "country_region", "use_case",
        "goals", "consent_updates",
    ]
    assert errors["business_email"] == "please use a business email address"
    assert list(errors) == [field for field in FIELDS if field in errors]


@pytest.mark.parametrize(("peer", "stored"), [("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("", None), (None, None), ("not-an-ip", None)])
def test_submitter_address(peer, stored):
    assert submitter_address(peer) == stored


def test_user_agent_cut_never_splits_a_character():
    assert cut_user_agent("é" * 300) == "é" * 256
    assert cut_user_agent("x" * 511 + "é") == "x" * 511
    assert cut_user_agent(None) == ""
    # UTF-8 bytes that WSGI decoded as Latin-1 are read back as UTF-8.
    assert cut_user_agent("Agent/1 é".encode("utf-8").decode("latin-1")) == "Agent/1 é"
