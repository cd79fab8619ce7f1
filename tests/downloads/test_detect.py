"""First-paint detection on the server (SPEC §15.2, D11): the §15.5 vectors, from the headers."""

from __future__ import annotations

import pytest

from multica.analytics.catalog import ARCHES, OSES
from multica.downloads.detect import Detection, detect, from_high_entropy, from_user_agent
from multica.downloads.pages import HEROES, hero_key

SAFARI_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
FIREFOX_LINUX_ARM = "Mozilla/5.0 (X11; Linux aarch64; rv:127.0) Gecko/20100101 Firefox/127.0"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
WINDOWS_ARM = "Mozilla/5.0 (Windows NT 10.0; ARM64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.mark.parametrize(
    ("platform", "architecture", "expected"),
    [
        ("macOS", "arm", ("mac", "arm64", True)),
        ("Windows", "x86", ("windows", "x64", True)),
        ("Linux", "", ("linux", "unknown", False)),
        ("Darwin", "arm64", ("mac", "arm64", True)),
        ("macOS", "x86", ("mac", "x64", True)),
        ("Chrome OS", "arm", ("unknown", "arm64", True)),
        ("Windows", "aarch64", ("windows", "arm64", True)),
        ("Linux", "x86_64", ("linux", "x64", True)),
        ("Linux", "riscv", ("linux", "unknown", False)),
    ],
)
def test_high_entropy_vectors(platform, architecture, expected):
    assert from_high_entropy(platform, architecture) == Detection(*expected)


@pytest.mark.parametrize(
    ("user_agent", "platform", "expected"),
    [
        (SAFARI_MAC, "MacIntel", ("mac", "arm64", False)),
        (SAFARI_MAC, "", ("mac", "arm64", False)),
        (CHROME_WINDOWS, "", ("windows", "x64", False)),
        (CHROME_WINDOWS, "Win32", ("windows", "x64", False)),
        (WINDOWS_ARM, "", ("windows", "arm64", False)),
        ("Mozilla/5.0 (X11; Linux aarch64)", "", ("linux", "arm64", False)),
        (FIREFOX_LINUX, "Linux x86_64", ("linux", "x64", False)),
        ("", "", ("unknown", "unknown", False)),
        ("curl/8.5.0", "", ("unknown", "unknown", False)),
    ],
)
def test_user_agent_vectors(user_agent, platform, expected):
    assert from_user_agent(user_agent, platform) == Detection(*expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((SAFARI_MAC, None, None), ("mac", "arm64", False)),
        ((CHROME_WINDOWS, '"Windows"', None), ("windows", "x64", False)),  # low-entropy hint only: the UA decides arch
        ((CHROME_WINDOWS, '"Windows"', '"arm"'), ("windows", "arm64", True)),
        ((SAFARI_MAC, '"macOS"', '"x86"'), ("mac", "x64", True)),
        ((FIREFOX_LINUX, '"Linux"', '""'), ("linux", "unknown", False)),
        ((None, None, None), ("unknown", "unknown", False)),
    ],
)
def test_detect_prefers_client_hints(headers, expected):
    assert detect(*headers) == Detection(*expected)


def test_detections_use_the_catalog_enumerations():
    with pytest.raises(ValueError):
        Detection("beos", "x64")
    assert {d.os for d in (from_user_agent(SAFARI_MAC), from_user_agent(""))} <= set(OSES)
    assert {d.arch for d in (from_user_agent(SAFARI_MAC), from_user_agent(""))} <= set(ARCHES)


@pytest.mark.parametrize(
    ("detection", "key"),
    [
        (("mac", "arm64", False), "mac"),
        (("mac", "arm64", True), "mac-confident"),
        (("mac", "x64", True), "mac-intel"),
        (("windows", "x64", False), "windows-x64"),
        (("windows", "arm64", True), "windows-arm64"),
        (("windows", "unknown", False), "windows-x64"),
        (("linux", "unknown", False), "linux-x64"),
        (("linux", "arm64", False), "linux-arm64"),
        (("unknown", "unknown", False), "unknown"),
        (("unknown", "arm64", True), "unknown"),
    ],
)
def test_hero_for_each_guess(detection, key):
    assert hero_key(Detection(*detection)) == key
    assert key in HEROES
