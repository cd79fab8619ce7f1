"""Which installer to offer on the first paint: OS and architecture from the request (SPEC §15.2, D11).

The same rules as the page script (`static/js/download.js`): Client Hints when the browser sends the
architecture hint (the high-entropy path, `confident` when it names a known architecture), else the
User-Agent with the platform hint standing in for `navigator.platform` (never `confident`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from multica.analytics.catalog import ARCHES, OSES

ACCEPT_CH = "Sec-CH-UA-Platform, Sec-CH-UA-Arch"
VARY = "Sec-CH-UA-Platform, Sec-CH-UA-Arch, User-Agent"
UNKNOWN = "unknown"
_MAC_PLATFORM = re.compile(r"Mac|iPhone|iPad|iPod", re.IGNORECASE)


@dataclass(frozen=True)
class Detection:
    """A guess at the visitor's machine: `os` in OSES, `arch` in ARCHES."""

    os: str = UNKNOWN
    arch: str = UNKNOWN
    confident: bool = False

    def __post_init__(self) -> None:
        # The values are event properties (`detected_os`, `detected_arch`): the catalog's enumerations.
        if self.os not in OSES or self.arch not in ARCHES:
            raise ValueError(f"not a detection: {self.os}/{self.arch}")


def _hint(value: str | None) -> str | None:
    """A structured-header string hint (`"macOS"`) unquoted; None when the header is absent."""
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value


def os_from_platform(platform: str) -> str:
    """The OS named by a high-entropy `platform` value (`macOS`, `Windows`, `Linux`, …)."""
    lowered = platform.strip().lower()
    if "mac" in lowered or lowered == "darwin":
        return "mac"
    if "win" in lowered:
        return "windows"
    if "linux" in lowered:
        return "linux"
    return UNKNOWN


def arch_from_architecture(architecture: str) -> str:
    """The architecture named by a high-entropy `architecture` value (`arm`, `x86`, …)."""
    lowered = architecture.strip().lower()
    if lowered in {"arm", "arm64", "aarch64"}:
        return "arm64"
    if lowered in {"x86", "x86_64", "amd64", "x64"}:
        return "x64"
    return UNKNOWN


def from_high_entropy(platform: str, architecture: str) -> Detection:
    """§15.2 step 2: confident exactly when the architecture is known."""
    arch = arch_from_architecture(architecture)
    return Detection(os_from_platform(platform), arch, arch != UNKNOWN)


def from_user_agent(user_agent: str, platform: str = "") -> Detection:
    """§15.2 step 3, the fallback: never confident; a Mac is assumed Apple silicon (Safari always says Intel)."""
    user_agent = user_agent or ""
    if _MAC_PLATFORM.search(platform) or "mac os x" in user_agent.lower():
        return Detection("mac", "arm64")
    if re.search("win", platform, re.IGNORECASE) or "windows" in user_agent.lower():
        os_name = "windows"
    elif re.search("linux", platform, re.IGNORECASE) or "linux" in user_agent.lower():
        os_name = "linux"
    else:
        os_name = UNKNOWN
    if re.search("arm|aarch", user_agent, re.IGNORECASE):
        arch = "arm64"
    else:
        arch = "x64" if os_name != UNKNOWN else UNKNOWN
    return Detection(os_name, arch)


def detect(user_agent: str | None, platform_hint: str | None = None, arch_hint: str | None = None) -> Detection:
    """The server's first-paint guess from the User-Agent and the `Sec-CH-UA-Platform`/`-Arch` headers."""
    platform = _hint(platform_hint)
    arch = _hint(arch_hint)
    if arch is not None and platform:
        return from_high_entropy(platform, arch)
    return from_user_agent(user_agent or "", platform or "")


def detect_request(headers) -> Detection:
    """`detect` on a request's headers."""
    return detect(headers.get("User-Agent"), headers.get("Sec-CH-UA-Platform"), headers.get("Sec-CH-UA-Arch"))

