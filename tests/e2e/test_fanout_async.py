# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""org.async_jobs.fanout's pooled async lane tasks end to end, over the SSH test hosts: the same
results as linear, poll ticks in the callbacks, one status call per host per interval, async
limits, dead jobs, unreachable hosts, and the tasks that fall back to a worker that polls."""

from __future__ import annotations

import collections
import datetime
import glob
import json
import os
import re
import sys

import pytest

RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)
QUIET = {"ANSIBLE_DEPRECATION_WARNINGS": "False"}
# what differs between two runs of the same job whatever the strategy
RUN_SPECIFIC = frozenset(("ansible_job_id", "results_file", "start", "end", "delta"))
STATUS_CALL = re.compile(r"^<(?P<address>[0-9.]+)> PUT \S+ TO \S+/AnsiballZ_(?P<module>wait_jobs|async_status)\.py$", re.M)
ASYNC_TASKS = ("Sleeper A", "Unchanged B", "Failing C", "Failing D")
CUTTABLE_PROXY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cuttable_proxy.py")


def recap(run):
    return {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(run.stdout)}


def records(record_dir):
    found = {}
    for path in glob.glob(os.path.join(record_dir, "record-*.json")):
        with open(path, encoding="utf-8") as handle:
            found[os.path.basename(path)[len("record-"):-len(".json")]] = json.load(handle)
    return found


def stamp(value):
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def comparable(value):
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items() if key not in RUN_SPECIFIC}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


@pytest.fixture
def async_run(ansible_playbook, playbook, tmp_path):
    """async_run(name, inventory, *extra, tag=...) -> (run, records) for playbooks/fanout_async/<name>."""
    def run(name, inventory, *extra, tag="fanout", env=None, log_path=None):
        record_dir = tmp_path / ("records-%s-%s" % (name.replace(".yml", ""), tag))
        record_dir.mkdir(exist_ok=True)
        args = ["-f", "10", "-e", "record_dir=%s" % record_dir, "-e", "run_tag=%s-%s" % (tmp_path.name, tag)] + list(extra)
        outcome = ansible_playbook.run(playbook(os.path.join("fanout_async", name)), inventory, extra_args=args,
                                       env=dict(QUIET, **(env or {})), log_path=log_path)
        return outcome, records(str(record_dir))
    return run


def test_async_lanes_report_what_linear_reports(async_run, make_inventory, tmp_path):
    inventory = make_inventory(3)
    fanout, fanout_records = async_run("lanes.yml", inventory, "-vvv", log_path=str(tmp_path / "log.jsonl"))
    linear, linear_records = async_run("lanes.yml", inventory, "-e", "strategy=linear", tag="linear")
    assert fanout.rc == 0, fanout.explain()
    assert linear.rc == 0, linear.explain()
    assert sorted(fanout_records) == ["host01", "host02", "host03"], fanout.explain()
    # register, changed_when, failed_when, ignore_errors and when: the same values
    assert comparable(fanout_records) == comparable(linear_records)
    for values in fanout_records.values():
        assert values["a"]["changed"] and not values["b"]["changed"] and values["c"]["rc"] == 3
        assert values["skipped_c"]["skipped"] and values["d"]["failed"]
    # stats and handlers: Sleeper A changed and notified, Unchanged B did not
    assert recap(fanout) == recap(linear), fanout.stdout + linear.stdout
    for run in (fanout, linear):
        assert run.stdout.count("RUNNING HANDLER [Handler A]") == 1, run.explain()
        assert "RUNNING HANDLER [Handler B]" not in run.stdout, run.explain()
    # callbacks see each task's own name and action, never the internal one
    assert "fanout_async_job" not in fanout.stdout.replace("AnsiballZ_wait_jobs", "")
    ends = [event for event in fanout.events if event["event"] == "task.end" and event["task"]["name"] in ASYNC_TASKS]
    assert {(event["host"], event["task"]["name"]) for event in ends} == \
        {(host, name) for host in fanout_records for name in ASYNC_TASKS if name != "Skipped C"}
    assert {event["task"]["action"] for event in ends} == {"ansible.builtin.command", "ansible.builtin.shell"}

    # poll ticks reach callbacks, attributed to their task and host
    ticks = [event for event in fanout.events if event["event"] == "job.poll"]
    job_ends = {(event["host"], event["jid"]): event["task"]["name"] for event in fanout.events if event["event"] == "job.end"}
    assert len(job_ends) == 3 * len(ASYNC_TASKS), fanout.events
    for tick in ticks:
        assert job_ends[(tick["host"], tick["jid"])] == tick["task"]["name"], tick
    for host in fanout_records:
        assert any(tick["host"] == host and tick["task"]["name"] == "Sleeper A" for tick in ticks), (host, ticks)

    # one status call per host per poll interval (1 s), for all of the host's jobs together
    calls = collections.Counter(match["address"] for match in STATUS_CALL.finditer(fanout.stdout) if match["module"] == "wait_jobs")
    assert not [match for match in STATUS_CALL.finditer(fanout.stdout) if match["module"] == "async_status"]
    assert len(calls) == 3, calls
    addresses = {host: "127.0.0.%d" % (int(host[len("host"):]) + 1) for host in fanout_records}
    for host, address in addresses.items():
        stamps = [stamp(event["ts"]) for event in fanout.events
                  if event.get("host") == host and event["event"] in ("task.start", "task.end") and event["task"]["name"] in ASYNC_TASKS]
        seconds = (max(stamps) - min(stamps)).total_seconds()
        assert 2 <= calls[address] <= seconds / 1 + 2, (host, calls[address], seconds)
    # polling each job on its own takes one call per tick and one per job at its end
    assert sum(calls.values()) < len(ticks) + len(job_ends), (calls, len(ticks), len(job_ends))


def test_launch_failure_async_limit_until_and_loops(async_run, make_inventory):
    run, found = async_run("edge.yml", make_inventory(2))
    assert run.rc == 0, run.explain()
    assert sorted(found) == ["host01", "host02"], run.explain()
    for values in found.values():
        # an action that cannot run async fails at the launch, as in linear
        assert values["no_start"]["failed"] and "does not support async" in values["no_start"]["msg"]
        # a job that outlives its async limit fails with core's message (or async_wrapper's, if it
        # killed the job first, as it can under linear too)
        assert values["too_long"]["failed"], values["too_long"]
        assert values["too_long"]["msg"] in ("async task did not complete within the requested time - 3s", "Timeout exceeded")
        # until re-launches the job: served by a worker that polls, as in linear
        assert values["until_loop"]["attempts"] == 2 and values["until_loop"]["stdout"] == "2", values["until_loop"]
        # loops too
        assert [item["rc"] for item in values["looped"]["results"]] == [0, 0]
        assert all(item["finished"] for item in values["looped"]["results"])


def test_a_dead_job_is_reported_not_waited_for(async_run, make_inventory):
    run, found = async_run("dead.yml", make_inventory(2), "-e", "marker=fanout-async-dead-%d" % os.getpid())
    assert run.rc == 0, run.explain()
    assert sorted(found) == ["host01", "host02"], run.explain()
    for values in found.values():
        assert values["killer"].startswith("killed: "), values
        assert values["doomed"]["failed"] and "died without writing its result" in values["doomed"]["msg"], values
    assert run.seconds < 60, run.explain()  # the job's async limit is 120 s


def test_an_unreachable_host_is_reported_not_waited_for(async_run, make_inventory):
    wrong_port = {"ansible_port": 1, "ansible_ssh_retries": 0, "ansible_ssh_timeout": 5}
    run, found = async_run("lanes.yml", make_inventory(3, host_vars={"host03": wrong_port}))
    assert run.rc == 4, run.explain()
    counts = recap(run)
    assert counts["host03"]["unreachable"] >= 1 and counts["host03"]["ok"] == 0, run.explain()
    assert sorted(found) == ["host01", "host02"], run.explain()
    assert all(values["a"]["changed"] and values["c"]["rc"] == 3 for values in found.values()), found


def test_a_host_unreachable_while_its_job_is_polled_is_reported_then(async_run, make_inventory, ssh_hosts, tmp_path):
    cut_file = tmp_path / "host03-cut"
    proxy = "%s %s %%h %%p %s" % (sys.executable, CUTTABLE_PROXY, cut_file)
    # common args, not ssh_extra_args: sftp and scp connections must go through the proxy too; and
    # a control path of its own, so that no master an earlier test left to host03 is reused
    common_args = '%s -o "ProxyCommand=%s"' % (ssh_hosts.connection_vars()["ansible_ssh_common_args"], proxy)
    host03 = {"ansible_ssh_common_args": common_args, "ansible_control_path": "%(directory)s/cut-%%C",
              "ansible_ssh_retries": 0, "ansible_ssh_timeout": 5}
    run, found = async_run("unreachable_while_polled.yml", make_inventory(3, host_vars={"host03": host03}),
                           "-e", "cut_file=%s" % cut_file, log_path=str(tmp_path / "log.jsonl"))
    assert run.rc == 4, run.explain()
    counts = recap(run)
    assert counts["host03"]["unreachable"] == 1 and counts["host03"]["failed"] == 0, run.explain()
    assert sorted(found) == ["host01", "host02"], run.explain()
    assert all(values["long_job"]["rc"] == 0 and values["long_job"]["finished"] for values in found.values()), found
    ends = {(event["host"], event["task"]["name"]): event for event in run.events_of("task.end")}
    dropped = ends[("host03", "Long job")]
    assert dropped["status"] == "unreachable", dropped
    # the job was polled on host03 before it dropped out, and reported as soon as it had: long
    # before the jobs of the other hosts (same 15 s command, started together) ended
    assert any(tick["host"] == "host03" for tick in run.events_of("job.poll")), run.events
    assert all(dropped["seq"] < ends[(host, "Long job")]["seq"] for host in ("host01", "host02")), ends
    assert ends[("host03", "Cut host03 off")]["seq"] < dropped["seq"], ends
    # the job may still run there: the result says which, and where its result will be
    assert dropped["result"]["ansible_job_id"] == run.events_of("job.start", host="host03")[0]["jid"], dropped
    assert "may still be running there" in dropped["result"]["msg"], dropped


def test_pooled_jobs_with_and_without_become_are_found_and_cleaned_up(async_run, make_inventory, tmp_path):
    run, found = async_run("become.yml", make_inventory(2), "-vvv", log_path=str(tmp_path / "log.jsonl"))
    assert run.rc == 0, run.explain()
    assert sorted(found) == ["host01", "host02"], run.explain()
    login_user = {values["as_login"]["stdout"] for values in found.values()}
    assert login_user != {"root"} and len(login_user) == 1, found
    for values in found.values():
        for as_root in ("as_root", "as_root_by_var"):
            assert values[as_root]["stdout"] == "root" and values[as_root]["finished"], values
            assert values[as_root]["results_file"].startswith("/root/"), values
        assert not values["as_login"]["results_file"].startswith("/root/"), values
        assert values["left"] == [False, False, False], values
    # served by pooled status calls (a become one and a plain one per host), never by async_status
    modules = [match["module"] for match in STATUS_CALL.finditer(run.stdout)]
    assert modules and set(modules) == {"wait_jobs"}, modules
    assert {event["source"] for event in run.events_of("job.poll")} <= {"core"}, run.events_of("job.poll")


def test_pooled_async_off_keeps_a_worker_per_task(async_run, make_inventory):
    run, found = async_run("lanes.yml", make_inventory(2), "-vvv", env={"ANSIBLE_FANOUT_POOLED_ASYNC": "false"})
    assert run.rc == 0, run.explain()
    assert sorted(found) == ["host01", "host02"], run.explain()
    modules = {match["module"] for match in STATUS_CALL.finditer(run.stdout)}
    assert modules == {"async_status"}, modules
