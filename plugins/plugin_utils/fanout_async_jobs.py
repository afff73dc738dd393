# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pooled async lane tasks, for the ``org.async_jobs.fanout`` strategy.

An async lane task (``async`` > 0, ``poll`` > 0) is served in three internal steps, each a short
worker run, so no worker sleeps while its job runs:

launch
    a copy of the task with ``poll: 0`` and without ``register``, ``notify``, ``changed_when`` and
    ``failed_when``; its result (the job id) is taken off the results queue by the strategy.
poll
    per host, every poll interval, one run of ``org.async_jobs.fanout_async_job`` (``check``) that
    looks at all the host's pending jobs with one call of the ``org.async_jobs.wait_jobs`` module;
    still-running jobs become ``v2_runner_on_async_poll`` ticks.
finish
    when a job is over, a copy of the original task whose action is
    ``org.async_jobs.fanout_async_job`` (``result``) returning the job's final result, shaped as
    ansible-core's own polling returns it; the worker then applies ``changed_when``,
    ``failed_when`` and ``register``, and core's result processing notify, stats and callbacks.

This module holds the bookkeeping and the shaping of results; the strategy does the queueing.
"""

from __future__ import annotations

import time

from ansible_collections.org.async_jobs.plugins.module_utils.async_job_files import FINISHED, RUNNING, UNREADABLE

INTERNAL_ACTION = "org.async_jobs.fanout_async_job"

# why a task is not pooled (falls back to a worker that polls), for -vvv
NOT_POOLED_LOOP = "it loops"
NOT_POOLED_UNTIL = "it has until/retries"
NOT_POOLED_RUN_ONCE = "it runs once"
NOT_POOLED_DELEGATE = "it is delegated"
NOT_POOLED_CHECK_MODE = "it runs in check mode"
NOT_POOLED_THROTTLE = "it is throttled"


def not_pooled_reason(task, templar, play_context):
    """Why ``task`` (async and polling) cannot be pooled exactly, or None when it can."""
    if task.loop is not None or task.loop_with:
        return NOT_POOLED_LOOP
    if task.until or task.retries is not None:
        return NOT_POOLED_UNTIL
    if task.delegate_to:
        return NOT_POOLED_DELEGATE
    try:
        if templar.template(task.check_mode) or getattr(play_context, "check_mode", False):
            return NOT_POOLED_CHECK_MODE
        if int(templar.template(task.throttle) or 0) > 0:
            return NOT_POOLED_THROTTLE
    except Exception:  # pylint: disable=broad-exception-caught
        return NOT_POOLED_CHECK_MODE
    return None


def launch_copy(task):
    """The task as it launches its job: ``poll: 0``, nothing applied to the launch result."""
    copied = task.copy()
    copied.poll = 0
    copied.register = None
    copied.notify = None
    copied.changed_when = []
    copied.failed_when = []
    copied.ignore_errors = True
    return copied


def _internal_copy(copy_task, task, args):
    copied = copy_task(task, INTERNAL_ACTION, args)
    copied.poll = 0
    return copied


def poll_copy(copy_task, fresh_uuid, task, results_files):
    """One look at all the given job files of a host, run with the connection and become settings
    of ``task`` (a task whose job is among them); its result is internal."""
    copied = _internal_copy(copy_task, task, {"check": list(results_files)})
    fresh_uuid(copied)
    copied.async_val = 0
    copied.when = []
    copied.register = None
    copied.notify = None
    copied.changed_when = []
    copied.failed_when = []
    copied.ignore_errors = True
    copied.throttle = 0
    return copied


def finish_copy(copy_task, task, final, keep_when):
    """The original task, returning ``final`` instead of running its module; the worker applies
    changed_when, failed_when and register as for the task itself. ``keep_when``: let the worker
    evaluate ``when`` again (for a launch that was skipped), else it is not evaluated twice."""
    copied = _internal_copy(copy_task, task, {"result": final})
    if not keep_when:
        copied.when = []
    return copied


class Job:
    """One pending async job of one lane task on one host."""

    __slots__ = ("key", "jid", "results_file", "async_val", "poll", "started", "deadline", "ticks")

    def __init__(self, key, jid, results_file, async_val, poll, started=None):
        self.key = key  # (host name, task uuid): the lane task's in-flight key
        self.jid = jid
        self.results_file = results_file
        self.async_val = async_val
        self.poll = poll
        self.started = time.monotonic() if started is None else started
        self.deadline = self.started + async_val
        self.ticks = 0


class HostJobs:
    """The pending jobs of one host that one status call can look at (same connection and become
    settings), and when that call is due."""

    __slots__ = ("host", "jobs", "due", "polling", "checked_at")

    def __init__(self, host):
        self.host = host
        self.jobs = {}  # jid -> Job, in launch order
        self.due = None
        self.polling = None  # the in-flight poll task's key
        self.checked_at = None  # when the last status call was queued

    def add(self, job):
        self.jobs[job.jid] = job
        due = job.started + job.poll
        self.due = due if self.due is None else min(self.due, due)

    def reschedule(self, checked_at):
        """Next call one poll interval after the last one started, or at the first async limit."""
        if not self.jobs:
            self.due = None
            return
        interval = min(job.poll for job in self.jobs.values())
        deadline = min(job.deadline for job in self.jobs.values())
        self.due = min(checked_at + interval, deadline)


# variables that decide how a status call connects, as whom it reads the job files, and where
_CONNECTION_VARIABLE_PREFIXES = ("ansible_become", "ansible_user", "ansible_ssh", "ansible_remote",
                                 "ansible_connection", "ansible_host", "ansible_port", "ansible_password",
                                 "ansible_private_key", "ansible_async_dir", "ansible_python_interpreter",
                                 "ansible_sudo", "ansible_su")


def group_key(host, task, task_vars, results_file):
    """Jobs of a host are looked at together when their tasks connect and become alike, whether
    through keywords or variables, and their job files are in the same directory."""
    variables = tuple(sorted((name, repr(value)) for name, value in (task_vars or {}).items()
                             if name.startswith(_CONNECTION_VARIABLE_PREFIXES)))
    directory = str(results_file or "").rpartition("/")[0]
    return (host.name, directory, repr(task.become), repr(task.become_user), repr(task.become_method),
            repr(task.remote_user), repr(task.connection), repr(task.environment), variables)


def running_status(job):
    """What ansible-core's async_status gives for a job that still runs (a poll tick's result)."""
    return {"ansible_job_id": job.jid, "started": True, "finished": False, "results_file": job.results_file,
            "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": []}


def finished_result(job, job_result):
    """The final result of a finished job as ansible-core's polling (async_status) returns it."""
    final = {"started": True, "finished": True, "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": [],
             "results_file": job.results_file}
    data = dict(job_result or {})
    for stream in ("stdout", "stderr"):
        if isinstance(data.get(stream), str) and "%s_lines" % stream not in data:
            data["%s_lines" % stream] = data[stream].splitlines()
    final.update(data)
    final["ansible_job_id"] = job.jid
    final["finished"] = True
    final["started"] = bool(final.get("started", True))
    return final


