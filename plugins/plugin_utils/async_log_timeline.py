# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Draw the events of one async_log run as a self-contained HTML page (inline SVG, inline CSS,
no scripts, no fonts or images to fetch).

One row per host. In a row: a segment per task and handler (coloured by status, numbered after the
task list under the chart), async jobs as thinner bars with a tick mark per poll, the lanes of a
fan-out block side by side in sub-rows, jobs that run in the background (``poll: 0``) in sub-rows
of their own, and markers where handlers were queued, triggered or not run. Every segment and marker
has a tooltip with the details. Only names, statuses and times are drawn: no task results.
"""

from __future__ import annotations

import datetime
import html

LABEL_WIDTH = 150
CHART_WIDTH = 1300
SUB_ROW = 15
ROW_GAP = 5
AXIS_HEIGHT = 34
STATUS_COLOURS = {
    "ok": "#4caf50",
    "changed": "#f0a020",
    "failed": "#e53935",
    "skipped": "#b0b0b0",
    "unreachable": "#8e24aa",
    "ignored": "#ff8a80",
    "running": "#90caf9",
}
JOB_COLOURS = {"ok": "#00695c", "failed": "#b71c1c", "timed_out": "#6a1b9a", "killed": "#3e2723", "unfinished": "#546e7a",
               "running": "#546e7a"}
HANDLER_STROKE = "#1565c0"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:18px;margin:0 0 4px}
.meta{font-size:12px;color:#555;margin-bottom:8px}
.legend{font-size:12px;margin:6px 0 10px}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle;border-radius:2px}
svg text{font-size:11px}
svg .host{font-size:11px;fill:#222}
svg .axis{font-size:10px;fill:#666}
svg .num{font-size:9px;fill:#000}
table{border-collapse:collapse;font-size:12px;margin-top:14px}
td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left}
th{background:#f5f5f5}
"""


def _parse_ts(value: str) -> float:
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


class _Bar:
    __slots__ = ("kind", "start", "end", "status", "title", "number", "lane", "ticks", "background", "handler", "ran_until")

    def __init__(self, kind, start, end, status, title, number=None, lane=None, background=False, handler=False):
        self.kind = kind
        self.start = start
        self.end = end
        self.status = status
        self.title = title
        self.number = number
        self.lane = lane
        self.ticks: list[float] = []
        self.background = background
        self.handler = handler
        self.ran_until = None  # a job that was collected after it ended: when it really ended


def _collect(events: list[dict]):
    """Bars and markers per host, and the numbered list of tasks."""
    hosts: list[str] = []
    bars: dict[str, list[_Bar]] = {}
    markers: dict[str, list[tuple[float, str, str]]] = {}
    tasks: dict[str, tuple[int, str, str]] = {}
    open_bars: dict[tuple, _Bar] = {}
    jobs: dict[str, _Bar] = {}
    plays: list[tuple[float, str]] = []

    def host_list(host):
        if host not in bars:
            hosts.append(host)
            bars[host] = []
            markers[host] = []
        return bars[host]

    def number_of(task):
        uuid = (task or {}).get("uuid") or (task or {}).get("name")
        if uuid not in tasks:
            tasks[uuid] = (len(tasks) + 1, (task or {}).get("name") or "", (task or {}).get("action") or "")
        return tasks[uuid][0]

    for event in events:
        kind = event.get("event")
        ts = _parse_ts(event["ts"])
        host = event.get("host")
        task = event.get("task") or {}
        if kind == "play.start":
            plays.append((ts, "%s%s" % ((event.get("play") or {}).get("name") or "play",
                                        " (batch %s)" % event["batch"] if event.get("batch", 1) > 1 else "")))
            continue
        if host is None:
            continue
        row = host_list(host)
        key = (host, task.get("uuid"))
        if kind in ("task.start", "handler.start"):
            handler = kind == "handler.start"
            title = "%s%s" % ("handler: " if handler else "", task.get("name"))
            if handler and event.get("forced"):
                title += " (forced)"
            segment = _Bar("task", ts, None, "running", title, number_of(task), event.get("lane"), handler=handler)
            open_bars[key] = segment
            row.append(segment)
        elif kind in ("task.end", "handler.end"):
            segment = open_bars.pop(key, None)
            if segment is None:
                segment = _Bar("task", ts, None, "running", task.get("name"), number_of(task), event.get("lane"),
                               handler=kind == "handler.end")
                row.append(segment)
            segment.end = ts
            segment.status = event.get("status") or "ok"
            segment.title += " [%s, %ss]" % (segment.status, event.get("duration"))
        elif kind == "job.start":
            start = ts - float(event.get("launched_ago") or 0)
            background = not event.get("poll")
            segment = _Bar("job", start, None, "running", "job %s: %s (async %s, poll %s)" % (
                event.get("jid"), task.get("name"), event.get("async_limit"), event.get("poll")),
                lane=event.get("lane"), background=background)
            jobs[str(event.get("jid"))] = segment
            row.append(segment)
        elif kind == "job.poll":
            segment = jobs.get(str(event.get("jid")))
            if segment is not None:
                segment.ticks.append(segment.start + float(event.get("elapsed") or 0))
        elif kind == "job.end":
            segment = jobs.get(str(event.get("jid")))
            if segment is not None:
                segment.end = max(segment.start, segment.start + float(event.get("elapsed") or 0)) if event.get("elapsed") is not None else ts
                segment.status = event.get("status") or "ok"
                segment.title += " [%s after %ss, %s ticks]" % (segment.status, event.get("elapsed"), event.get("ticks"))
                runtime = event.get("runtime")
                if runtime is not None and segment.start + float(runtime) < segment.end - 0.05:
                    segment.ran_until = segment.start + float(runtime)
                    segment.title += " (ran %ss, then waited to be collected)" % runtime
        elif kind in ("handler.queued", "handler.triggered", "handler.not_run"):
            name = (event.get("handler") or {}).get("name") or event.get("notification") or ""
            detail = {"handler.queued": "queued by %s" % task.get("name"),
                      "handler.triggered": "triggered",
                      "handler.not_run": "not run: %s" % event.get("reason")}[kind]
            markers[host].append((ts, kind, "handler %s %s" % (name, detail)))
    return hosts, bars, markers, tasks, plays


