"""`/admin/funnel` (D16.3): the funnel, the completion paths and the weekly active workspaces as
server-rendered SVG charts, each with a title, a text alternative and a table beneath; no script.

Only signed-in users whose email is in `ADMIN_EMAILS` see it; anyone else gets 404 (not a redirect),
so the page's existence is not revealed.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.exceptions import NotFound

from multica.auth.identity import current_user
from multica.insight import bp
from multica.insight.service import FUNNEL_STEPS, funnel, parse_since

BAR_HEIGHT = 28
BAR_GAP = 10
LABEL_WIDTH = 190
BAR_AREA = 420
LINE_WIDTH = 640
LINE_HEIGHT = 220
LINE_PAD = 40


def admin_emails() -> set[str]:
    raw = current_app.config.get("ADMIN_EMAILS") or ""
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


def require_admin():
    user = current_user()
    if user is None or (user.email or "").lower() not in admin_emails():
        raise NotFound()
    return user


def bars(items: list[dict]) -> dict:
    """Horizontal bars, widest = the largest count; each bar with its count and conversion label."""
    top = max((item["count"] for item in items), default=0) or 1
    rows = []
    for index, item in enumerate(items):
        y = index * (BAR_HEIGHT + BAR_GAP)
        width = round(BAR_AREA * item["count"] / top, 1)
        conversion = item.get("conversion")
        note = f"{item['count']}" + ("" if conversion is None else f" ({conversion * 100:.1f}%)")
        rows.append({**item, "y": y, "width": width, "note": note})
    return {"rows": rows, "height": max(len(items), 1) * (BAR_HEIGHT + BAR_GAP), "label_width": LABEL_WIDTH, "bar_area": BAR_AREA}


def line(series: dict[str, int]) -> dict:
    """A polyline of weekly values with a labelled point per week."""
    weeks = list(series.items())
    top = max((value for _, value in weeks), default=0) or 1
    inner_w, inner_h = LINE_WIDTH - 2 * LINE_PAD, LINE_HEIGHT - 2 * LINE_PAD
    points = []
    for index, (week, value) in enumerate(weeks):
        x = LINE_PAD + (inner_w * index / (len(weeks) - 1) if len(weeks) > 1 else inner_w / 2)
        y = LINE_PAD + inner_h - inner_h * value / top
        points.append({"week": week, "value": value, "x": round(x, 1), "y": round(y, 1)})
    return {
        "points": points, "width": LINE_WIDTH, "height": LINE_HEIGHT, "pad": LINE_PAD, "top": top,
        "path": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


@bp.get("/admin/funnel")
def admin_funnel_page():
    require_admin()
    since_text = request.args.get("since", "30d")
    try:
        since = parse_since(since_text)
    except ValueError:
        since_text = "30d"
        since = parse_since(since_text)
    report = funnel(since)
    funnel_steps = [step for step in report["steps"] if step["name"] in FUNNEL_STEPS]
    expansion = [step for step in report["steps"] if step["name"] not in FUNNEL_STEPS]
    paths = [{"name": name, "label": name, "count": count, "conversion": None} for name, count in report["completion_paths"].items()]
    return render_template(
        "insight/funnel.html",
        report=report, since_text=since_text,
        funnel_chart=bars(funnel_steps), expansion_chart=bars(expansion), paths_chart=bars(paths),
        weekly_chart=line(report["weekly_active_workspaces"]),
    )
