"""Contact-sales rules, testable without HTTP: the eleven checks of SPEC §12 in order, the free-mail
list, the hourly per-email limit and the stored inquiry (D9).

`check_inquiry` runs every rule and reports each failing field's first error in rule order, so the
API answers the first one and the page can show each next to its field. `submit_inquiry` applies
rule 11 and stores the row under a lock on the email, then emits `contact_sales_submitted`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from multica.analytics import events
from multica.analytics.catalog import COMPANY_SIZES, SALES_USE_CASES
from multica.analytics.record import record_event
from multica.db_utils import advisory_lock, utcnow
from multica.emails import MAX_EMAIL_BYTES, canonical_email
from multica.errors import ApiError
from multica.extensions import db
from multica.inputs import bool_field, text_field
from multica.sales.models import ContactSalesInquiry

MAX_BODY_BYTES = 16 * 1024
MAX_NAME_BYTES = 80
MAX_COMPANY_BYTES = 200
MAX_COUNTRY_BYTES = 80
MAX_GOALS_BYTES = 2000
MAX_SOURCE_BYTES = 80
MAX_USER_AGENT_BYTES = 512
RECENT_WINDOW = timedelta(hours=1)
MAX_RECENT_PER_EMAIL = 3
TOO_MANY_RECENT = "too many recent inquiries from this email"
BUSINESS_EMAIL_REQUIRED = "please use a business email address"

# Exact domains, compared lowercased (SPEC §12).
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "yahoo.co.uk", "yahoo.co.jp", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "protonmail.com", "proton.me", "pm.me", "gmx.com", "gmx.de", "mail.com", "zoho.com", "yandex.com",
    "yandex.ru", "qq.com", "163.com", "126.com", "sina.com", "foxmail.com",
})


class InquiryError(ApiError):
    """A refused inquiry: the SPEC's status and message, and the form field it is about."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(status, message)
        self.field = field


@dataclass(frozen=True)
class Inquiry:
    """A validated submission: trimmed values and the canonical business email."""

    first_name: str
    last_name: str
    company_name: str
    business_email: str
    company_size: str
    country_region: str
    use_case: str
    goals: str
    source: str
    consent_outreach: bool
    consent_updates: bool


def email_domain_of(email: str) -> str:
    """The text after the last `@` of a canonical email."""
    return email.rpartition("@")[2]


def is_business_email(raw: object) -> bool:
    """The input parses as one address whose domain is not a free-mail provider."""
    email = canonical_email(raw)
    return email is not None and email_domain_of(email) not in FREE_MAIL_DOMAINS


def _text(body: dict, key: str, max_bytes: int, *, required: bool = True, multiline: bool = False) -> str:
    try:
        return text_field(body, key, max_bytes, required=required, multiline=multiline, invalid=f"{key} is invalid")
    except ApiError as error:
        raise InquiryError(key, error.message) from None


def _business_email(body: dict) -> str:
    """Rules 4–6: one RFC 5322 address, at most 254 bytes once canonical, not free mail."""
    email = canonical_email(body.get("business_email"))
    if email is None:
        raise InquiryError("business_email", "business_email is invalid")
    if len(email.encode("utf-8")) > MAX_EMAIL_BYTES:
        raise InquiryError("business_email", "business_email is too long")
    if email_domain_of(email) in FREE_MAIL_DOMAINS:
        raise InquiryError("business_email", BUSINESS_EMAIL_REQUIRED)
    return email


def _choice(body: dict, key: str, allowed: tuple[str, ...]) -> str:
    value = body.get(key)
    value = value.strip() if isinstance(value, str) else None
    if value not in allowed:
        raise InquiryError(key, f"{key} is invalid")
    return value


def _flag(body: dict, key: str) -> bool:
    try:
        return bool_field(body, key, invalid=f"{key} is invalid")
    except ApiError as error:
        raise InquiryError(key, error.message) from None


