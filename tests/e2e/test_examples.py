# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every example of examples/ (the source note's points) run against the SSH hosts, with the
outcome each one promises checked in its async log, so that none of them rots."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import COLLECTION_ROOT

EXAMPLES = os.path.join(COLLECTION_ROOT, "examples")
HOSTS = ["host01", "host02", "host03"]


def ts(event):
    return datetime.datetime.strptime(event["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")


def command_span(result):
    """When a command ran on the host, from its own start and end stamps."""
    return tuple(datetime.datetime.strptime(result[key], "%Y-%m-%d %H:%M:%S.%f") for key in ("start", "end"))


def overlap(first, second):
    return first[0] < second[1] and second[0] < first[1]


def wait_for_job_result(path, timeout=120):
    """Wait until an async job file holds the job's result (async_wrapper first writes a
    "started" placeholder, then replaces it with the module's result)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8") as job_file:
                if "started" not in json.load(job_file):
                    return True
        except (OSError, ValueError):
            pass  # not there yet, or being replaced
        time.sleep(0.2)
    return False


def names(events):
    return sorted((event.get("host"), ((event.get("handler") or event.get("task")) or {}).get("name")) for event in events)


@pytest.fixture
def example(ansible_playbook, make_inventory, tmp_path, shared_dir):
    """example("name.yml", *args, env=None) runs an example on three SSH hosts, each with its own
    directory and async dir (the hosts are one machine and one login account)."""
    root = shared_dir
    inventory = make_inventory(len(HOSTS))
    runs = []

    def run(name, *args, env=None):
        log_path = str(tmp_path / ("log-%d.jsonl" % len(runs)))
        extra = ["-e", "example_hosts=targets", "-e", "async_jobs_example_root=%s" % root,
                 "-e", "ansible_async_dir=%s/{{ inventory_hostname }}/async" % root] + list(args)
        outcome = ansible_playbook.run(os.path.join(EXAMPLES, name), inventory, extra_args=extra, env=env, log_path=log_path)
        runs.append(outcome)
        return outcome

    run.root = root
    return run


def test_run_and_check_later_shows_every_poll_tick(example):
    run = example("run_and_check_later.yml")
    assert run.rc == 0, run.explain()
    for host in HOSTS:
        ticks = [event for event in run.events_of("job.poll", host=host) if event["task"]["name"] == "Start monitoring"]
        # a 5 s job polled every second (each check a round trip of its own): several ticks, numbered from 1
        assert len(ticks) >= 2, run.explain()
        assert [event["tick"] for event in ticks] == list(range(1, len(ticks) + 1))
        ends = [event for event in run.events_of("job.end", host=host) if event["task"]["name"] == "Start monitoring"]
        assert [event["status"] for event in ends] == ["ok"]
    assert "probes, 0 down" in run.stdout


# longer groups than the example's 3 s and 5 s, so that the second launch of the loop comes
# well before the first group ends however slow the hosts are
SLOW_LIBRARY_GROUPS = json.dumps({"library_groups": [
    {"name": "group1", "seconds": 8, "packages": ["requests", "urllib3"]},
    {"name": "group2", "seconds": 10, "packages": ["flask", "jinja2"]},
]})


def test_several_at_once_with_wait_jobs_notifies_only_on_change(example):
    first = example("several_at_once_wait_jobs.yml", "-e", SLOW_LIBRARY_GROUPS)
    assert first.rc == 0, first.explain()
    assert names(first.events_of("handler.start")) == [(host, "Restart app") for host in HOSTS], first.explain()
    waits = [event for event in first.events_of("task.end") if event["task"]["name"] == "Wait for both groups"]
    assert len(waits) == len(HOSTS)
    for wait in waits:
        # both groups ran at the same time on the host, and one task waited for both
        group1, group2 = (command_span(job) for job in wait["result"]["jobs"])
        assert overlap(group1, group2), wait["result"]["jobs"]

    second = example("several_at_once_wait_jobs.yml", "-e", SLOW_LIBRARY_GROUPS)
    assert second.rc == 0, second.explain()
    assert second.events_of("handler.start") == [], second.explain()
    assert {event["reason"] for event in second.events_of("handler.suppressed")} == {"unchanged"}


def test_several_at_once_with_fanout_runs_the_groups_side_by_side(example):
    first = example("several_at_once_fanout.yml")
    assert first.rc == 0, first.explain()
    assert names(first.events_of("handler.start")) == [(host, "Restart app") for host in HOSTS], first.explain()
    for host in HOSTS:
        lanes = [event for event in first.events_of("task.end", host=host) if event.get("lane") is not None]
        assert len({event["lane"] for event in lanes}) == 2, lanes
        # the two groups' commands ran at the same time on the host
        group1, group2 = (command_span(event["result"]) for event in lanes)
        assert overlap(group1, group2), lanes

    second = example("several_at_once_fanout.yml")
    assert second.rc == 0, second.explain()
    assert second.events_of("handler.start") == [], second.explain()


def test_fire_and_forget_leaves_files_that_housekeeping_cleans(example):
    first = example("fire_and_forget.yml")
    assert first.rc == 0, first.explain()
    launched = {event["host"]: event["jid"] for event in first.events_of("job.start")}
    assert sorted(launched) == HOSTS
    for host, jid in launched.items():
        assert os.path.exists(os.path.join(example.root, host, "async", jid))
    for host, jid in launched.items():
        assert wait_for_job_result(os.path.join(example.root, host, "async", jid)), "job %s on %s never finished" % (jid, host)
    later = example("fire_and_forget.yml", "-e", "async_jobs_forgotten_age=0s")
    assert later.rc == 0, later.explain()
    assert "finished job(s) cleaned up" in later.stdout
    for host, jid in launched.items():
        assert not os.path.exists(os.path.join(example.root, host, "async", jid)), later.explain()


def test_handler_fires_when_the_install_finished_not_when_it_launched(example):
    first = example("handler_on_completion.yml", "-e", "example_become=true")
    assert first.rc == 0, first.explain()
    for host in HOSTS:
        install_end = [event for event in first.events_of("job.end", host=host) if event["task"]["name"] == "Install httpd"]
        restarts = [event for event in first.events_of("handler.start", host=host) if event["handler"]["name"] == "Restart HTTPD"]
        assert len(install_end) == 1 and len(restarts) == 1, first.explain()
        assert ts(restarts[0]) >= ts(install_end[0])
        # the handler notified a handler
        assert [event["handler"]["name"] for event in first.events_of("handler.start", host=host)] == ["Restart HTTPD", "Show the restart"]
        with open(os.path.join(example.root, host, "httpd", "service", "restarts")) as restarts_file:
            assert restarts_file.read().strip() == "1"

    second = example("handler_on_completion.yml", "-e", "example_become=true")
    assert second.rc == 0, second.explain()
    assert second.events_of("handler.start") == []
    assert {event["reason"] for event in second.events_of("handler.suppressed") if event["task"]["name"] == "Install httpd"} == {"unchanged"}


@pytest.mark.parametrize("how", ["not forced", "--force-handlers", "play keyword", "ansible.cfg"])
def test_force_handlers_three_ways(example, how):
    env, args, playbook = None, [], "force_handlers.yml"
    if how == "--force-handlers":
        args = ["--force-handlers"]
    elif how == "play keyword":
        playbook = "force_handlers_play_keyword.yml"
    elif how == "ansible.cfg":
        env = {"ANSIBLE_CONFIG": os.path.join(EXAMPLES, "force_handlers.cfg")}
    run = example(playbook, *args, env=env)
    assert run.rc == 2, run.explain()  # the hosts failed either way
    started = run.events_of("handler.start")
    if how == "not forced":
        assert started == [], run.explain()
        assert names(run.events_of("handler.not_run")) == [(host, "Restart HTTPD") for host in HOSTS]
        assert {event["reason"] for event in run.events_of("handler.not_run")} == {"host_failed"}
    else:
        assert names(started) == [(host, "Restart HTTPD") for host in HOSTS], run.explain()
        assert all(event["forced"] is True for event in started)
        source = {"--force-handlers": "cli", "play keyword": "play", "ansible.cfg": "config"}[how]
        assert [event["force_handlers"]["source"] for event in run.events_of("play.start")] == [source]


def test_the_demo_runs_the_two_groups_side_by_side_and_prints_its_summary(collections_path, tmp_path):
    """What `make demo` runs, on localhost, with its output in a scratch directory."""
    out = tmp_path / "demo"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="False",
               ASYNC_JOBS_DEMO_OUT=str(out))
    demo = subprocess.run([sys.executable, os.path.join(EXAMPLES, "run_demo.py")], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=900, check=False)
    assert demo.returncode == 0, demo.stdout[-6000:] + demo.stderr[-4000:]
    summary = demo.stdout[demo.stdout.index("== What happened"):]
    lanes = re.findall(r"^  lane (Library group \d) +([0-9.]+) s  \((.*)\)$", summary, re.M)
    assert [(lane, tasks) for lane, dummy, tasks in lanes] == [
        ("Library group 1", "Install requests, Group 1 post-install script"),
        ("Library group 2", "Install flask, Group 2 post-install script"),
    ], summary
    block, linear = (float(value) for value in re.search(
        r"the fan-out block took ([0-9.]+) s; one lane after the other \(linear\) would take ([0-9.]+) s", summary).groups())
    # side by side: the block took about as long as its longest lane, well short of their sum
    assert block < linear and block < max(float(seconds) for dummy, seconds, dummy in lanes) + 0.5 * min(
        float(seconds) for dummy, seconds, dummy in lanes), summary
    assert re.findall(r"^  handler\.(\w+) +Restart the application on localhost$", summary, re.M) == [
        "queued", "queued", "triggered", "start", "end"], summary
    jobs = re.search(r"jobs: (\d+) started, (\d+) poll ticks, (\d+) ended", summary).groups()
    assert jobs[0] == jobs[2] == "4" and int(jobs[1]) >= 2, summary
    assert (out / "async_log.jsonl").is_file() and (out / "async_log.html").is_file(), summary
    assert 'data-host="localhost"' in (out / "async_log.html").read_text(encoding="utf-8"), summary


@pytest.mark.parametrize("name, args, config, rc", [
    ("run_and_check_later.yml", [], "ansible.cfg", 0),
    ("several_at_once_wait_jobs.yml", [], "ansible.cfg", 0),
    ("several_at_once_fanout.yml", [], "ansible.cfg", 0),
    ("fire_and_forget.yml", [], "ansible.cfg", 0),
    ("handler_on_completion.yml", [], "ansible.cfg", 0),
    ("force_handlers.yml", ["--force-handlers"], "ansible.cfg", 2),
    ("force_handlers_play_keyword.yml", [], "ansible.cfg", 2),
    ("force_handlers.yml", [], "force_handlers.cfg", 2),
])
def test_each_example_runs_on_localhost_with_its_own_config(ansible_playbook, tmp_path, name, args, config, rc):
    """As the README says to run them: `cd examples && ansible-playbook NAME.yml`, against the
    localhost inventory of examples/ansible.cfg (its collections path is overridden here by the
    session's), files and job files kept in a scratch directory."""
    log_path = str(tmp_path / "log.jsonl")
    extra = ["-e", "async_jobs_example_root=%s" % tmp_path, "-e", "ansible_async_dir=%s/async" % tmp_path] + args
    run = ansible_playbook.run(os.path.join(EXAMPLES, name), os.path.join(EXAMPLES, "inventory.ini"), extra_args=extra,
                               env={"ANSIBLE_CONFIG": os.path.join(EXAMPLES, config), "ANSIBLE_DEPRECATION_WARNINGS": "False"},
                               log_path=log_path)
    assert run.rc == rc, run.explain()
    assert {event["host"] for event in run.events_of("task.end")} == {"localhost"}, run.explain()
    if rc == 2:
        # the host failed, and the handler ran anyway, forced
        assert [event["forced"] for event in run.events_of("handler.start")] == [True], run.explain()
