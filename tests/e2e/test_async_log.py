# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""org.async_jobs.async_log against real SSH hosts: every log is validated against the schema
the collection ships, and checked for what the run really did."""

from __future__ import annotations

import json
import math
import os
import stat

import jsonschema
import pytest

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_PATH = os.path.join(COLLECTION_ROOT, "docs", "async_log.schema.json")
NO_LOG_SENTINEL = "NOLOG-SENTINEL-7f3a"


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH, encoding="utf-8") as schema_file:
        return jsonschema.Draft202012Validator(json.load(schema_file))


@pytest.fixture
def run_logged(ansible_playbook, make_inventory, playbook, validator, tmp_path):
    """run_logged(name, hosts=3, **run_kwargs) -> PlaybookRun whose log was validated."""
    def run(name, hosts=3, expect_rc=0, **kwargs):
        log_path = str(tmp_path / ("%s.jsonl" % name.replace("/", "_").replace(".yml", "")))
        result = ansible_playbook.run(playbook("async_log/" + name), make_inventory(hosts), log_path=log_path, **kwargs)
        assert result.rc == expect_rc, result.explain()
        assert result.events, result.explain()
        for event in result.events:
            errors = [error.message for error in validator.iter_errors(event)]
            assert not errors, (event, errors)
        assert [event["seq"] for event in result.events] == list(range(1, len(result.events) + 1))
        assert len({event["run_id"] for event in result.events}) == 1
        assert result.events[0]["event"] == "playbook.start" and result.events[-1]["event"] == "playbook.end"
        assert stat.S_IMODE(os.stat(log_path).st_mode) == 0o600
        assert "org.async_jobs.async_log" not in result.stdout
        return result
    return run


def hosts_of(count):
    return ["host%02d" % n for n in range(1, count + 1)]


def by_host(events):
    grouped = {}
    for event in events:
        grouped.setdefault(event["host"], []).append(event)
    return grouped


def test_poll_ticks_are_counted_against_the_job_length(run_logged):
    run = run_logged("poll.yml")
    for host in hosts_of(3):
        start = run.events_of("job.start", host=host)
        ticks = run.events_of("job.poll", host=host)
        end = run.events_of("job.end", host=host)
        assert len(start) == len(end) == 1, run.explain()
        jid = start[0]["jid"]
        assert start[0]["task"]["name"] == "Run a 6 s job, polled every 2 s" and start[0]["poll"] == 2 and start[0]["async_limit"] == 30
        assert end[0]["status"] == "ok" and end[0]["rc"] == 0 and end[0]["jid"] == jid
        # the job sleeps 6 s and is polled every 2 s: at least one tick, at most one per 2 s of its life
        assert 6 <= end[0]["elapsed"] < 30
        assert 1 <= len(ticks) <= math.ceil(end[0]["elapsed"] / 2) + 1, ticks
        assert [tick["tick"] for tick in ticks] == list(range(1, len(ticks) + 1)) and end[0]["ticks"] == len(ticks)
        assert all(tick["jid"] == jid and tick["source"] == "core" and not tick["finished"] for tick in ticks)
        elapsed = [tick["elapsed"] for tick in ticks]
        assert elapsed == sorted(elapsed) and elapsed[-1] <= end[0]["elapsed"]
        task_end = run.events_of("task.end", host=host)[0]
        assert task_end["status"] == "changed" and task_end["duration"] >= 6


def test_poll_zero_with_async_status(run_logged):
    run = run_logged("async_status.yml")
    for host in hosts_of(3):
        start = run.events_of("job.start", host=host)
        assert len(start) == 1 and start[0]["poll"] == 0 and start[0]["source"] == "launch"
        ticks = run.events_of("job.poll", host=host)
        assert len(ticks) >= 2 and all(t["source"] == "async_status" and t["task"]["name"] == "Launch a 5 s job" for t in ticks)
        assert [t["finished"] for t in ticks] == [False] * (len(ticks) - 1) + [True]
        end = run.events_of("job.end", host=host)
        assert len(end) == 1 and end[0]["status"] == "ok" and 5 <= end[0]["elapsed"] < 30
        # the cleanup call is not a tick
        assert end[0]["ticks"] == len(ticks)


def test_poll_zero_with_wait_jobs(run_logged):
    run = run_logged("wait_jobs.yml")
    for host in hosts_of(3):
        starts = run.events_of("job.start", host=host)
        assert len(starts) == 2 and {s["source"] for s in starts} == {"launch"}
        ends = {e["jid"]: e for e in run.events_of("job.end", host=host)}
        assert set(ends) == {s["jid"] for s in starts}
        assert {e["status"] for e in ends.values()} == {"ok"} and {e["source"] for e in ends.values()} == {"wait_jobs"}
        for jid, end in ends.items():
            ticks = [t for t in run.events_of("job.poll", host=host) if t["jid"] == jid]
            assert ticks and ticks[-1]["finished"] and not any(t["finished"] for t in ticks[:-1])
            assert all(t["source"] == "wait_jobs" for t in ticks)
        long_job = max(ends.values(), key=lambda e: e["elapsed"])
        assert long_job["elapsed"] >= 3
        assert [e["handler"]["name"] for e in run.events_of("handler.queued", host=host)] == ["Jobs done"]
        assert len(run.events_of("handler.end", host=host)) == 1


def test_jobs_that_time_out(run_logged):
    run = run_logged("timeout.yml")
    for host in hosts_of(3):
        ends = {e["task"]["name"]: e for e in run.events_of("job.end", host=host)}
        polled = ends["Poll a job that needs longer than its limit"]
        assert polled["status"] == "timed_out" and polled["source"] == "core" and polled["ticks"] >= 1
        launched = ends["Launch a job that needs longer than its limit"]
        assert launched["status"] == "timed_out" and launched["source"] == "async_status"
        assert launched["elapsed"] < 20


def test_handlers_changed_versus_unchanged(run_logged):
    run = run_logged("handlers_changed.yml", hosts=4)
    assert sorted(e["host"] for e in run.events_of("handler.queued")) == ["host01", "host02"]
    suppressed = run.events_of("handler.suppressed")
    assert sorted(e["host"] for e in suppressed) == ["host03", "host04"]
    assert {e["reason"] for e in suppressed} == {"unchanged"}
    assert {e["handlers"][0]["name"] for e in suppressed} == {"Restart app"}
    for kind in ("handler.triggered", "handler.start", "handler.end"):
        assert sorted(e["host"] for e in run.events_of(kind)) == ["host01", "host02"], kind
    assert not run.events_of("handler.not_run")
    assert not any(e["forced"] for e in run.events_of("handler.start"))


def test_failed_host_without_force_handlers(run_logged):
    run = run_logged("handlers_failed_plain.yml", expect_rc=2)
    assert run.events_of("play.start")[0]["force_handlers"] == {"enabled": False, "source": "default"}
    assert sorted(e["host"] for e in run.events_of("handler.queued")) == hosts_of(3)
    assert sorted(e["host"] for e in run.events_of("handler.start")) == ["host01", "host03"]
    not_run = run.events_of("handler.not_run")
    assert [(e["host"], e["reason"], e["handler"]["name"]) for e in not_run] == [("host02", "host_failed", "Restart app")]


@pytest.mark.parametrize("how", ["cli", "play", "config"])
def test_failed_host_with_force_handlers(run_logged, tmp_path, how):
    kwargs = {}
    name = "handlers_failed_plain.yml"
    if how == "cli":
        kwargs["extra_args"] = ["--force-handlers"]
    elif how == "play":
        name = "handlers_failed_forced.yml"
    else:
        config = tmp_path / "ansible.cfg"
        config.write_text("[defaults]\nforce_handlers = True\n")
        kwargs["env"] = {"ANSIBLE_CONFIG": str(config)}
    run = run_logged(name, expect_rc=2, **kwargs)
    assert run.events_of("play.start")[0]["force_handlers"] == {"enabled": True, "source": how}
    starts = {e["host"]: e["forced"] for e in run.events_of("handler.start")}
    assert starts == {"host01": False, "host02": True, "host03": False}, run.explain()
    assert {e["host"]: e["forced"] for e in run.events_of("handler.end")} == starts
    assert not run.events_of("handler.not_run")


def test_listen_and_a_handler_notifying_a_handler(run_logged):
    run = run_logged("listen.yml", hosts=2)
    for host in hosts_of(2):
        queued = [(e["task"]["name"], e["notification"], e["handler"]["name"]) for e in run.events_of("handler.queued", host=host)]
        assert queued == [
            ("Deploy", "web changed", "Restart nginx"),
            ("Deploy", "web changed", "Restart app server"),
            ("Configure", "Reload config", "Reload config"),
            ("Reload config", "Warm caches", "Warm caches"),
        ]
        listening = [e["handler"] for e in run.events_of("handler.queued", host=host) if e["notification"] == "web changed"]
        assert all(h["listen"] == ["web changed"] for h in listening)
        ran = [e["handler"]["name"] for e in run.events_of("handler.end", host=host)]
        assert sorted(ran) == ["Reload config", "Restart app server", "Restart nginx", "Warm caches"]
        names = [e["handler"]["name"] for e in run.events_of("handler.triggered", host=host)]
        assert names.index("Warm caches") > names.index("Reload config")


def test_serial_batches(run_logged):
    run = run_logged("serial.yml", hosts=5)
    plays = run.events_of("play.start")
    assert [p["batch"] for p in plays] == [1, 2, 3] and {p["serial"][0] for p in plays} == {2}
    batches = {e["host"]: e["batch"] for e in run.events_of("task.start")}
    assert batches == {"host01": 1, "host02": 1, "host03": 2, "host04": 2, "host05": 3}
    assert sorted(e["host"] for e in run.events_of("handler.end")) == hosts_of(5)
    assert sorted(e["host"] for e in run.events_of("job.end", status="ok")) == hosts_of(5)


def test_free_strategy(run_logged):
    run = run_logged("free.yml", hosts=3)
    assert run.events_of("play.start")[0]["strategy"] == "free"
    for host in hosts_of(3):
        ends = {e["task"]["name"]: e for e in run.events_of("job.end", host=host)}
        assert set(ends) == {"Job as long as the host number", "Second job"}
        first = ends["Job as long as the host number"]
        assert first["elapsed"] >= int(host[-1]) + 1
        ticks = [t for t in run.events_of("job.poll", host=host) if t["jid"] == first["jid"]]
        assert all(t["task"]["name"] == "Job as long as the host number" for t in ticks)
        assert len(run.events_of("handler.end", host=host)) == 1


def test_no_log_sentinel_never_reaches_log_or_timeline(run_logged):
    run = run_logged("no_log.yml", hosts=2)
    with open(run.log_path, encoding="utf-8") as log:
        assert NO_LOG_SENTINEL not in log.read()
    with open(os.path.splitext(run.log_path)[0] + ".html", encoding="utf-8") as page:
        assert NO_LOG_SENTINEL not in page.read()
    # core censors no_log results before callbacks see them, job id included: a no_log poll: 0
    # launch cannot be followed, the polled job can (core's poll ticks carry the jid)
    ends = run.events_of("job.end")
    assert sorted(e["host"] for e in ends) == hosts_of(2)
    assert {e["task"]["name"] for e in ends} == {"Polled job with a secret"}
    assert {e["result"] for e in ends} == {"<hidden by no_log>"}
    assert {e["result"] for e in run.events_of("task.end")} == {"<hidden by no_log>"}
    assert len(run.events_of("handler.end")) == 2


def test_fanout_lanes_are_recorded(run_logged):
    run = run_logged("fanout.yml", hosts=3)
    assert run.events_of("play.start")[0]["strategy"] == "org.async_jobs.fanout"
    for host in hosts_of(3):
        lanes = {e["task"]["name"]: e.get("lane") for e in run.events_of("task.start", host=host)}
        assert lanes == {"Group 1": "Group 1", "Download group 2": "Group 2", "Build group 2": "Group 2"}, lanes
        ends = {e["task"]["name"]: e for e in run.events_of("job.end", host=host)}
        assert set(ends) == {"Group 1", "Download group 2"} and {e["status"] for e in ends.values()} == {"ok"}
        assert ends["Group 1"]["lane"] == "Group 1" and ends["Download group 2"]["lane"] == "Group 2"
        for name, end in ends.items():
            ticks = [t for t in run.events_of("job.poll", host=host) if t["jid"] == end["jid"]]
            assert end.get("reattributed") or all(t["task"]["name"] == name for t in ticks)
        assert len(run.events_of("handler.end", host=host)) == 1
