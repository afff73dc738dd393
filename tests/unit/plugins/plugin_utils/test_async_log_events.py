# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event building with small stand-ins for tasks, handlers and plays (core's result classes
change their constructors between releases, so the recorder takes plain values)."""

from __future__ import annotations

import itertools
import json
import os
import re

import jsonschema
import pytest

from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_events import (
    SCHEMA_VERSION,
    EventBuilder,
    RunRecorder,
)
from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_serialise import NO_LOG_MARKER

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SCHEMA_PATH = os.path.join(COLLECTION_ROOT, "docs", "async_log.schema.json")
_uuids = itertools.count(1)


class Task:
    def __init__(self, name, action="ansible.builtin.command", async_val=0, poll=15, notify=None, no_log=False, args=None):
        self._uuid = "uuid-%04d" % next(_uuids)
        self.name = name
        self.action = action
        self.resolved_action = action
        self.async_val = async_val
        self.poll = poll
        self.notify = notify
        self.no_log = no_log
        self.args = args or {}

    def get_name(self, include_role_fqcn=True):
        return self.name


class Handler(Task):
    def __init__(self, name, listen=None, **kwargs):
        super().__init__(name, action="ansible.builtin.debug", **kwargs)
        self.listen = listen or []
        self.notified_hosts = []


class Block:
    def __init__(self, tasks):
        self.block = tasks


class Play:
    def __init__(self, name="play", handlers=(), serial=None, force_handlers=False):
        self._uuid = "play-%04d" % next(_uuids)
        self.name = name
        self.handlers = [Block(list(handlers))]
        self.serial = serial or []
        self.hosts = ["all"]
        self.force_handlers = force_handlers


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def recorder(clock):
    return RunRecorder(EventBuilder(clock=lambda: 1_790_000_000 + clock.now), max_result_bytes=2000, monotonic=clock)


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH, encoding="utf-8") as schema_file:
        schema = json.load(schema_file)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def start_play(recorder, play, enabled=False, source="default"):
    return recorder.play_start(play, force_handlers={"enabled": enabled, "source": source}, strategy="linear")


def kinds(events):
    return [event["event"] for event in events]


def check_all(recorder, validator):
    for event in recorder.events:
        errors = [error.message for error in validator.iter_errors(event)]
        assert not errors, (event, errors)
    assert [event["seq"] for event in recorder.events] == list(range(1, len(recorder.events) + 1))


def test_envelope(recorder, validator):
    recorder.playbook_start("site.yml", "2.21.5")
    events = start_play(recorder, Play("web"))
    event = events[0]
    assert event["schema"] == SCHEMA_VERSION
    assert re.fullmatch(r"[0-9a-f]{32}", event["run_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["ts"])
    assert event["play"]["name"] == "web" and event["batch"] == 1
    assert event["force_handlers"] == {"enabled": False, "source": "default"}
    check_all(recorder, validator)


def test_poll_ticks_are_attributed_to_the_host_task(recorder, clock, validator):
    start_play(recorder, Play())
    task = Task("long job", async_val=60, poll=5)
    recorder.runner_start("web1", task)
    clock.now += 6
    first = recorder.async_poll("web1", {"ansible_job_id": "j1", "started": 1, "finished": 0})
    assert kinds(first) == ["job.start", "job.poll"]
    assert first[0]["task"]["name"] == "long job" and first[0]["jid"] == "j1"
    assert first[0]["launched_ago"] == 6 and first[0]["async_limit"] == 60 and first[0]["poll"] == 5
    clock.now += 5
    second = recorder.async_poll("web1", {"ansible_job_id": "j1", "started": 1, "finished": 0})
    assert [(e["tick"], e["elapsed"]) for e in first[1:] + second] == [(1, 6.0), (2, 11.0)]
    clock.now += 5
    end = recorder.async_final("web1", task, {"ansible_job_id": "j1", "finished": 1, "rc": 0, "changed": True}, False)
    assert kinds(end) == ["job.end"]
    assert end[0]["status"] == "ok" and end[0]["ticks"] == 2 and end[0]["elapsed"] == 16.0 and end[0]["rc"] == 0
    result = recorder.task_result("web1", task, "ok", {"ansible_job_id": "j1", "finished": 1, "changed": True})
    assert kinds(result) == ["task.end"] and result[0]["duration"] == 16.0 and result[0]["status"] == "changed"
    check_all(recorder, validator)


def test_two_async_lanes_on_one_host_get_their_own_ticks(recorder, clock):
    start_play(recorder, Play())
    fast, slow = Task("fast", async_val=60, poll=2), Task("slow", async_val=60, poll=7)
    recorder.runner_start("h", slow)
    recorder.runner_start("h", fast)
    clock.now += 2.3
    assert recorder.async_poll("h", {"ansible_job_id": "jfast"})[0]["task"]["name"] == "fast"
    clock.now += 4.8
    assert recorder.async_poll("h", {"ansible_job_id": "jslow"})[0]["task"]["name"] == "slow"
    clock.now += 1
    assert recorder.async_poll("h", {"ansible_job_id": "jfast"})[0]["tick"] == 2


def test_simultaneous_async_tasks_first_ticks_go_to_the_earliest_due(recorder, clock, validator):
    start_play(recorder, Play())
    one, two = Task("one", async_val=60, poll=1), Task("two", async_val=60, poll=2)
    recorder.runner_start("h", two)
    recorder.runner_start("h", one)
    clock.now += 4.8  # a slow launch: both first ticks come late
    assert recorder.async_poll("h", {"ansible_job_id": "j-one"})[0]["task"]["name"] == "one"
    assert recorder.async_poll("h", {"ansible_job_id": "j-two"})[0]["task"]["name"] == "two"
    check_all(recorder, validator)


def test_a_tick_that_names_its_task_is_attributed_to_it(recorder, clock, validator):
    start_play(recorder, Play())
    one, two = Task("one", async_val=60, poll=2), Task("two", async_val=60, poll=2)
    recorder.runner_start("h", one)
    recorder.runner_start("h", two)
    clock.now += 2
    assert recorder.async_poll("h", {"ansible_job_id": "j-two"}, task=two)[0]["task"]["name"] == "two"
    assert recorder.async_poll("h", {"ansible_job_id": "j-one"}, task=one)[0]["task"]["name"] == "one"
    # core's own tick carries a stand-in async_status task: it is not taken as the job's task
    stand_in = Task("async_status", action="ansible.builtin.async_status")
    recorder.runner_start("h2", one)
    assert recorder.async_poll("h2", {"ansible_job_id": "j-three"}, task=stand_in)[0]["task"]["name"] == "one"
    check_all(recorder, validator)


def test_a_wrong_guess_is_corrected_by_the_final_result(recorder, clock, validator):
    start_play(recorder, Play())
    one, two = Task("one", async_val=60, poll=2), Task("two", async_val=60, poll=2)
    recorder.runner_start("h", one)
    recorder.runner_start("h", two)
    clock.now += 2
    recorder.async_poll("h", {"ansible_job_id": "j-two"})  # guessed "one"
    end = recorder.async_final("h", two, {"ansible_job_id": "j-two", "finished": 1}, False)
    assert end[-1]["task"]["name"] == "two" and end[-1]["reattributed"] is True
    check_all(recorder, validator)


def test_polled_loop_items_are_one_job_each(recorder, clock):
    start_play(recorder, Play())
    task = Task("loop", async_val=10, poll=1)
    recorder.runner_start("h", task)
    for jid in ("i1", "i2"):
        clock.now += 1
        assert kinds(recorder.async_poll("h", {"ansible_job_id": jid})) == ["job.start", "job.poll"]
        clock.now += 1
        assert recorder.async_final("h", task, {"ansible_job_id": jid, "finished": 1}, False)[-1]["elapsed"] == 2.0
    assert kinds(recorder.task_result("h", task, "ok", {"results": []})) == ["task.end"]


def test_job_finished_before_the_first_poll_still_starts_and_ends(recorder, clock):
    start_play(recorder, Play())
    task = Task("quick", async_val=10, poll=5)
    recorder.runner_start("h", task)
    clock.now += 5.5
    events = recorder.async_final("h", task, {"ansible_job_id": "jq", "finished": 1, "rc": 0}, False)
    assert kinds(events) == ["job.start", "job.end"]
    assert events[1]["ticks"] == 0 and events[1]["elapsed"] == 5.5


def test_core_poll_timeout(recorder, clock, validator):
    start_play(recorder, Play())
    task = Task("too slow", async_val=3, poll=1)
    recorder.runner_start("h", task)
    for _tick in range(3):
        clock.now += 1
        recorder.async_poll("h", {"ansible_job_id": "jt", "finished": 0})
    events = recorder.async_final("h", task, {"failed": True, "msg": "async task did not complete within the requested time - 3s",
                                              "async_result": {"ansible_job_id": "jt", "finished": 0}}, True)
    assert events[0]["status"] == "timed_out" and events[0]["ticks"] == 3
    recorder.task_result("h", task, "failed", {"failed": True})
    check_all(recorder, validator)


def test_poll_zero_launch_then_async_status_until(recorder, clock, validator):
    start_play(recorder, Play())
    launch = Task("launch", async_val=30, poll=0)
    recorder.runner_start("h", launch)
    clock.now += 0.5
    events = recorder.task_result("h", launch, "ok", {"ansible_job_id": "j9", "started": 1, "finished": 0, "changed": True})
    assert kinds(events) == ["job.start", "task.end"] and events[0]["poll"] == 0 and events[0]["source"] == "launch"
    check = Task("check", action="ansible.builtin.async_status", args={"jid": "j9"})
    recorder.runner_start("h", check)
    clock.now += 1
    tick1 = recorder.retry("h", check, {"ansible_job_id": "j9", "finished": 0, "attempts": 1})
    clock.now += 1
    last = recorder.task_result("h", check, "ok", {"ansible_job_id": "j9", "finished": 1, "rc": 3, "changed": True, "stdout": "x",
                                                   "delta": "0:00:01.250000"})
    assert kinds(tick1) == ["job.poll"] and tick1[0]["task"]["name"] == "launch" and tick1[0]["source"] == "async_status"
    assert kinds(last) == ["job.poll", "job.end", "task.end"]
    assert last[0]["tick"] == 2 and last[0]["finished"] is True and last[0]["elapsed"] == 2.0
    assert last[1]["status"] == "ok" and last[1]["rc"] == 3 and last[1]["result"]["stdout"] == "x" and last[1]["runtime"] == 1.25
    cleanup = Task("cleanup", action="ansible.builtin.async_status", args={"jid": "j9", "mode": "cleanup"})
    assert kinds(recorder.task_result("h", cleanup, "ok", {"ansible_job_id": "j9", "erased": "/x"})) == ["task.end"]
    check_all(recorder, validator)


def test_async_status_reports_a_job_killed_at_its_limit(recorder):
    start_play(recorder, Play())
    launch = Task("launch", async_val=2, poll=0)
    recorder.task_result("h", launch, "ok", {"ansible_job_id": "jk", "started": 1, "finished": 0, "changed": True})
    check = Task("check", action="async_status")
    events = recorder.task_result("h", check, "failed", {"ansible_job_id": "jk", "finished": 1, "failed": True, "msg": "Timeout exceeded"})
    assert kinds(events)[:2] == ["job.poll", "job.end"] and events[1]["status"] == "timed_out"


def test_poll_zero_loop_launches_one_job_per_item(recorder):
    start_play(recorder, Play())
    launch = Task("launch many", async_val=30, poll=0)
    for jid in ("a1", "a2"):
        assert kinds(recorder.item_result("h", launch, "ok", {"ansible_job_id": jid, "started": 1, "finished": 0})) == ["job.start"]
    final = recorder.task_result("h", launch, "ok", {"changed": True, "results": [{"ansible_job_id": "a1"}, {"ansible_job_id": "a2"}]})
    assert kinds(final) == ["task.end"]
    assert sorted(recorder.jobs) == ["a1", "a2"]


@pytest.mark.parametrize("with_pending_lists", [True, False])
def test_wait_jobs_result_expands_into_ticks_and_ends(recorder, clock, validator, with_pending_lists):
    start_play(recorder, Play())
    launch = Task("launch", async_val=60, poll=0)
    for jid in ("w1", "w2", "w3"):
        recorder.item_result("h", launch, "ok", {"ansible_job_id": jid, "started": 1, "finished": 0})
    recorder.task_result("h", launch, "ok", {"changed": True})
    clock.now += 1
    wait = Task("wait", action="org.async_jobs.wait_jobs")
    recorder.runner_start("h", wait)
    clock.now += 10
    if with_pending_lists:
        ticks = [{"elapsed": 0.1, "pending": 3, "running": ["w1", "w2", "w3"]}, {"elapsed": 5.1, "pending": 2, "running": ["w2", "w3"]},
                 {"elapsed": 10.1, "pending": 1, "running": ["w3"]}]
    else:
        ticks = [{"elapsed": 0.1, "pending": 3}, {"elapsed": 5.1, "pending": 2}, {"elapsed": 10.1, "pending": 1}]
    result = {"changed": True, "failed": True, "ticks": ticks, "jobs": [
        {"jid": "w1", "finished": True, "failed": False, "changed": True, "timed_out": False, "killed": False, "elapsed": 4.0, "rc": 0},
        {"jid": "w2", "finished": True, "failed": True, "changed": True, "timed_out": False, "killed": False, "elapsed": 9.0, "rc": 2},
        {"jid": "w3", "finished": False, "failed": True, "changed": False, "timed_out": True, "killed": True, "elapsed": 10.1},
    ]}
    events = recorder.task_result("h", wait, "failed", result)
    by_job = {}
    for event in events:
        if event["event"].startswith("job."):
            by_job.setdefault(event["jid"], []).append(event)
    assert [e["finished"] for e in by_job["w1"] if e["event"] == "job.poll"] == [False, True]
    assert [e["finished"] for e in by_job["w2"] if e["event"] == "job.poll"] == [False, False, True]
    assert [e["finished"] for e in by_job["w3"] if e["event"] == "job.poll"] == [False, False, False]
    ends = {jid: evs[-1] for jid, evs in by_job.items()}
    assert {jid: e["status"] for jid, e in ends.items()} == {"w1": "ok", "w2": "failed", "w3": "killed"}
    assert all(e["source"] == "wait_jobs" and e["task"]["name"] == "launch" for evs in by_job.values() for e in evs)
    # tick times are moved from the wait's clock to the job's: the wait started 1 s after the launch
    assert [e["elapsed"] for e in by_job["w1"]] == [1.1, 6.1, 6.1]
    assert kinds(events)[-1] == "task.end"
    check_all(recorder, validator)


def test_wait_jobs_for_a_job_launched_elsewhere(recorder):
    start_play(recorder, Play())
    wait = Task("wait", action="org.async_jobs.wait_jobs")
    events = recorder.task_result("h", wait, "ok", {"jobs": [{"jid": "x", "finished": True, "elapsed": 1}], "ticks": [{"elapsed": 1.5}]})
    assert kinds(events) == ["job.start", "job.poll", "job.end", "task.end"]
    assert events[0]["poll"] is None and events[2]["status"] == "ok"


def test_handlers_changed_unchanged_failed_skipped_unreachable(recorder, validator):
    restart = Handler("restart app")
    start_play(recorder, Play(handlers=[restart]))
    task = Task("configure", notify=["restart app"])
    outcomes = {
        "h1": ("ok", {"changed": True}),
        "h2": ("ok", {"changed": False}),
        "h3": ("failed", {"failed": True, "changed": True}),
        "h4": ("skipped", {"skipped": True}),
        "h5": ("unreachable", {"unreachable": True}),
    }
    seen = {}
    for host, (status, result) in outcomes.items():
        recorder.runner_start(host, task)
        seen[host] = [e for e in recorder.task_result(host, task, status, result) if e["event"].startswith("handler.")]
    assert kinds(seen["h1"]) == ["handler.queued"] and seen["h1"][0]["handler"]["name"] == "restart app"
    assert {host: events[0]["reason"] for host, events in seen.items() if host != "h1"} == {
        "h2": "unchanged", "h3": "failed", "h4": "skipped", "h5": "unreachable"}
    assert seen["h2"][0]["handlers"][0]["name"] == "restart app"
    check_all(recorder, validator)


def test_listen_and_names_resolve_like_core(recorder):
    one, two, three = Handler("one", listen=["web"]), Handler("two", listen=["web"]), Handler("three")
    start_play(recorder, Play(handlers=[one, two, three]))
    task = Task("t", notify=["web", "three"])
    events = recorder.task_result("h", task, "ok", {"changed": True})
    assert [(e["notification"], e["handler"]["name"], e["handler"]["listen"]) for e in events if e["event"] == "handler.queued"] == [
        ("web", "one", ["web"]), ("web", "two", ["web"]), ("three", "three", [])]


def test_unknown_handler_is_logged_as_missing(recorder, validator):
    start_play(recorder, Play())
    events = recorder.task_result("h", Task("t", notify=["nope"]), "ok", {"changed": True})
    assert events[-1]["event"] == "handler.queued" and events[-1]["missing"] is True and events[-1]["handler"] is None
    check_all(recorder, validator)


def test_handler_lifecycle_and_chain(recorder, validator):
    first, second = Handler("first", notify=["second"]), Handler("second")
    start_play(recorder, Play(handlers=[first, second]))
    recorder.task_result("h", Task("t", notify=["first"]), "ok", {"changed": True})
    assert kinds(recorder.notify(first, "h")) == ["handler.triggered"]
    start = recorder.runner_start("h", first)
    assert kinds(start) == ["handler.start"] and start[0]["forced"] is False
    end = recorder.task_result("h", first, "ok", {"changed": True})
    assert kinds(end) == ["handler.end", "handler.queued"] and end[1]["handler"]["name"] == "second"
    recorder.notify(second, "h")
    recorder.runner_start("h", second)
    recorder.task_result("h", second, "ok", {"changed": False})
    assert kinds(recorder.playbook_end({"h": {"ok": 3}})) == ["playbook.end"]  # nothing left that did not run
    check_all(recorder, validator)


def test_forced_handler_on_a_failed_host(recorder, validator):
    handler = Handler("restart")
    start_play(recorder, Play(handlers=[handler], force_handlers=True), enabled=True, source="cli")
    task = Task("change", notify=["restart"])
    for host in ("ok-host", "bad-host"):
        recorder.task_result(host, task, "ok", {"changed": True})
    recorder.task_result("bad-host", Task("breaks"), "failed", {"failed": True})
    for host in ("ok-host", "bad-host"):
        recorder.notify(handler, host)
    starts = {host: recorder.runner_start(host, handler)[0]["forced"] for host in ("ok-host", "bad-host")}
    assert starts == {"ok-host": False, "bad-host": True}
    assert recorder.task_result("bad-host", handler, "ok", {})[0]["forced"] is True
    check_all(recorder, validator)


def test_ignored_failure_does_not_fail_the_host(recorder):
    handler = Handler("restart")
    start_play(recorder, Play(handlers=[handler]), enabled=True, source="play")
    recorder.task_result("h", Task("c", notify=["restart"]), "ok", {"changed": True})
    recorder.task_result("h", Task("breaks"), "failed", {"failed": True}, ignore_errors=True)
    assert recorder.runner_start("h", handler)[0]["forced"] is False


def test_not_run_reasons_at_play_end(recorder, validator):
    handler = Handler("restart")
    start_play(recorder, Play(handlers=[handler]))
    task = Task("change", notify=["restart"])
    for host in ("failed", "gone", "ended", "ran"):
        recorder.task_result(host, task, "ok", {"changed": True})
    recorder.task_result("failed", Task("breaks"), "failed", {"failed": True})
    recorder.task_result("gone", Task("ssh"), "unreachable", {"unreachable": True})
    recorder.notify(handler, "ran")
    recorder.runner_start("ran", handler)
    recorder.task_result("ran", handler, "ok", {})
    events = start_play(recorder, Play("next"))
    not_run = {e["host"]: e["reason"] for e in events if e["event"] == "handler.not_run"}
    assert not_run == {"failed": "host_failed", "gone": "unreachable", "ended": "play_ended"}
    assert events[-1]["event"] == "play.start"
    check_all(recorder, validator)


def test_serial_batches_count_up_for_the_same_play(recorder):
    play = Play(serial=[2])
    assert start_play(recorder, play)[-1]["batch"] == 1
    assert start_play(recorder, play)[-1]["batch"] == 2
    assert start_play(recorder, Play())[-1]["batch"] == 1


def test_no_log_results_never_reach_events(recorder, validator):
    start_play(recorder, Play())
    secret = Task("secret", async_val=30, poll=0, no_log=True)
    events = recorder.task_result("h", secret, "ok", {"ansible_job_id": "js", "started": 1, "finished": 0, "changed": True})
    assert events[-1]["result"] == NO_LOG_MARKER
    check = Task("check", action="async_status")  # not no_log itself: the job's output is still hidden
    events = recorder.task_result("h", check, "ok", {"ansible_job_id": "js", "finished": 1, "stdout": "SENTINEL"})
    assert "SENTINEL" not in json.dumps([e for e in events if e["event"] != "task.end"])
    assert [e["result"] for e in events if e["event"] == "job.end"] == [NO_LOG_MARKER]
    censored = recorder.task_result("h", Task("item"), "ok", {"_ansible_no_log": True, "stdout": "SENTINEL"})
    assert censored[-1]["result"] == NO_LOG_MARKER
    check_all(recorder, validator)


def test_large_results_are_truncated(recorder, validator):
    start_play(recorder, Play())
    events = recorder.task_result("h", Task("loud"), "ok", {"stdout": "z" * 10000})
    assert events[0]["result"]["_truncated"] is True and events[0]["result"]["bytes"] > 10000
    check_all(recorder, validator)
