"""`/download` (SPEC §15, D11): the recommended installer, every platform, the CLI, with or without JS.

The server resolves the release (`releases.py`) and guesses the machine (`detect.py`), so the hero
offers the right installer on the first paint; `static/js/download.js` refines the guess with
high-entropy Client Hints, swaps the hero in place when it changes, and sends the page's events.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, make_response, render_template, request

from multica.analytics.catalog import INSTALLER_ARCHES, INSTALLER_FORMATS, INSTALLER_PLATFORMS
from multica.downloads import bp
from multica.downloads.detect import ACCEPT_CH, VARY, Detection, detect_request
from multica.downloads.releases import SLOTS, Release, ReleaseFeed, releases_page_url

EXTENSION_KEY = "releases"


@dataclass(frozen=True)
class Slot:
    """One installer slot as the page shows it, and as `download_initiated` reports it."""

    key: str
    platform: str  # mac | windows | linux
    arch: str  # arm64 | x64 (Linux amd64 is reported as x64)
    format: str  # dmg | zip | exe | appimage | deb | rpm
    label: str


_PLATFORM_LABELS = {"mac": "macOS", "win": "Windows", "linux": "Linux"}
_FORMAT_LABELS = {"dmg": ".dmg", "zip": ".zip", "exe": ".exe", "appimage": "AppImage", "deb": ".deb", "rpm": ".rpm"}


def _slot(key: str) -> Slot:
    os_part, arch, fmt = key.split("-")
    platform = {"win": "windows"}.get(os_part, os_part)
    arch_label = "Apple silicon" if platform == "mac" else ("ARM64" if arch == "arm64" else "x64")
    slot = Slot(
        key,
        platform,
        "x64" if arch == "amd64" else arch,
        fmt,
        f"{_PLATFORM_LABELS[os_part]} ({arch_label}) {_FORMAT_LABELS[fmt]}",
    )
    # What a slot reports is what `download_initiated` accepts.
    assert slot.platform in INSTALLER_PLATFORMS and slot.arch in INSTALLER_ARCHES and slot.format in INSTALLER_FORMATS
    return slot


SLOT_INFO = {key: _slot(key) for key in SLOTS}


@dataclass(frozen=True)
class Hero:
    """The recommended installer for one guess (SPEC §15.3)."""

    key: str
    title: str
    primary: str | None = None  # slot
    alternative: str | None = None  # slot (the Mac zip)
    safari_hint: bool = False
    intel_mac: bool = False
    matrix_jump: bool = False


HEROES = {
    hero.key: hero
    for hero in (
        Hero("unknown", "Choose your platform"),
        Hero("mac", "Multica for macOS", "mac-arm64-dmg", "mac-arm64-zip", safari_hint=True),
        Hero("mac-confident", "Multica for macOS", "mac-arm64-dmg", "mac-arm64-zip"),
        Hero("mac-intel", "Multica for macOS", intel_mac=True),
        Hero("windows-x64", "Multica for Windows", "win-x64-exe"),
        Hero("windows-arm64", "Multica for Windows on ARM", "win-arm64-exe"),
        Hero("linux-x64", "Multica for Linux", "linux-amd64-appimage", matrix_jump=True),
        Hero("linux-arm64", "Multica for Linux on ARM", "linux-arm64-appimage", matrix_jump=True),
    )
}


def hero_key(detection: Detection) -> str:
    """Which hero a guess gets; `static/js/download.js` has the same rules (`heroKey`)."""
    if detection.os == "mac":
        if detection.confident and detection.arch == "x64":
            return "mac-intel"  # the desktop app is Apple-silicon only
        return "mac-confident" if detection.confident else "mac"
    if detection.os in {"windows", "linux"}:
        return f"{detection.os}-{'arm64' if detection.arch == 'arm64' else 'x64'}"
    return "unknown"


def release_feed(app) -> ReleaseFeed:
    """This app's release feed, bound when the blueprint was registered."""
    return app.extensions[EXTENSION_KEY]


@bp.record_once
def _bind_release_feed(state) -> None:
    # One feed (and cache) per app and process; nothing is fetched until the first page view.
    state.app.extensions[EXTENSION_KEY] = ReleaseFeed.from_config(state.app.config)


@bp.get("/download")
def download_page():
    """The download page: hero for the guessed machine, all platforms, releases link, CLI install."""
    release: Release = release_feed(current_app).current()
    detection = detect_request(request.headers)
    key = hero_key(detection)
    html = render_template(
        "download/download.html",
        release=release,
        detection=detection,
        hero=HEROES[key],
        heroes=HEROES,
        slots=SLOT_INFO,
        releases_url=releases_page_url(current_app.config.get("RELEASES_API_URL", "")),
        server_url=request.url_root.rstrip("/"),
    )
    response = make_response(html)
    response.headers["Accept-CH"] = ACCEPT_CH
    response.vary.update(header.strip() for header in VARY.split(","))
    # The page depends on the visitor's machine: no shared cache may hand it to someone else.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
