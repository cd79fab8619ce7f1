"""The browser tracker stays within its size budget (SPEC D7: at most 4 KB gzipped)."""

from __future__ import annotations

import gzip

from tests.conftest import ROOT

TRACKER = ROOT / "static" / "js" / "analytics.js"
BUDGET_BYTES = 4096


def test_tracker_fits_the_gzipped_budget():
    """gzip -9 of static/js/analytics.js is at most 4096 bytes."""
    size = len(gzip.compress(TRACKER.read_bytes(), compresslevel=9))
    assert 0 < size <= BUDGET_BYTES, f"analytics.js is {size} bytes gzipped (budget {BUDGET_BYTES})"
