"""Email address parsing shared by the waitlist and contact-sales forms (SPEC §9.4, §12, D13 (4))."""

from __future__ import annotations

from email import policy
from email.errors import HeaderParseError

MAX_EMAIL_BYTES = 254
# Longer input is refused before parsing: no address plus display name needs more.
MAX_EMAIL_INPUT_BYTES = 1024


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
    """The lowercased addr-spec of one RFC 5322 address (`local@domain`, `Name <local@domain>`,
    `<local@domain>`), or None when the text is not exactly one well-formed address.

    The standard library's header parser does the parsing: a list, a group, an address the
    parser had to repair (it records a defect), or one without a local part or a domain is
    refused, and so is a domain without a dot (`has_dotted_domain`). Control characters are
    refused first, so no line break can smuggle in a header.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text.encode("utf-8", "surrogatepass")) > MAX_EMAIL_INPUT_BYTES:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        return None
    try:
        header = policy.strict.header_factory("To", text)
        groups, defects = header.groups, header.defects
    except (HeaderParseError, IndexError, ValueError):  # the parser raises on some malformed tails (`ada@`)
        return None
    if defects or len(groups) != 1 or groups[0].display_name is not None or len(groups[0].addresses) != 1:
        return None
    address = groups[0].addresses[0]
    if not address.username or not address.domain:
        return None
    canonical = address.addr_spec.strip().lower()
    if not has_dotted_domain(canonical):
        return None
    return canonical
