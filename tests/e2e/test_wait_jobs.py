# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""org.async_jobs.wait_jobs over real SSH hosts: many jobs per host, failures, a kill, a job left
running and collected later, become, a custom ansible_async_dir, handlers, clean-up."""

from __future__ import annotations

import json
import os
import re

HOSTS = ["host%02d" % n for n in range(1, 6)]


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_five_hosts(ansible_playbook, make_inventory, playbook, shared_dir):
    custom_dir = os.path.join(shared_dir, "async")
    inventory = make_inventory(5, host_vars={
        "host02": {"ansible_async_dir": custom_dir + "/host02"},
        "host05": {"ansible_async_dir": custom_dir + "/host05"},
    })
    run = ansible_playbook.run(playbook("wait_jobs/five_hosts.yml"), inventory,
                               extra_args=["-e", "e2e_dir=" + shared_dir, "--forks", "5"])
    assert run.rc == 0, run.explain()
    with open(os.path.join(shared_dir, "summary.json")) as summary_file:
        summary = json.load(summary_file)
    first = {host: summary[host]["first_wait"] for host in HOSTS}
    jobs = {host: first[host]["jobs"] for host in HOSTS}

    # Every job is reported in launch order, on every host.
    for host in HOSTS:
        assert [job["jid"] for job in jobs[host]] == summary[host]["launched"], host
        assert first[host]["ticks"][0]["elapsed"] == 0, host

    # host01: two changing jobs, started and waited for with become (root's async dir).
    assert not first["host01"]["failed"] and first["host01"]["changed"]
    assert [job["cmd"] for job in jobs["host01"]] == [["sleep", "2"], ["sleep", "3"]]
    assert all(job["results_file"].startswith("/root/.ansible_async/") for job in jobs["host01"])

    # host02: two jobs that change nothing, in a custom ansible_async_dir.
    assert not first["host02"]["failed"] and not first["host02"]["changed"]
    assert all(job["results_file"].startswith(custom_dir + "/host02/") for job in jobs["host02"])

    # host03: one job fails, the other is fine; the wait fails and says which.
    assert first["host03"]["failed"]
    assert [(job["failed"], job.get("rc")) for job in jobs["host03"]] == [(True, 3), (False, 0)]
    assert jobs["host03"][0]["jid"] in first["host03"]["msg"]

    # host04: the 60 s job is killed when the 5 s timeout runs out, with its whole tree.
    killed = jobs["host04"][1]
    assert killed["killed"] and killed["timed_out"] and killed["failed"] and jobs["host04"][0]["rc"] == 0
    assert killed["killed_pids"] and not [pid for pid in killed["killed_pids"] if alive(pid)]
    assert 5 <= first["host04"]["elapsed"] < 30

    # host05: the 25 s job is left running at the 4 s timeout, then collected by the next wait.
    left = jobs["host05"][1]
    assert left["timed_out"] and not left["finished"] and not left["killed"]
    second = summary["host05"]["second_wait"]
    assert [job["jid"] for job in second["jobs"]] == [left["jid"]]
    assert second["jobs"][0]["finished"] and second["jobs"][0]["changed"] and not second["failed"]
    assert all(summary[host]["second_wait"] is None for host in HOSTS[:4])

    # The handler ran exactly once on each host whose wait reported a change, and nowhere else.
    ran = {host: open(os.path.join(shared_dir, "handler-" + host)).read().count("ran")
           for host in HOSTS if os.path.exists(os.path.join(shared_dir, "handler-" + host))}
    assert ran == {"host01": 1, "host05": 1}, run.explain()

    # No job file is left anywhere, as the play saw it and as the file system says.
    for host in HOSTS:
        assert summary[host]["job_files_left"] == [], host
        for job in jobs[host]:
            assert not os.path.exists(job["results_file"]), job["results_file"]

    # One progress line per check and host, never "FAILED - RETRYING".
    assert "FAILED - RETRYING" not in run.stdout
    for host in HOSTS:
        checks = len(first[host]["ticks"]) + len((summary[host]["second_wait"] or {}).get("ticks", []))
        lines = re.findall(r"^\d+/\d+ jobs done on %s, \d+s$" % host, run.stdout, re.M)
        assert len(lines) == checks, (host, lines)
    assert len(first["host04"]["ticks"]) >= 2


def test_a_job_whose_wrapper_died_is_reported_at_once(ansible_playbook, make_inventory, playbook):
    marker = "wait-jobs-dead-%d" % os.getpid()
    run = ansible_playbook.run(playbook("wait_jobs/dead_wrapper.yml"), make_inventory(2), extra_args=["-e", "marker=" + marker])
    assert run.rc == 0, run.explain()
    assert "died without writing its result" in run.stdout
    assert run.seconds < 60, run.explain()


def test_delegated_jobs_are_waited_for_on_the_delegated_host(ansible_playbook, make_inventory, playbook, shared_dir):
    host02_dir = os.path.join(shared_dir, "host02-async")
    inventory = make_inventory(2, host_vars={"host02": {"ansible_async_dir": host02_dir}})
    run = ansible_playbook.run(playbook("wait_jobs/delegated.yml"), inventory, extra_args=["-e", "host02_async_dir=" + host02_dir])
    assert run.rc == 0, run.explain()
    assert os.listdir(host02_dir) == []