# The eleven rules of SPEC §12 are these ten (rule 11 needs the database), in order, then the
# fields the table leaves unchecked: a wrong type there is still a 400 before anything is stored.
_RULES = (
    ("first_name", lambda body: _text(body, "first_name", MAX_NAME_BYTES)),
    ("last_name", lambda body: _text(body, "last_name", MAX_NAME_BYTES)),
    ("company_name", lambda body: _text(body, "company_name", MAX_COMPANY_BYTES)),
    ("business_email", _business_email),
    ("company_size", lambda body: _choice(body, "company_size", COMPANY_SIZES)),
    ("country_region", lambda body: _text(body, "country_region", MAX_COUNTRY_BYTES)),
    ("use_case", lambda body: _choice(body, "use_case", SALES_USE_CASES)),
    ("goals", lambda body: _text(body, "goals", MAX_GOALS_BYTES, required=False, multiline=True)),
    ("source", lambda body: _text(body, "source", MAX_SOURCE_BYTES, required=False) or "page"),
    ("consent_outreach", lambda body: _flag(body, "consent_outreach")),
    ("consent_updates", lambda body: _flag(body, "consent_updates")),
)
FIELDS = tuple(field for field, _ in _RULES)


def check_inquiry(body: dict) -> tuple[Inquiry | None, dict[str, str]]:
    """Run every rule: `(inquiry, {})` when all pass, else `(None, {field: message})` in rule order."""
    values: dict = {}
    errors: dict[str, str] = {}
    for field, rule in _RULES:
        try:
            values[field] = rule(body)
        except InquiryError as error:
            errors[field] = error.message
    if errors:
        return None, errors
    return Inquiry(**values), {}


def read_inquiry(body: dict) -> Inquiry:
    """The validated inquiry, or the first rule's InquiryError (400)."""
    inquiry, errors = check_inquiry(body)
    if inquiry is None:
        field, message = next(iter(errors.items()))
        raise InquiryError(field, message)
    return inquiry


def submitter_address(peer: str | None) -> str | None:
    """The TCP peer as a canonical IP address string, or None when it is not one."""
    try:
        return str(ipaddress.ip_address((peer or "").strip()))
    except ValueError:
        return None


def cut_user_agent(user_agent: str | None) -> str:
    """The first 512 UTF-8 bytes of the User-Agent (never half a character, no control characters)."""
    text = user_agent or ""
    try:
        # WSGI hands header bytes over as Latin-1; a client that sent UTF-8 gets its text back.
        text = text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    text = "".join(char for char in text if ord(char) >= 0x20 and ord(char) != 0x7F)
    return text.encode("utf-8", "ignore")[:MAX_USER_AGENT_BYTES].decode("utf-8", "ignore")


def submit_inquiry(inquiry: Inquiry, *, submitter_ip: str | None, user_agent: str | None) -> ContactSalesInquiry:
    """Rule 11, then store the inquiry and emit `contact_sales_submitted` after the commit.

    Counting and inserting happen under a lock on the email (PostgreSQL advisory lock, SQLite
    write lock), so concurrent submissions from one address never store more than three an hour.
    """
    now = utcnow()
    try:
        advisory_lock(db.session, f"contact_sales_inquiry:{inquiry.business_email}")
        recent = db.session.scalar(
            sa.select(sa.func.count()).select_from(ContactSalesInquiry).where(
                ContactSalesInquiry.business_email == inquiry.business_email,
                ContactSalesInquiry.created_at > now - RECENT_WINDOW,
            )
        )
        if recent >= MAX_RECENT_PER_EMAIL:
            raise InquiryError("business_email", TOO_MANY_RECENT, 429)
        row = ContactSalesInquiry(
            first_name=inquiry.first_name,
            last_name=inquiry.last_name,
            business_email=inquiry.business_email,
            company_name=inquiry.company_name,
            company_size=inquiry.company_size,
            country_region=inquiry.country_region,
            use_case=inquiry.use_case,
            goals=inquiry.goals,
            source=inquiry.source,
            consent_outreach=inquiry.consent_outreach,
            consent_updates=inquiry.consent_updates,
            submitter_ip=submitter_address(submitter_ip),
            user_agent=cut_user_agent(user_agent),
            created_at=now,
        )
        db.session.add(row)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    record_event(events.contact_sales_submitted(
        str(row.id),
        company_size=row.company_size,
        country_region=row.country_region,
        use_case=row.use_case,
        goals=row.goals,
        form_source=row.source,
    ))
    return row
