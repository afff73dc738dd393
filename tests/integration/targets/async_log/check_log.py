# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the log and timeline that playbook.yml left behind."""

from __future__ import annotations

import json
import os
import stat
import sys

import jsonschema

SENTINEL = "ASYNC-LOG-INTEGRATION-SENTINEL"
SCHEMA_IN_COLLECTION = os.path.join("ansible_collections", "org", "async_jobs", "docs", "async_log.schema.json")


def schema_path():
    """The schema that ships in the collection under test (ansible-test runs the target from a
    copy, so it is found on the collections path, not next to this file)."""
    for root in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep):
        candidate = os.path.join(root, SCHEMA_IN_COLLECTION)
        if root and os.path.exists(candidate):
            return candidate
    raise SystemExit("docs/async_log.schema.json of org.async_jobs not found on ANSIBLE_COLLECTIONS_PATH")


def main(log_path, stdout_path):
    with open(schema_path(), encoding="utf-8") as schema_file:
        validator = jsonschema.Draft202012Validator(json.load(schema_file))
    with open(log_path, encoding="utf-8") as log:
        text = log.read()
    events = [json.loads(line) for line in text.splitlines()]
    for event in events:
        errors = [error.message for error in validator.iter_errors(event)]
        assert not errors, (event, errors)
    assert stat.S_IMODE(os.stat(log_path).st_mode) == 0o600

    def of(kind, **where):
        return [e for e in events if e["event"] == kind and all(e.get(k) == v for k, v in where.items())]

    for host in ("node1", "node2"):
        polled = [e for e in of("job.poll", host=host) if e["task"]["name"] == "Poll an async job"]
        assert polled and all(e["source"] == "core" and e["poll"] == 1 and e["async_limit"] == 20 for e in polled), polled
        checked = [e for e in of("job.poll", host=host) if e["task"]["name"] == "Launch and leave"]
        assert checked and checked[-1]["finished"] and checked[-1]["source"] == "async_status", checked
        ends = {e["task"]["name"]: e["status"] for e in of("job.end", host=host)}
        assert ends == {"Poll an async job": "ok", "Launch and leave": "ok"}, ends
        assert [e["reason"] for e in of("handler.suppressed", host=host)] == ["unchanged"]
        assert len(of("handler.queued", host=host)) == 2
        assert len(of("handler.triggered", host=host)) == len(of("handler.start", host=host)) == len(of("handler.end", host=host)) == 1
    assert events[0]["event"] == "playbook.start" and events[-1]["event"] == "playbook.end"
    assert SENTINEL not in text

    with open(os.path.splitext(log_path)[0] + ".html", encoding="utf-8") as page:
        html = page.read()
    assert 'data-host="node1"' in html and 'data-host="node2"' in html and SENTINEL not in html
    with open(stdout_path, encoding="utf-8") as stdout:
        assert "org.async_jobs" not in stdout.read()  # the callback prints nothing
    print("async_log: %d events checked" % len(events))


if __name__ == "__main__":
    main(*sys.argv[1:])
