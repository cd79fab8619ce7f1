"""Renders `docs/analytics.md` from the catalog, so the documentation cannot drift (D6)."""

from __future__ import annotations

from multica.analytics.catalog import CATALOG, GLOBAL_FORBIDDEN, EventSpec, Prop

_CATEGORY_ORDER = ("acquisition", "expansion", "onboarding_support", "core_loop", "ops_feedback", "system/noise", "operational")


def _prop_row(prop: Prop, required: bool) -> str:
    kind = prop.type + (f" ≤ {prop.max_length} B" if prop.max_length else "")
    allowed = ", ".join(f"`{v}`" if v != "" else '`""`' for v in prop.allowed) if prop.allowed else ""
    return f"| `{prop.name}` | {kind} | {'yes' if required else 'no'} | {allowed} | {prop.description} |"


def _event_section(spec: EventSpec) -> list[str]:
    lines = [f"### `{spec.name}`", "", spec.description, ""]
    sink = "Prometheus only (never PostHog)" if spec.sink == "prometheus" else "PostHog"
    lines += [
        f"- **Category**: `{spec.category}`",
        f"- **Sink**: {sink}",
        f"- **Emitter**: {spec.emitter}",
        f"- **Fires**: {spec.trigger}",
        f"- **distinct_id**: {spec.distinct_id}",
        f"- **workspace_id**: {spec.workspace}",
    ]
    if spec.metric:
        labels = ", ".join(
            f"`{label.name}`" + (f" = `{label.value}`" if label.value else f" ← `{label.prop}` ({label.normalizer})")
            for label in spec.metric.labels
        ) or "none"
        lines.append(f"- **Prometheus**: `{spec.metric.name}` — labels: {labels}")
    if spec.set_keys:
        lines.append("- **$set**: " + ", ".join(f"`{k}`" for k in spec.set_keys))
    if spec.set_once_keys:
        lines.append("- **$set_once**: " + ", ".join(f"`{k}`" for k in spec.set_once_keys))
    if spec.forbidden:
        lines.append("- **Forbidden** (besides the global list): " + ", ".join(f"`{k}`" for k in spec.forbidden))
    if spec.required or spec.optional:
        lines += ["", "| Property | Type | Required | Allowed values | Meaning |", "|---|---|---|---|---|"]
        lines += [_prop_row(p, True) for p in spec.required]
        lines += [_prop_row(p, False) for p in spec.optional]
    lines.append("")
    return lines


def render() -> str:
    """The whole document, deterministic for a given catalog."""
    lines = [
        "# Analytics event catalog",
        "",
        "Generated from `multica/analytics/catalog.py` by `flask --app app analytics docs`; do not edit by hand.",
        "Event and property names are a public contract: change the contract document first, then the catalog,",
        "then regenerate this file. A test fails when the two drift.",
        "",
        "Every shipped server event is stamped with `event_schema_version` (2), `environment`, `is_demo`",
        "(false unless set), `user_id` (human distinct ids only) and `workspace_id` when the event has one.",
        "",
        "**Never in any event's properties**: " + ", ".join(f"`{k}`" for k in GLOBAL_FORBIDDEN)
        + ", nor any value shaped like an email address (the one exception is `$set_once.email` on `signup`).",
        "",
        "## Delivery guarantees",
        "",
        "- `capture()` never blocks and never raises; it never touches the disk or the network on the caller's thread.",
        "- Without a spool (`POSTHOG_SPOOL_DIR` unset), delivery is **at most once**: an event is lost when the queue",
        "  (`POSTHOG_QUEUE_SIZE`) is full, when its batch still fails after the retries, or when it is still queued",
        "  once `close()` has used its `POSTHOG_SHUTDOWN_TIMEOUT`; each loss is counted (`dropped`, `failed`).",
        "- With a spool, those events are written to segment files (one fsync per write) and replayed in the",
        "  background once PostHog answers again and when a process starts, with their original `uuid` and",
        "  `timestamp`: delivery from the spool is **at least once**, and PostHog de-duplicates on `uuid`. A replayed",
        "  batch is recorded as acknowledged right after its 2xx, so a resend happens only if a process dies",
        "  between the two; a segment is deleted only once every batch in it was acknowledged, and processes",
        "  sharing the directory never replay one segment at the same time (a file lock).",
        "- What the spool cannot protect: the events still in memory when a process is killed — the batch being",
        "  sent and what was queued since the spool's last write, normally at most the queue and one batch (more",
        "  only while callers outpace the disk) — and what the spool drops past `POSTHOG_SPOOL_MAX_MB` (the oldest",
        "  segment first) or cannot write (an unusable directory, a full disk); the latter is counted.",
        "- Outcomes, counted per event in `multica_analytics_events_total{outcome}`: `sent`, `retried`, `dropped`,",
        "  `failed`, `spooled`, `replayed`, `spool_dropped`; `multica_analytics_spool_bytes` is the spool's size and",
        "  the `analytics: posthog client closed` log line names every outcome.",
        "",
        "## Summary",
        "",
        "| Event | Category | Sink | Emitter | Prometheus counter |",
        "|---|---|---|---|---|",
    ]
    ordered = sorted(CATALOG.values(), key=lambda s: (_CATEGORY_ORDER.index(s.category), s.name))
    for spec in ordered:
        counter = f"`{spec.metric.name}`" if spec.metric else ("typed task metrics" if spec.typed_metrics_only else "—")
        lines.append(f"| `{spec.name}` | {spec.category} | {spec.sink} | {spec.emitter} | {counter} |")
    lines.append("")
    for category in _CATEGORY_ORDER:
        specs = [s for s in ordered if s.category == category]
        if not specs:
            continue
        lines += [f"## {category}", ""]
        for spec in specs:
            lines += _event_section(spec)
    return "\n".join(lines).rstrip() + "\n"
