"""Client address and limit strings for per-IP throttles (SPEC §8.1, D9)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from flask import current_app, request


@lru_cache(maxsize=32)
def _trusted_networks(raw: str) -> tuple:
    networks = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _is_trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip() -> str:
    """The TCP peer, or the right-most untrusted `X-Forwarded-For` hop behind trusted proxies."""
    peer = request.remote_addr or ""
    networks = _trusted_networks(current_app.config.get("RATE_LIMIT_TRUSTED_PROXIES", ""))
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def per_minute(setting: str) -> Callable[[], str]:
    """A Flask-Limiter limit that reads `<setting> per minute` from the app's config at request time."""

    def limit() -> str:
        return f"{current_app.config[setting]} per minute"

    limit.__name__ = f"per_minute_{setting.lower()}"
    return limit
