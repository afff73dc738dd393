# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""org.async_jobs.fanout end to end, over the SSH test hosts: lanes overlap, join, failures,
handlers, loops, run_once, serial batches, and the refusals."""

from __future__ import annotations

import datetime
import glob
import json
import os
import re

import pytest

RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)
QUIET = {"ANSIBLE_DEPRECATION_WARNINGS": "False"}
# a loopback address no test SSH server listens on: a host pointed at it is unreachable
GONE_ADDRESS = "127.0.0.250"


def recap(run):
    return {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(run.stdout)}


def records(record_dir, name="record"):
    found = {}
    for path in glob.glob(os.path.join(record_dir, "%s-*.json" % name)):
        host = os.path.basename(path)[len(name) + 1:-len(".json")]
        with open(path, encoding="utf-8") as handle:
            found[host] = json.load(handle)
    return found


def stamp(value):
    return datetime.datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f")


def overlap(first, second):
    """Seconds two command results ({start, end}) ran at the same time."""
    latest_start = max(stamp(first["start"]), stamp(second["start"]))
    earliest_end = min(stamp(first["end"]), stamp(second["end"]))
    return (earliest_end - latest_start).total_seconds()


def span(*results):
    return (max(stamp(r["end"]) for r in results) - min(stamp(r["start"]) for r in results)).total_seconds()


@pytest.fixture
def fanout_run(ansible_playbook, playbook, tmp_path):
    """fanout_run(name, inventory, *extra) -> (run, record_dir) for playbooks/fanout/<name>."""
    def run(name, inventory, *extra, env=None, log_path=None, answers=None):
        record_dir = tmp_path / ("records-" + name.replace(".yml", ""))
        record_dir.mkdir(exist_ok=True)
        args = ["-f", "20", "-e", "record_dir=%s" % record_dir, "-e", "run_tag=%s" % tmp_path.name] + list(extra)
        outcome = ansible_playbook.run(playbook(os.path.join("fanout", name)), inventory, extra_args=args,
                                       env=dict(QUIET, **(env or {})), log_path=log_path, answers=answers)
        return outcome, str(record_dir)
    return run


def test_library_groups_run_side_by_side_and_only_the_changed_lane_notifies(fanout_run, make_inventory, tmp_path):
    run, record_dir = fanout_run("library_groups.yml", make_inventory(3), log_path=str(tmp_path / "log.jsonl"))
    assert run.rc == 0, run.explain()
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02", "host03"], run.explain()
    for host, values in found.items():
        assert values["group1"]["stdout"] == "installed requests flask"
        assert values["group2"]["stdout"] == "numpy already present"
        assert values["group2_said"] == "numpy already present"  # registered earlier in the same lane
        # a 4 s lane and a 5 s lane ran side by side: each started before the other ended, so
        # both were done in less than the 9 s they take one after the other (launch latency of
        # an async task on a busy machine varies by seconds, so no tighter bound)
        assert overlap(values["group1"], values["group2"]) > 0.3, (host, values)
        assert span(values["group1"], values["group2"]) < 9, (host, values)
        assert values["restarted"] == "restarted", (host, values)  # lane 1 changed: handler ran
        assert values["reloaded"] is None, (host, values)  # lane 2 did not change: no handler
    assert run.stdout.count("RUNNING HANDLER [Restart app]") == 1, run.explain()
    assert "RUNNING HANDLER [Reload cache]" not in run.stdout
    assert "TASK [Library group 1]" in run.stdout and "TASK [Check group 2]" in run.stdout
    assert set(recap(run)) == {"host01", "host02", "host03"}
    assert all(counts["failed"] == 0 and counts["unreachable"] == 0 for counts in recap(run).values())
    if run.events:  # the async_log callback records each lane task's lane
        lanes = {event["task"]["name"]: event.get("lane") for event in run.events
                 if event.get("event") == "task.end" and event.get("task")}
        assert lanes.get("Library group 1") == "Library group 1", lanes
        assert lanes.get("Check group 2") == "Library group 2", lanes


def test_async_lanes_have_their_own_slots_other_lanes_obey_forks(fanout_run, make_inventory):
    run, record_dir = fanout_run("async_pool.yml", make_inventory(2), "--forks", "1")
    assert run.rc == 0, run.explain()
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02"], run.explain()
    asyncs = [values[name] for values in found.values() for name in ("async_a", "async_b")]
    syncs = [values[name] for values in found.values() for name in ("sync_c", "sync_d")]
    # the four 3 s async tasks ran at once with forks 1
    assert all(overlap(first, second) > 0.5 for first in asyncs for second in asyncs if first is not second), found
    # the four 1 s other tasks ran one at a time
    assert all(overlap(first, second) <= 0 for first in syncs for second in syncs if first is not second), found


def test_failures_in_lanes(fanout_run, make_inventory):
    run, record_dir = fanout_run("failures.yml", make_inventory(3))
    assert run.rc == 2, run.explain()
    counts = recap(run)
    # host01: a lane failed without rescue -> failed after the join; the always still ran
    assert counts["host01"]["failed"] == 1 and counts["host01"]["ignored"] == 1, run.explain()
    for host in ("host02", "host03"):
        assert counts[host]["failed"] == 0 and counts[host]["rescued"] == 2 and counts[host]["ignored"] == 1, run.explain()
    always = records(record_dir, "always")
    assert sorted(always) == ["host01", "host02", "host03"], run.explain()
    after = records(record_dir, "after")
    assert sorted(after) == ["host02", "host03"], run.explain()  # the failed host went no further
    for host in ("host02", "host03"):
        assert always[host] == {"lane_rescued": "Fail in a block lane", "other_lane_rescued": "Fail later in another block lane",
                                "other_lane_rc": 1, "ignored_rc": 1, "slow_rc": 0, "step1_rc": 0, "step2": "second"}, always[host]
    # on the failed host the lanes already running finished, and no new lane task started
    assert always["host01"]["slow_rc"] == 0 and always["host01"]["step1_rc"] == 0, always["host01"]
    assert always["host01"]["step2"] is None, always["host01"]


STEP_PROMPT = re.compile(r"Perform task: TASK: (.+?) \(N\)o/\(y\)es/\(c\)ontinue:")


@pytest.mark.parametrize("answers, asked, ran", [
    # a "no" for B1 skips it on both hosts; every task is asked about once, whatever the hosts
    ("y\nn\ny\ny\ny\n", ["Step A1", "Step B1", "Step A2", "Step after", "Record what this host registered"],
     {"a1": True, "a2": True, "b1": False, "after": True}),
    # skipping A1 moves lane A on to A2 at once; "continue" there ends step mode for the rest
    ("n\nc\n", ["Step A1", "Step A2"], {"a1": False, "a2": True, "b1": True, "after": True}),
])
def test_step_asks_once_per_lane_task_for_all_hosts(fanout_run, make_inventory, answers, asked, ran):
    run, record_dir = fanout_run("step.yml", make_inventory(2), "--step", answers=answers)
    assert run.rc == 0, run.explain()
    assert list(dict.fromkeys(STEP_PROMPT.findall(run.stdout))) == asked, run.explain()
    found = records(record_dir)
    assert found == {"host01": ran, "host02": ran}, run.explain()


def test_unreachable_host_stops_its_lanes_only(fanout_run, make_inventory):
    wrong_port = {"ansible_port": 1, "ansible_ssh_retries": 0, "ansible_ssh_timeout": 5}
    inventory = make_inventory(3, host_vars={"host03": wrong_port})
    run, record_dir = fanout_run("unreachable.yml", inventory)
    assert run.rc == 4, run.explain()
    counts = recap(run)
    # each lane task that was already running reports the host unreachable
    assert counts["host03"]["unreachable"] >= 1 and counts["host03"]["ok"] == 0, run.explain()
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02"], run.explain()
    assert all(values == {"one": 0, "two": "two"} for values in found.values()), found


def test_a_host_unreachable_mid_lane_lets_its_running_task_finish_and_starts_nothing_more(fanout_run, make_inventory, tmp_path):
    no_retries = {"ansible_ssh_retries": 0, "ansible_ssh_timeout": 5}
    inventory = make_inventory(3, host_vars={"host03": no_retries})
    run, record_dir = fanout_run("unreachable_mid_lane.yml", inventory, "-e", "gone_address=" + GONE_ADDRESS,
                                 log_path=str(tmp_path / "log.jsonl"))
    assert run.rc == 4, run.explain()
    counts = recap(run)
    # host03: both lanes' first tasks and the set_fact, then the unreachable task; nothing more
    assert counts["host03"] == {"ok": 3, "changed": 2, "unreachable": 1, "failed": 0, "skipped": 0,
                                "rescued": 0, "ignored": 0}, run.explain()
    assert all(counts[host]["unreachable"] == 0 and counts[host]["failed"] == 0 for host in ("host01", "host02")), counts
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02"], run.explain()
    assert all(values == {"one_first": 0, "one_second": "one", "two_after": "after"} for values in found.values()), found

    ends = {event["task"]["name"]: event for event in run.events_of("task.end", host="host03")}
    dropped = ends["Lane two after the drop"]
    assert dropped["status"] == "unreachable", dropped
    # lane one's first task was running on host03 when it dropped out: it finished and was reported
    assert ends["Lane one first"]["status"] == "changed" and ends["Lane one first"]["seq"] > dropped["seq"], ends
    started = {event["task"]["name"] for event in run.events_of("task.start", host="host03")}
    assert started == {"Lane one first", "Lane two first", "Host03 goes away", "Lane two after the drop"}, started
    # notified before it dropped out, host03's handler never runs; the others' do
    assert sorted(event["host"] for event in run.events_of("handler.end")) == ["host01", "host02"], run.events
    assert [event["handler"]["name"] for event in run.events_of("handler.not_run", host="host03")] == ["Lane one handler"]


def test_loops_until_run_once_become_delegate_throttle_in_lanes(fanout_run, make_inventory):
    run, record_dir = fanout_run("loops.yml", make_inventory(3))
    assert run.rc == 0, run.explain()
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02", "host03"], run.explain()
    for values in found.values():
        assert values["items"] == ["item 1", "item 2", "item 1"]
        assert values["counted"] == 3 and values["attempts"] == 3
        assert values["once"] == "once from host01" and values["seen_once"] == "once from host01"
        assert values["became"] == "root"
    assert [found[host]["delegated"] for host in sorted(found)] == ["%s via controller" % host for host in sorted(found)]
    throttled = [values["throttled"] for values in found.values()]
    assert all(overlap(first, second) <= 0 for first in throttled for second in throttled if first is not second), throttled
    # each item line is titled with its own task, however the lanes' results interleave
    banner = None
    for line in run.stdout.splitlines():
        if line.startswith("TASK ["):
            banner = line.split("]")[0] + "]"
        elif "=> (item=" in line:
            assert banner == "TASK [Async items]", run.explain()
    counts = recap(run)
    # run_once ran on the first host only, as linear counts it
    assert counts["host01"]["ok"] == counts["host02"]["ok"] + 1 == counts["host03"]["ok"] + 1, run.explain()


def test_fanout_blocks_in_a_role_and_a_dynamic_include(fanout_run, make_inventory):
    run, record_dir = fanout_run("roles_and_includes.yml", make_inventory(2))
    assert run.rc == 0, run.explain()
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02"], run.explain()
    for values in found.values():
        assert overlap(values["role_one"], values["role_two"]) > 0.3, values
        assert overlap(values["included_one"], values["included_two"]) > 0.3, values


def test_serial_batches_each_join(fanout_run, make_inventory):
    run, record_dir = fanout_run("serial.yml", make_inventory(3))
    assert run.rc == 0, run.explain()
    found = records(record_dir)
    assert sorted(found) == ["host01", "host02", "host03"], run.explain()
    assert found["host01"]["batch"] == ["host01", "host02"] and found["host03"]["batch"] == ["host03"]
    assert all(values["handled"] == "handled" for values in found.values())
    assert [values["lane_b"] for host, values in sorted(found.items())] == ["host01", "host02", "host03"]
    # the second batch started after the first one joined
    assert stamp(found["host03"]["lane_a"]["start"]) > stamp(found["host01"]["lane_a"]["end"])


def test_force_handlers_after_a_failed_lane(fanout_run, make_inventory):
    run, record_dir = fanout_run("force_handlers.yml", make_inventory(3))
    assert run.rc == 2, run.explain()
    assert recap(run)["host01"]["failed"] == 1, run.explain()
    handled = sorted(os.path.basename(path) for path in glob.glob(os.path.join(record_dir, "handler-*.txt")))
    assert handled == ["handler-host01.txt", "handler-host02.txt", "handler-host03.txt"], run.explain()


def test_any_errors_fatal_and_max_fail_percentage(fanout_run, make_inventory):
    run, record_dir = fanout_run("fatal.yml", make_inventory(3))
    assert run.rc == 2, run.explain()
    # any_errors_fatal: every host failed at the fan-out block, whose rescue ran everywhere
    assert sorted(records(record_dir, "rescue")) == ["host01", "host02", "host03"], run.explain()
    # max_fail_percentage: the play stopped after the join
    assert records(record_dir, "not-reached") == {}, run.explain()
    assert "NO MORE HOSTS LEFT" in run.stdout


@pytest.mark.parametrize("name, message, where", [
    ("refuse_include.yml", "include_tasks cannot run in a fan-out lane: task 'Dynamic include in a lane'", "refuse_include.yml:16"),
    ("refuse_meta.yml", "meta: flush_handlers cannot run in a fan-out lane: task 'Flush in a lane'", "refuse_meta.yml:18"),
    ("refuse_nested.yml", "Fan-out block 'Inner fan-out'", "refuse_nested.yml:14"),
])
def test_refusals_before_anything_runs(fanout_run, make_inventory, name, message, where):
    run, dummy = fanout_run(name, make_inventory(2))
    output = run.stdout + run.stderr
    assert run.rc != 0, run.explain()
    assert message in output and where in output, run.explain()
    assert "TASK [Before the fan-out block]" not in output, run.explain()