def _layout(bars: list[_Bar]) -> tuple[dict[int, int], int]:
    """Sub-row index per segment: 0 for plain tasks (and poll > 0 jobs, drawn inside their task),
    one per fan-out lane, then as many as background jobs need side by side."""
    rows: dict[int, int] = {}
    lanes: dict[object, int] = {}
    for segment in bars:
        if segment.lane is not None and segment.lane not in lanes:
            lanes[segment.lane] = len(lanes) + 1
    base = 1 + len(lanes)
    background_ends: list[float] = []
    for index, segment in enumerate(bars):
        if segment.kind == "job" and segment.background:
            end = segment.end if segment.end is not None else float("inf")
            for slot, slot_end in enumerate(background_ends):
                if slot_end <= segment.start:
                    background_ends[slot] = end
                    rows[index] = base + slot
                    break
            else:
                background_ends.append(end)
                rows[index] = base + len(background_ends) - 1
        else:
            rows[index] = lanes.get(segment.lane, 0)
    return rows, base + len(background_ends)


def render(events: list[dict], title: str = "async_log timeline") -> str:
    """The HTML page for one run's events (in the order they were written)."""
    events = [event for event in events if event.get("ts")]
    hosts, bars, markers, tasks, plays = _collect(events)
    times = [_parse_ts(event["ts"]) for event in events] or [0.0]
    t0 = min(times + [segment.start for row in bars.values() for segment in row])
    t1 = max(times + [segment.end for row in bars.values() for segment in row if segment.end is not None])
    span = max(t1 - t0, 0.001)
    scale = CHART_WIDTH / span

    def x(moment: float) -> float:
        return LABEL_WIDTH + (moment - t0) * scale

    parts: list[str] = []
    y = AXIS_HEIGHT
    for host_index, host in enumerate(hosts):
        row = bars[host]
        sub_rows, count = _layout(row)
        height = count * SUB_ROW
        if host_index % 2:
            parts.append('<rect x="0" y="%d" width="%d" height="%d" fill="#f7f9fc"/>' % (y - 2, LABEL_WIDTH + CHART_WIDTH + 10, height + ROW_GAP))
        parts.append('<text class="host" x="4" y="%d" data-host="%s">%s</text>' % (y + 10, _esc(host), _esc(host)))
        for index, segment in enumerate(row):
            top = y + sub_rows[index] * SUB_ROW
            end = segment.end if segment.end is not None else t1
            left, width = x(segment.start), max((end - segment.start) * scale - 1, 2.0)  # 1 px between bars
            if segment.kind == "task":
                fill = STATUS_COLOURS.get(segment.status, "#999")
                stroke = ' stroke="%s" stroke-width="1.5"' % HANDLER_STROKE if segment.handler else ""
                parts.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"%s><title>%s</title></rect>' % (
                    left, top, width, SUB_ROW - 2, fill, stroke, _esc("#%s %s" % (segment.number, segment.title))))
                label = ("H%s" if segment.handler else "%s") % segment.number
                if width > 7 * len(label):
                    parts.append('<text class="num" x="%.1f" y="%d">%s</text>' % (left + 2, top + 8, label))
            else:
                fill = JOB_COLOURS.get(segment.status, "#546e7a")
                # a poll > 0 job is drawn across the lower part of its own task's segment
                job_top = top + (SUB_ROW - 8 if not segment.background else 2)
                job_height = 5 if not segment.background else SUB_ROW - 5
                solid = width if segment.ran_until is None else max((segment.ran_until - segment.start) * scale, 2.0)
                parts.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.9"><title>%s</title></rect>' % (
                    left, job_top, solid, job_height, fill, _esc(segment.title)))
                if solid < width:
                    middle = job_top + job_height // 2
                    parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="1" stroke-dasharray="2,2"><title>%s</title></line>' % (
                        left + solid, left + width, middle, middle, fill, _esc(segment.title)))
                for tick in segment.ticks:
                    parts.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#fff" stroke-width="1.5"/>' % (
                        x(tick), x(tick), job_top - 1, job_top + job_height + 1))
        for moment, kind, text in markers[host]:
            mx = x(moment)
            if kind == "handler.triggered":
                shape = '<path d="M%.1f %d l4 4 l-4 4 l-4 -4 z" fill="%s">' % (mx, y, HANDLER_STROKE)
            elif kind == "handler.not_run":
                shape = '<path d="M%.1f %d l6 6 m0 -6 l-6 6" stroke="#d32f2f" stroke-width="2">' % (mx - 3, y + 1)
            else:
                shape = '<circle cx="%.1f" cy="%d" r="2.5" fill="none" stroke="%s">' % (mx, y + SUB_ROW - 3, HANDLER_STROKE)
            parts.append('%s<title>%s</title>%s' % (shape, _esc(text), "</path>" if shape.startswith("<path") else "</circle>"))
        y += height + ROW_GAP
    total_height = y + 10

    axis = []
    step = _nice_step(span)
    moment = 0.0
    while moment <= span + 1e-9:
        px = LABEL_WIDTH + moment * scale
        axis.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e0e0e0"/>' % (px, px, AXIS_HEIGHT - 6, total_height))
        axis.append('<text class="axis" x="%.1f" y="%d" text-anchor="middle">%ss</text>' % (px, AXIS_HEIGHT - 9, _fmt(moment)))
        moment += step
    for start, name in plays:
        px = x(start)
        axis.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#90a4ae" stroke-dasharray="3,3"/>' % (px, px, 4, total_height))
        axis.append('<text class="axis" x="%.1f" y="%d">%s</text>' % (px + 3, 12, _esc(name)))

    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">%s%s</svg>' % (
        LABEL_WIDTH + CHART_WIDTH + 20, total_height, "".join(axis), "".join(parts))
    return _page(title, events, hosts, tasks, svg, span)


