"""Where a person lands after signing in (SPEC §8.9).

Authentication decides only whether a `next` path is safe. Where everyone else goes is product
navigation: the product registers it with `set_post_auth_destination(app, fn)`, and auth asks it
through `destination_after_sign_in`, never importing a product package.
"""

from __future__ import annotations

from typing import Callable

from flask import Flask, current_app

from multica.auth.models import User

_HOOK = "post_auth_destination"


def safe_next(value: object) -> str | None:
    """`value` when it is a same-site path: starts with `/`, not `//`, no backslash or control characters."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    return value


def set_post_auth_destination(app: Flask, destination: Callable[[User], str]) -> None:
    """Register the product's answer to "where does this signed-in user go?" (no safe `next` given)."""
    app.extensions[_HOOK] = destination


def destination_after_sign_in(user: User, next_value: object = None) -> str:
    """A safe `next` wins; else the product's destination for the user (the landing page without one)."""
    target = safe_next(next_value)
    if target:
        return target
    destination = current_app.extensions.get(_HOOK)
    return destination(user) if destination else "/"
