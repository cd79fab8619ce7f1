"""Email address parsing shared by the waitlist and contact-sales forms (SPEC §9.4, §12, D13 (4))."""

from __future__ import annotations

import re
from email.utils import parseaddr

MAX_EMAIL_BYTES = 254
_BARE = re.compile(r"[^\s<>@]+@[^\s<>@]+")
_NAMED = re.compile(r"[^<>]*<\s*([^\s<>@]+@[^\s<>@]+)\s*>")


def has_dotted_domain(address: str) -> bool:
    """`local@domain` whose domain has a dot between non-empty labels (`walk2@example` does not).

    The one plausibility rule every form applies: sign-in, the cloud waitlist, contact sales, and
    the browser's check (`something@something.something`, §9.5).
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or "@" in local:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(labels)


def canonical_email(raw: object) -> str | None:
    """The lowercased addr-spec of `local@domain` or `Name <local@domain>`, or None when it is neither."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    if _BARE.fullmatch(text):
        address = text
    else:
        named = _NAMED.fullmatch(text)
        if not named:
            return None
        _, address = parseaddr(text)
        if address != named.group(1):
            return None
    if not has_dotted_domain(address):
        return None
    return address.lower()