def _nice_step(span: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if span / step <= 16:
            return float(step)
    return span / 10


def _fmt(seconds: float) -> str:
    return ("%.1f" % seconds).rstrip("0").rstrip(".") if seconds < 10 else "%d" % round(seconds)


def _page(title: str, events: list[dict], hosts: list[str], tasks: dict, svg: str, span: float) -> str:
    counts: dict[str, int] = {}
    for event in events:
        counts[event["event"]] = counts.get(event["event"], 0) + 1
    first = events[0] if events else {}
    summary = ("run %s &middot; started %s &middot; %.1f s &middot; %d hosts &middot; %d tasks &middot; %d jobs &middot; "
               "%d handler runs &middot; handlers not run: %d") % (
        _esc(first.get("run_id", "")), _esc(first.get("ts", "")), span, len(hosts), len(tasks), counts.get("job.start", 0),
        counts.get("handler.start", 0), counts.get("handler.not_run", 0))
    legend = "".join('<span><i style="background:%s"></i>%s</span>' % (colour, name) for name, colour in STATUS_COLOURS.items() if name != "running")
    legend += ('<span><i style="background:%s;height:5px"></i>async job (white ticks: polls; dashed: done, not yet collected)</span>' % JOB_COLOURS["ok"]
               + '<span><i style="background:#fff;border:1.5px solid %s"></i>handler (H#)</span>' % HANDLER_STROKE
               + '<span>&#9670; handler triggered</span><span>&#9675; handler queued</span>'
               + '<span style="color:#d32f2f">&#10005; handler not run</span>')
    rows = "".join("<tr><td>%d</td><td>%s</td><td>%s</td></tr>" % (number, _esc(name), _esc(action))
                   for number, name, action in sorted(tasks.values()))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head>"
            "<body><h1>%s</h1><div class=\"meta\">%s</div><div class=\"legend\">%s</div>%s"
            "<table><tr><th>#</th><th>task or handler</th><th>action</th></tr>%s</table></body></html>\n") % (
        _esc(title), CSS, _esc(title), summary, legend, svg, rows)
