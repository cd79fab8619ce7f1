"""`docs/grafana/multica.json` (D16.4, D19.15): importable JSON whose every panel query names only
metrics that `/metrics` really exposes, and that charts the pinned metrics."""

from __future__ import annotations

import json
import re

from tests.conftest import ROOT

DASHBOARD = ROOT / "docs" / "grafana" / "multica.json"
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    "inf", "nan",
}
IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def every_panel(panels: list[dict]):
    for panel in panels:
        yield panel
        yield from every_panel(panel.get("panels") or [])


def expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in every_panel(dashboard["panels"]):
        for target in panel.get("targets") or []:
            found.append((panel["title"], target["expr"]))
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions, keywords,
    label names (in `{...}` or `by (...)`), strings, durations or Grafana variables."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\$\{?\w+\}?", "", text)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in IDENTIFIER.finditer(text):
        word = match.group(0)
        if word.lower() in KEYWORDS or text[match.end():].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def exposed_names(client) -> set[str]:
    """Every sample name `/metrics` exposes, including families whose labelled series are not born yet
    (their `# TYPE` line is there: a histogram exposes `_bucket`, `_sum` and `_count`)."""
    text = client.get("/metrics").get_data(as_text=True)
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


def test_the_parser_finds_names_and_skips_the_rest():
    assert metric_names('histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="y,z"}[5m])))') == {"a_bucket"}
    assert metric_names("sum(increase(b_total[$__range])) / ignoring(x) c") == {"b_total", "c"}


def test_every_panel_query_names_metrics_that_metrics_exposes(client):
    exposed = exposed_names(client)
    queries = expressions()
    assert len(queries) >= 20
    unknown = {(title, name) for title, expr in queries for name in metric_names(expr) if name not in exposed}
    assert unknown == set()
    assert all(metric_names(expr) for _, expr in queries), "a query names no metric"


def test_the_dashboard_charts_the_pinned_metrics_and_is_importable():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["panels"], list)
    assert [item["name"] for item in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    used = set().union(*(metric_names(expr) for _, expr in expressions()))
    assert {"multica_agent_task_terminal_total", "multica_analytics_events_total", "multica_issue_executed_total"} <= used
    assert any(re.fullmatch(r"multica_agent_task_\w+_seconds_bucket", name) for name in used)
    assert any("histogram_quantile" in expr for _, expr in expressions())
    ids = [panel["id"] for panel in every_panel(dashboard["panels"])]
    assert len(ids) == len(set(ids))
