# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fan-out play run through ansible-runner (the engine under AWX and Automation Platform),
with async_log enabled: runner's own event stream and our log must tell the same story."""

from __future__ import annotations

import os

import ansible_runner

from playbook_runner import BIN_DIR, read_json_lines

RESULT_EVENTS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_skipped": "skipped", "runner_on_unreachable": "unreachable"}


def test_runner_events_and_async_log_agree(collections_path, make_inventory, playbook, ssh_hosts, tmp_path, monkeypatch):
    log_path = str(tmp_path / "async_log.jsonl")
    monkeypatch.setenv("PATH", BIN_DIR + os.pathsep + os.environ.get("PATH", ""))  # runner runs ansible-playbook from PATH
    private_data_dir = tmp_path / "runner"
    private_data_dir.mkdir()
    run = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook=playbook("runner_fanout.yml"),
        inventory=make_inventory(3),
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": collections_path,
            "ANSIBLE_CALLBACKS_ENABLED": "org.async_jobs.async_log",
            "ANSIBLE_ASYNC_LOG_PATH": log_path,
            "ANSIBLE_SSH_CONTROL_PATH_DIR": ssh_hosts.control_dir,
        },
        quiet=True,
    )
    assert run.status == "successful" and run.rc == 0, run.stdout.read()

    runner_results = set()
    runner_handlers = set()
    in_handlers = False
    for event in run.events:
        kind = event["event"]
        data = event.get("event_data", {})
        if kind == "playbook_on_handler_task_start":
            in_handlers = True
        elif kind in ("playbook_on_task_start",):
            in_handlers = False
        if kind in RESULT_EVENTS:
            if in_handlers or data.get("task") == "Restart app":
                runner_handlers.add((data["host"], data["task"]))
            else:
                runner_results.add((data["host"], data["task_uuid"], RESULT_EVENTS[kind], bool(data["res"].get("changed"))))

    events = read_json_lines(log_path)
    ours = {(event["host"], event["task"]["uuid"], "ok" if event["status"] == "changed" else event["status"], event["changed"])
            for event in events if event["event"] == "task.end"}
    our_handlers = {(event["host"], event["handler"]["name"]) for event in events if event["event"] == "handler.end"}

    assert runner_results == ours
    assert len(ours) == 3 * 4  # three lane tasks and the task after the join, on three hosts
    assert runner_handlers == our_handlers == {("host%02d" % n, "Restart app") for n in (1, 2, 3)}
    lanes = {event["lane"] for event in events if event["event"] == "task.end" and event.get("lane") is not None}
    assert len(lanes) == 2
