#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run examples/demo.yml with the async log on, then summarise the run from the log.

Called by `make demo` with the collection installed on ANSIBLE_COLLECTIONS_PATH. The wheels
of the two library groups are downloaded from PyPI once into examples/out/wheels, so that the
play itself installs from a local directory. ASYNC_JOBS_DEMO_OUT puts the output (wheels, the
throwaway venv, the log and the timeline) elsewhere than examples/out.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import subprocess
import sys

EXAMPLES = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(os.environ.get("ASYNC_JOBS_DEMO_OUT") or os.path.join(EXAMPLES, "out"))
WHEELS = os.path.join(OUT, "wheels")
LOG = os.path.join(OUT, "async_log.jsonl")
LIBRARIES = ["requests", "flask"]


def prepare_wheels():
    if glob.glob(os.path.join(WHEELS, "flask-*.whl")) and glob.glob(os.path.join(WHEELS, "requests-*.whl")):
        return
    print("Preparing the wheels of both library groups in %s (once)" % WHEELS, flush=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", WHEELS] + LIBRARIES, check=True)


def run_play():
    if os.path.exists(LOG):
        os.remove(LOG)
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="org.async_jobs.async_log", ANSIBLE_ASYNC_LOG_PATH=LOG,
               ANSIBLE_INVENTORY=os.path.join(EXAMPLES, "inventory.ini"))
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return subprocess.run([playbook, os.path.join(EXAMPLES, "demo.yml"), "-e", "async_jobs_demo_out=%s" % OUT],
                          env=env, cwd=EXAMPLES, check=False).returncode


def parse_ts(value):
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def summarise(events):
    """Lanes and their durations, what a linear run would have needed, handler triggers."""
    starts = {}
    lanes = {}
    for event in events:
        task = event.get("task") or {}
        key = (event.get("host"), task.get("uuid"))
        if event["event"] == "task.start":
            starts[key] = parse_ts(event["ts"])
        elif event["event"] == "task.end" and event.get("lane") is not None and key in starts:
            span = lanes.setdefault(str(event["lane"]), [starts[key], parse_ts(event["ts"]), []])
            span[0] = min(span[0], starts[key])
            span[1] = max(span[1], parse_ts(event["ts"]))
            span[2].append(task.get("name"))
    lines = []
    if lanes:
        first = min(span[0] for span in lanes.values())
        last = max(span[1] for span in lanes.values())
        sequential = sum((span[1] - span[0]).total_seconds() for span in lanes.values())
        for lane, (start, end, names) in sorted(lanes.items()):
            lines.append("  lane %-22s %5.1f s  (%s)" % (lane, (end - start).total_seconds(), ", ".join(names)))
        lines.append("  the fan-out block took %.1f s; one lane after the other (linear) would take %.1f s"
                     % ((last - first).total_seconds(), sequential))
    for kind in ("handler.queued", "handler.triggered", "handler.start", "handler.end"):
        for event in (event for event in events if event["event"] == kind):
            detail = (event.get("handler") or event.get("task") or {}).get("name")
            lines.append("  %-18s %s on %s" % (kind, detail, event.get("host")))
    return lines


def main():
    os.makedirs(OUT, exist_ok=True)
    prepare_wheels()
    rc = run_play()
    events = []
    if os.path.exists(LOG):
        with open(LOG, encoding="utf-8") as log:
            events = [json.loads(line) for line in log if line.strip()]
    print("\n== What happened (from %s) ==" % os.path.relpath(LOG))
    print("\n".join(summarise(events)) or "  (the log is empty)")
    print("  jobs: %d started, %d poll ticks, %d ended" % tuple(
        sum(1 for event in events if event["event"] == kind) for kind in ("job.start", "job.poll", "job.end")))
    print("  log:      %s" % os.path.relpath(LOG))
    for page in sorted(glob.glob(os.path.join(OUT, "*.html"))):
        print("  timeline: %s" % os.path.relpath(page))
    return rc


if __name__ == "__main__":
    sys.exit(main())
