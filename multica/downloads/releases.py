"""The desktop release behind `/download` (SPEC §15.1, D11, D14.14).

Pure helpers (`choose_release`, `parse_release_assets`, `release_from_feed`) turn the releases list
into a `Release`; `ReleaseFeed` fetches it with httpx and keeps one copy per process for
`RELEASES_CACHE_SECONDS`. Only the very first lookup of a process waits on the feed: later ones are
served from the cached copy while at most one refresh runs in the background
(stale-while-revalidate). Every failure gives the empty release and a warning, never an exception.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson

from multica.config import DEFAULT_RELEASES_API_URL

logger = logging.getLogger("multica.downloads")

DEFAULT_RELEASES_PAGE_URL = "https://github.com/multica-ai/multica/releases"
FRESH_RELEASE_GUARD = timedelta(hours=1)
MAX_FEED_BYTES = 2 * 1024 * 1024  # a releases list of two entries is a few KB; refuse anything absurd

# The ten installer slots, in the order the all-platforms matrix lists them.
SLOTS = (
    "mac-arm64-dmg", "mac-arm64-zip",
    "win-x64-exe", "win-arm64-exe",
    "linux-amd64-appimage", "linux-amd64-deb", "linux-amd64-rpm",
    "linux-arm64-appimage", "linux-arm64-deb", "linux-arm64-rpm",
)
_ASSET_NAME = re.compile(
    r"^multica-desktop-[^-]+-(mac|windows|linux)-([a-z0-9_]+)\.(dmg|zip|exe|appimage|deb|rpm)$", re.IGNORECASE
)
_LINUX_ARCHES = {"amd64": "amd64", "x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64"}


class FeedError(ValueError):
    """The feed answered something that is not a releases list."""


@dataclass(frozen=True)
class Release:
    """What the page needs: the tag, when and where it was published, and its installers by slot."""

    version: str | None = None
    published_at: str | None = None
    html_url: str | None = None
    assets: dict[str, str] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        """A release was found; False is the degraded page."""
        return self.version is not None

    def as_dict(self) -> dict:
        """The §15.1 result shape."""
        return {"version": self.version, "published_at": self.published_at, "html_url": self.html_url, "assets": dict(self.assets)}


EMPTY_RELEASE = Release()


def _web_url(value: Any) -> str | None:
    """`value` when it is an http(s) URL (it ends up in an href), else None."""
    if isinstance(value, str) and urlsplit(value).scheme in {"http", "https"} and urlsplit(value).netloc:
        return value
    return None


def asset_slot(name: str) -> str | None:
    """The slot an asset file name fills under the §15.1 grammar, or None when it fills none."""
    lowered = name.lower()
    if lowered.endswith((".blockmap", ".yml")) or lowered.startswith("checksums"):
        return None
    match = _ASSET_NAME.match(name)
    if not match:
        return None
    os_name, arch, ext = (part.lower() for part in match.groups())
    if os_name == "mac":
        return f"mac-arm64-{ext}" if arch == "arm64" and ext in {"dmg", "zip"} else None
    if os_name == "windows":
        return f"win-{arch}-exe" if arch in {"x64", "arm64"} and ext == "exe" else None
    linux_arch = _LINUX_ARCHES.get(arch)
    return f"linux-{linux_arch}-{ext}" if linux_arch and ext in {"appimage", "deb", "rpm"} else None


def parse_release_assets(assets: Any) -> dict[str, str]:
    """`{slot: browser_download_url}` for the assets that fill one of the ten slots (first one wins)."""
    if not isinstance(assets, list):
        raise FeedError("assets is not a list")
    slots: dict[str, str] = {}
    for asset in assets:
        if not isinstance(asset, dict) or not isinstance(asset.get("name"), str):
            raise FeedError("an asset is not an object with a name")
        slot = asset_slot(asset["name"])
        url = _web_url(asset.get("browser_download_url"))
        if slot and url and slot not in slots:
            slots[slot] = url
    return slots


def _published(release: dict) -> datetime:
    raw = release.get("published_at")
    if not isinstance(raw, str):
        raise FeedError("a stable release has no published_at")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FeedError("published_at is not a timestamp") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def choose_release(releases: Any, now: datetime) -> dict | None:
    """The release to offer: drafts and prereleases dropped; a stable under an hour old yields to the previous one."""
    if not isinstance(releases, list) or not all(isinstance(r, dict) for r in releases):
        raise FeedError("the feed is not a list of releases")
    stable = [r for r in releases if not r.get("draft") and not r.get("prerelease")]
    if not stable:
        return None
    stable.sort(key=_published, reverse=True)
    # A release published minutes ago may still be uploading its installers.
    if len(stable) > 1 and now - _published(stable[0]) < FRESH_RELEASE_GUARD:
        return stable[1]
    return stable[0]


def release_from_feed(payload: Any, now: datetime) -> Release:
    """The `Release` a decoded releases list offers; FeedError when it has the wrong shape."""
    chosen = choose_release(payload, now)
    if chosen is None:
        return EMPTY_RELEASE
    tag = chosen.get("tag_name")
    if not isinstance(tag, str) or not tag.strip():
        raise FeedError("the release has no tag_name")
    return Release(
        version=tag.strip(),
        published_at=_published(chosen).isoformat().replace("+00:00", "Z"),
        html_url=_web_url(chosen.get("html_url")),
        assets=parse_release_assets(chosen.get("assets", [])),
    )


def releases_page_url(api_url: str) -> str:
    """The human page listing every release: derived from a GitHub API URL, else the project's."""
    parts = urlsplit(api_url or "")
    segments = [s for s in parts.path.split("/") if s]
    if parts.netloc == "api.github.com" and len(segments) >= 4 and segments[0] == "repos" and segments[3] == "releases":
        return f"https://github.com/{segments[1]}/{segments[2]}/releases"
    return DEFAULT_RELEASES_PAGE_URL


