"""Email address parsing shared by the waitlist and contact-sales forms (SPEC §9.4, §12, D13 (4))."""

from __future__ import annotations

import re
from email.utils import parseaddr

MAX_EMAIL_BYTES = 254
_BARE = re.compile(r"[^\s<>@]+@[^\s<>@]+")
_NAMED = re.compile(r"[^<>]*<\s*([^\s<>@]+@[^\s<>@]+)\s*>")


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
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return None
    return address.lower()
