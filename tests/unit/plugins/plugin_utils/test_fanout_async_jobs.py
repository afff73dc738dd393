# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bookkeeping and result shapes of the fanout strategy's pooled async lane tasks."""

from __future__ import annotations

import pytest

from ansible.playbook.task import Task

from ansible_collections.org.async_jobs.plugins.module_utils.async_job_files import FINISHED, RUNNING, UNREADABLE
from ansible_collections.org.async_jobs.plugins.plugin_utils import fanout_async_jobs as jobs


class _Host:
    name = "h1"


def job(started=100.0, async_val=30, poll=2):
    return jobs.Job(("h1", "uuid"), "j1.2", "/home/u/.ansible_async/j1.2", async_val, poll, started=started)


def test_finished_result_is_shaped_as_async_status_returns_it():
    final = jobs.finished_result(job(), {"rc": 0, "stdout": "a\nb", "changed": True, "cmd": "x"})
    assert final == {"started": True, "finished": True, "stdout": "a\nb", "stdout_lines": ["a", "b"], "stderr": "",
                     "stderr_lines": [], "rc": 0, "changed": True, "cmd": "x", "ansible_job_id": "j1.2",
                     "results_file": "/home/u/.ansible_async/j1.2"}


def test_an_unreachable_status_call_says_where_the_job_may_still_run():
    result = jobs.unreachable_job_result(job(), {"unreachable": True, "changed": False,
                                                 "msg": "Failed to connect to the host via ssh: refused"})
    assert result["unreachable"] is True and result["finished"] is False and result["ansible_job_id"] == "j1.2"
    assert result["msg"] == ("Failed to connect to the host via ssh: refused The async job j1.2 may still be running "
                             "there: its result will be in /home/u/.ansible_async/j1.2.")
    assert "Failed to connect to the host." in jobs.unreachable_job_result(job(), {"unreachable": True})["msg"]


@pytest.mark.parametrize("state, now, outcome", [
    ({"state": RUNNING}, 110.0, "running"),
    ({"state": UNREADABLE}, 110.0, "running"),
    ({"state": RUNNING}, 130.0, "timed_out"),
    ({"state": FINISHED, "result": {"rc": 1, "failed": True}}, 140.0, "over"),
    ({"state": "dead", "msg": "The job died"}, 110.0, "over"),
])
def test_classify(state, now, outcome):
    found, value = jobs.classify(job(), state, now)
    assert found == outcome
    if outcome == "running":
        assert value["ansible_job_id"] == "j1.2" and value["finished"] is False
    elif outcome == "timed_out":
        assert value["failed"] and value["msg"] == "async task did not complete within the requested time - 30s"
        assert value["async_result"]["ansible_job_id"] == "j1.2"
    else:
        assert value["failed"] and value["ansible_job_id"] == "j1.2"


def test_one_status_call_per_interval_and_one_at_the_async_limit():
    group = jobs.HostJobs(_Host())
    group.add(job(started=100.0, async_val=30, poll=2))
    group.add(jobs.Job(("h1", "other"), "j3.4", "/x/j3.4", 5, 3, started=101.0))
    assert group.due == 102.0  # the first poll interval after the first launch
    group.reschedule(102.0)
    assert group.due == 104.0  # the shortest interval of the pending jobs
    group.reschedule(104.5)
    assert group.due == 106.0  # the second job's async limit comes first
    del group.jobs["j3.4"]
    group.reschedule(106.0)
    assert group.due == 108.0
    group.jobs.clear()
    group.reschedule(108.0)
    assert group.due is None


def test_copies_of_the_task():
    task = Task.load({"name": "t", "ansible.builtin.command": "sleep 1", "async": 10, "poll": 2, "register": "r",
                      "notify": ["h"], "changed_when": "false", "when": "true"})

    def copy_task(source, action, args):
        copied = source.copy()
        copied.action, copied.args = action, args
        return copied

    launch = jobs.launch_copy(task)
    assert launch.poll == 0 and launch.register is None and launch.notify is None and launch.changed_when == []
    assert launch.when == task.when and launch.async_val == 10

    poll = jobs.poll_copy(copy_task, lambda copied: setattr(copied, "_uuid", "fresh"), task, ["/x/j1"])
    assert poll.action == jobs.INTERNAL_ACTION and poll.args == {"check": ["/x/j1"]} and poll._uuid == "fresh"
    assert poll.async_val == 0 and poll.poll == 0 and poll.when == [] and poll.register is None

    finish = jobs.finish_copy(copy_task, task, {"rc": 0}, keep_when=False)
    assert finish.action == jobs.INTERNAL_ACTION and finish.args == {"result": {"rc": 0}} and finish.poll == 0
    assert finish.register == task.register and finish.notify == ["h"] and finish.changed_when == task.changed_when and finish.when == []
    assert jobs.finish_copy(copy_task, task, {"skipped": True}, keep_when=True).when == task.when


def test_not_pooled_reasons():
    class Templar:
        @staticmethod
        def template(value):
            return value

    class PlayContext:
        check_mode = False

    def reason(**keywords):
        data = {"ansible.builtin.command": "sleep 1", "async": 10, "poll": 2}
        data.update(keywords)
        return jobs.not_pooled_reason(Task.load(data), Templar(), PlayContext())

    assert reason() is None
    assert reason(loop=[1, 2]) == jobs.NOT_POOLED_LOOP
    assert reason(until="r is success", register="r") == jobs.NOT_POOLED_UNTIL
    assert reason(delegate_to="localhost") == jobs.NOT_POOLED_DELEGATE
    assert reason(check_mode=True) == jobs.NOT_POOLED_CHECK_MODE
    assert reason(throttle=1) == jobs.NOT_POOLED_THROTTLE


def test_jobs_are_looked_at_together_only_when_they_connect_become_and_live_alike():
    plain = Task.load({"name": "a", "command": "sleep 1"})
    host = _Host()
    login_vars = {"ansible_user": "u", "inventory_hostname": "h1", "unrelated": 1}
    key = jobs.group_key(host, plain, login_vars, "/home/u/.ansible_async/j1.1")
    assert key == jobs.group_key(host, plain, dict(login_vars, unrelated=2), "/home/u/.ansible_async/j2.2")
    # become through a variable rather than the keyword
    assert key != jobs.group_key(host, plain, dict(login_vars, ansible_become=True), "/home/u/.ansible_async/j2.2")
    # another async dir
    assert key != jobs.group_key(host, plain, login_vars, "/tmp/other_async/j2.2")
    become = Task.load({"name": "b", "command": "sleep 1", "become": True})
    assert key != jobs.group_key(host, become, login_vars, "/home/u/.ansible_async/j2.2")
