"""A small client for the Prometheus HTTP API and the per-day increase of a counter (D16.1).

The increase of a counter between two samples follows PromQL's `increase()`: a value lower than the
one before is a counter reset (a process restarted) and counts from zero. Unlike `increase()`, the
figure is not extrapolated to the window's edges, so a day's count is a whole number that can be
compared exactly with the database.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import httpx

MAX_POINTS = 10_000  # Prometheus refuses a query_range of more than 11 000 points per series


class PrometheusError(Exception):
    """Prometheus could not be queried: unreachable, not a Prometheus, or it refused the query."""


def query_range(base_url: str, query: str, start: float, end: float, step: float, timeout: float = 10.0) -> list[dict]:
    """`GET /api/v1/query_range`: the matrix's series, each `{"metric": {...}, "values": [[t, "v"], ...]}`."""
    url = base_url.rstrip("/") + "/api/v1/query_range"
    try:
        response = httpx.get(url, params={"query": query, "start": start, "end": end, "step": step}, timeout=timeout)
    except httpx.InvalidURL as exc:
        raise PrometheusError(f"invalid Prometheus URL {base_url!r}: {exc}") from exc
    except httpx.UnsupportedProtocol as exc:
        raise PrometheusError(f"invalid Prometheus URL {base_url!r}: use http:// or https://") from exc
    except httpx.HTTPError as exc:
        raise PrometheusError(f"cannot reach Prometheus at {base_url}: {exc}") from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        raise PrometheusError(
            f"{base_url} does not look like a Prometheus server: {url} answered HTTP {response.status_code} without a Prometheus API response"
        )
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus refused the query {query!r}: {body.get('errorType', 'error')}: {body.get('error', '')}")
    data = body.get("data") or {}
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"Prometheus answered a {data.get('resultType')!r} instead of a matrix for {query!r}")
    return data.get("result") or []


def series_increases(values: list) -> list[tuple[float, float]]:
    """(timestamp, increase since the previous sample) for one series; a drop is a reset (PromQL's rule)."""
    increases = []
    previous = None
    for timestamp, raw in values:
        value = float(raw)
        if math.isnan(value):
            continue
        if previous is not None:
            increases.append((float(timestamp), value - previous if value >= previous else value))
        previous = value
    return increases


def _collect(by_series: dict, result: list[dict]) -> None:
    """Append a query's points to each series' list, in time order, without repeating a timestamp."""
    for series in result:
        key = tuple(sorted((series.get("metric") or {}).items()))
        points = by_series.setdefault(key, [])
        for point in series.get("values") or []:
            if not points or float(point[0]) > float(points[-1][0]):
                points.append(point)


def daily_increase(
    base_url: str, selector: str, days: list, step: float, now: datetime | None = None,
) -> dict:
    """{date: increase of every series matching `selector` during that UTC day}, from query_range samples.

    Each day is read at `step` from its first instant (the baseline) to its last, never past `now`;
    the sample at midnight ends one day and starts the next, so no increase is counted twice or lost.
    """
    now = now or datetime.now(timezone.utc)
    totals = {day: 0.0 for day in days}
    for day in days:
        day_start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        day_end = min(day_start + timedelta(days=1), now)
        if day_end <= day_start:
            continue
        start = day_start.timestamp()
        end = day_end.timestamp()
        chunk = step * MAX_POINTS
        by_series: dict[tuple, list] = {}
        cursor = start
        while cursor < end:
            chunk_end = min(cursor + chunk, end)
            _collect(by_series, query_range(base_url, selector, cursor, chunk_end, step))
            cursor = chunk_end
        # The step grid may stop short of `end` (today, or a step that does not divide a day): read
        # the value at `end` itself too, so the last increase is not left out.
        _collect(by_series, query_range(base_url, selector, end, end, step))
        for points in by_series.values():
            totals[day] += sum(amount for _, amount in series_increases(points))
    return totals