def timed_out_result(job):
    """ansible-core's result for a job still running when its async limit is used up."""
    return {"failed": True, "async_result": running_status(job),
            "msg": "async task did not complete within the requested time - %ss" % job.async_val}


def failed_job_result(job, msg, **extra):
    result = {"failed": True, "msg": msg, "ansible_job_id": job.jid, "started": True, "finished": True,
              "results_file": job.results_file}
    result.update(extra)
    return result


def unreachable_job_result(job, status_result):
    """A job whose host could not be reached for a status call: reported at once, not waited for
    until its async limit; it may still run there, so the result says where to look for it."""
    reason = status_result.get("msg") or "Failed to connect to the host."
    result = dict(status_result, unreachable=True, ansible_job_id=job.jid, started=True, finished=False,
                  results_file=job.results_file)
    result["msg"] = "%s The async job %s may still be running there: its result will be in %s." % (
        reason.rstrip(), job.jid, job.results_file)
    return result


def classify(job, state, now):
    """What one look at a job means: ('running', status), ('over', final result) or
    ('timed_out', final result)."""
    kind = state.get("state")
    if kind == FINISHED:
        return "over", finished_result(job, state.get("result"))
    if kind in (RUNNING, UNREADABLE):
        # an unreadable file may be half written: core keeps polling it until the async limit
        if now >= job.deadline:
            return "timed_out", timed_out_result(job)
        return "running", running_status(job)
    return "over", failed_job_result(job, state.get("msg") or "The async job is in state %s." % kind)