def _with_page_size(url: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key == "per_page" for key, _ in query):
        query.append(("per_page", "2"))
    return urlunsplit(parts._replace(query=urlencode(query)))


class ReleaseFeed:
    """The releases list of one process: fetched with httpx, cached, refreshed in the background."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        timeout: float = 3.0,
        ttl: float = 300.0,
        retry_after_failure: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.ttl = ttl
        self.retry_after_failure = min(retry_after_failure, ttl)
        self._clock = clock
        self._lock = threading.Condition()
        self._release: Release | None = None
        self._expires_at = 0.0
        self._in_flight = False
        self._http: httpx.Client | None = None
        self._http_pid = 0

    @classmethod
    def from_config(cls, config) -> "ReleaseFeed":
        """A feed configured by `RELEASES_API_URL`, `GITHUB_TOKEN`, `RELEASES_TIMEOUT`, `RELEASES_CACHE_SECONDS`."""
        return cls(
            config.get("RELEASES_API_URL") or DEFAULT_RELEASES_API_URL,
            token=config.get("GITHUB_TOKEN", ""),
            timeout=float(config.get("RELEASES_TIMEOUT", 3.0)),
            ttl=float(config.get("RELEASES_CACHE_SECONDS", 300.0)),
        )

    def current(self) -> Release:
        """The release to show now; waits on the feed only when this process has never fetched it."""
        with self._lock:
            while self._release is None and self._in_flight:
                self._lock.wait()  # the first fetch of the process: everyone waits for that one
            if self._release is not None:
                if self._clock() >= self._expires_at and not self._in_flight:
                    self._in_flight = True
                    threading.Thread(target=self._refresh, name="release-feed-refresh", daemon=True).start()
                return self._release
            self._in_flight = True
        return self._refresh()

    def _refresh(self) -> Release:
        """Fetch once, store the outcome, wake the waiters; a failed refresh keeps a good copy."""
        release = None
        try:
            release = self.fetch()
        finally:
            # Even when interrupted, the waiters are woken and the next request may fetch again.
            stored = self._store(release)
        return stored

    def _store(self, release: Release | None) -> Release:
        with self._lock:
            if release is None:
                if self._release is None or not self._release.available:
                    self._release = EMPTY_RELEASE
                self._expires_at = self._clock() + self.retry_after_failure
            else:
                self._release = release
                self._expires_at = self._clock() + self.ttl
            self._in_flight = False
            self._lock.notify_all()
            return self._release

    def fetch(self) -> Release | None:
        """One request to the feed: the release it offers, or None (and a warning) on any failure."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            with self._client().stream("GET", _with_page_size(self.url), headers=headers) as response:
                if not response.is_success:
                    raise FeedError(f"the feed answered {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_FEED_BYTES:
                        raise FeedError("the feed answered more than 2 MiB")
            return release_from_feed(orjson.loads(bytes(body)), datetime.now(timezone.utc))
        except (httpx.HTTPError, FeedError, orjson.JSONDecodeError) as exc:
            logger.warning("downloads: release lookup failed, serving the page without a version: %s", _reason(exc))
        except Exception:  # noqa: BLE001 - the download page must render whatever the feed does
            logger.exception("downloads: release lookup failed unexpectedly")
        return None

    def _client(self) -> httpx.Client:
        # One client per process, made on first use (never before gunicorn forks).
        if self._http is None or self._http_pid != os.getpid():
            self._http = httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=True)
            self._http_pid = os.getpid()
        return self._http


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, orjson.JSONDecodeError):
        return "the feed answered invalid JSON"
    return str(exc) or type(exc).__name__
