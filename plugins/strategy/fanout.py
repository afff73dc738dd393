# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fanout
short_description: Linear, plus fan-out blocks whose children run side by side on each host
version_added: 0.1.0
description:
  - Runs a play exactly as the builtin P(ansible.builtin.linear#strategy) strategy does, except
    for fan-out blocks.
  - A fan-out block is a block whose own C(vars) set C(fanout) to V(true) (inherited variables do
    not count). Each direct child of its C(block) list is a lane; a task child is a lane of one task,
    a block child is a lane that runs its tasks in order with its own C(rescue) and C(always).
    The children one static C(import_tasks) or C(import_role) expands into stay one lane.
  - On every host all lanes start at once; within a lane tasks run in order and see the registered
    variables of earlier tasks of the lane. The play moves past the fan-out block when every lane on
    every host of the batch is done; then every lane's registered variables are visible.
  - Lane tasks that are async and poll (C(async) > 0 and C(poll) > 0) hold no worker while their
    job runs (O(pooled_async)) - the job is launched as if C(poll) were V(0), all pending jobs of a
    host are looked at with one status call per poll interval, and when a job is over the task's
    result is delivered as ansible-core's own polling would have it, so C(register),
    C(changed_when), C(failed_when), C(notify), the stats and the callbacks see what linear would
    show. Poll ticks reach callbacks as C(v2_runner_on_async_poll) for the task and host.
    Job files are removed when a job is over; a job still running at its C(async) limit fails
    with ansible-core's message; a job whose processes died is reported at the next look, and an
    unreachable host at once.
  - The launch, the looks and the deliveries are short worker runs, at most C(forks) of them at
    once (at least 4, at most O(async_slots)), whatever the number of jobs. Async lane
    tasks that cannot be served this way run in a worker that polls, in their own pool of worker
    slots (O(async_slots)) - tasks with a C(loop), with C(until) or C(retries), C(run_once),
    C(delegate_to), C(throttle), and tasks in check mode. All other lane tasks obey C(forks) and
    C(throttle).
  - A failed task ends its lane on that host unless C(ignore_errors) or the lane's own C(rescue)
    handles it. No new lane task starts on a host after an unhandled failure there; tasks already
    running finish and are reported. After the join the host is failed at the fan-out block, so the
    block's own C(rescue)/C(always), C(any_errors_fatal) and C(max_fail_percentage) apply as in
    linear. An unreachable host stops its lanes. In a lane's own C(rescue), C(ansible_failed_task)
    and C(ansible_failed_result) are those of that lane's failure, even when another lane of the
    host failed meanwhile. The recap counts every lane task that failed, so a host where two
    lanes failed shows C(failed=2).
  - Handlers are notified by lane tasks as in linear and flushed at the usual points, after the join.
  - Refused before the play runs, with an error naming the task and its file and line -
    C(include_tasks) and C(include_role) in a lane, meta tasks other than C(noop) in a lane, a
    fan-out block nested in another, and a fan-out block among handlers.
  - Every task of a lane carries its lane's label (the lane's name, or C(lane N)) in the task
    variable C(_async_jobs_lane); P(org.async_jobs.async_log#callback) records it as C(lane).
author:
  - org.async_jobs developers (@org)
options:
  async_slots:
    description:
      - Worker slots for lane tasks that are async and poll (C(async) > 0 and C(poll) > 0). These
        tasks do not count against C(forks).
      - V(0) means four times C(forks).
      - ansible-core does not hand options to strategy plugins; this strategy reads this one itself
        when a fan-out block starts, from the sources below. As a variable it is read from play
        variables and extra variables (not per host).
    type: int
    default: 0
    env:
      - name: ANSIBLE_FANOUT_ASYNC_SLOTS
    ini:
      - section: fanout
        key: async_slots
    vars:
      - name: fanout_async_slots
  pooled_async:
    description:
      - Serve async lane tasks (C(async) > 0 and C(poll) > 0) without a worker that sleeps while
        their job runs, looking at all the pending jobs of a host with one status call per poll
        interval.
      - With V(false), every async lane task runs in a worker of its own that polls its job, as in
        linear, in the pool of O(async_slots).
      - As a variable it is read from play variables and extra variables (not per host).
    type: bool
    default: true
    env:
      - name: ANSIBLE_FANOUT_POOLED_ASYNC
    ini:
      - section: fanout
        key: pooled_async
    vars:
      - name: fanout_pooled_async
notes:
  - Since ansible-core 2.19 every strategy plugin outside C(ansible.builtin) makes ansible-core
    print a deprecation warning, because strategy plugins have no compatibility promise. This
    strategy is a thin subclass of the builtin linear strategy and keeps its reach into
    ansible-core internals in one tested module; C(ANSIBLE_DEPRECATION_WARNINGS=False) silences
    the warning.
  - With C(--step), each lane task is asked about once, when the first host's lane reaches it,
    and the answer holds for every host, as linear asks once per task. Lane tasks already
    running go on while the question waits.
  - C(--start-at-task) naming a task inside a lane starts the whole fan-out block.
  - A fan-out block that a dynamic C(include_tasks) or C(include_role) brings in is checked when
    the play reaches it rather than before the play.
"""

EXAMPLES = r"""
- name: Install both library groups at once
  hosts: app
  strategy: org.async_jobs.fanout
  tasks:
    - name: Both groups, side by side
      vars:
        fanout: true
      block:
        - name: Group 1
          ansible.builtin.pip:
            name: [requests, flask]
          async: 600
          poll: 5
          notify: Restart app

        - name: Group 2
          block:
            - name: Download
              ansible.builtin.command: /opt/download.sh
            - name: Build
              ansible.builtin.command: /opt/build.sh
          rescue:
            - name: Roll back group 2
              ansible.builtin.command: /opt/rollback.sh

  handlers:
    - name: Restart app
      ansible.builtin.service:
        name: app
        state: restarted
"""

import collections
import time

import yaml

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError, AnsibleUndefinedVariable, AnsibleValueOmittedError
from ansible.playbook.handler import Handler
from ansible.plugins.loader import action_loader, strategy_loader
from ansible.utils.display import Display

from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat, fanout_async_jobs, fanout_lanes

display = Display()

PLUGIN_NAME = "org.async_jobs.fanout"
LinearStrategy = strategy_loader.get("linear", class_only=True)


class _LaneProgress:
    """Where one lane stands on one host."""

    __slots__ = ("state", "next", "running", "done", "failed", "rescue_facts")

    def __init__(self, state):
        self.state = state  # the lane's HostState at the fan-out block's level
        self.next = None  # cached (state, task) of the next step, until ``state`` changes
        self.running = None  # the task in flight, if any
        self.done = False
        self.failed = False
        # ansible_failed_task/result of the failure that sent this lane into its rescue: core
        # keeps them per host, and another lane of the host may fail while this one rescues
        self.rescue_facts = None


class _InFlight:
    __slots__ = ("task", "pool", "members", "any_errors_fatal", "run_once", "phase", "task_vars", "launched",
                 "final", "poll", "queued_at")

    def __init__(self, task, pool, members, any_errors_fatal, run_once, phase=None, task_vars=None, poll=None):
        self.task = task
        self.pool = pool
        self.members = members  # [(host, lane)] whose lane waits for this result (several for run_once)
        self.any_errors_fatal = any_errors_fatal
        self.run_once = run_once
        # pooled async tasks: 'launch', 'job' (no worker), 'deliver' (result known, waiting for a
        # worker), 'finish'; None for every other task
        self.phase = phase
        self.task_vars = task_vars
        self.poll = poll
        self.launched = None  # the launch's task as its worker left it (resolved action, templated args)
        self.final = None  # the final result, from the 'deliver' phase on
        self.queued_at = time.monotonic()


class _FanoutRun:
    """One run of one fan-out block over the hosts of a batch that reached it together."""

    def __init__(self, fanout, hosts):
        self.fanout = fanout
        self.hosts = hosts
        self.paths = {}
        self.lanes = {}
        self.inflight = {}
        self.running = {"forks": 0, "async": 0, "jobs": 0}
        self.halted = set()  # hosts where no new lane task starts
        self.lane_failed = set()  # hosts with a lane that ended in an unhandled failure
        self.stop_all = False  # any_errors_fatal or a failed run_once task
        self.announced = set()
        self.results = []
        self.failed_result_hosts = set()
        self.unreachable_result_hosts = set()
        self.pooled_async = True
        self.job_groups = {}  # fanout_async_jobs.group_key -> HostJobs
        self.polls = {}  # in-flight poll task key -> HostJobs
        self.deliveries = collections.deque()  # keys of in-flight entries whose result is known
        self.internal = {}  # id(task copy) -> (phase, original task), while it is being queued
        self.step_answers = {}  # --step: task uuid -> run it? (asked once per task, for all hosts)

    def progress(self, host, lane):
        return self.lanes[(host.name, lane.index)]

    def active(self, host, unreachable):
        return not self.stop_all and host.name not in self.halted and host.name not in unreachable


_RESULT_CALLBACKS = frozenset((
    "v2_runner_on_ok", "v2_runner_on_failed", "v2_runner_on_skipped", "v2_runner_on_unreachable",
    "v2_runner_item_on_ok", "v2_runner_item_on_failed", "v2_runner_item_on_skipped", "v2_runner_retry",
    "v2_runner_on_async_poll", "v2_runner_on_async_ok", "v2_runner_on_async_failed", "v2_on_file_diff",
))


_MIN_JOB_STEP_SLOTS = 4
_IDLE_PAUSE = 0.2  # seconds, at most, between two looks at the lanes while only jobs wait


def _lane_pool(task, templar=None):
    """'async' for a task that is async and polls, else 'forks'; None when that needs templating
    and no templar is given."""
    values = []
    for value in (task.async_val, task.poll):
        try:
            values.append(int((templar.template(value) if templar is not None else value) or 0))
        except (TypeError, ValueError):
            if templar is None:
                return None
            values.append(0)
        except AnsibleError:
            values.append(0)
    return "async" if values[0] > 0 and values[1] > 0 else "forks"


class StrategyModule(LinearStrategy):
    """The builtin linear strategy, running the lanes of fan-out blocks side by side."""

    def __init__(self, tqm):
        super().__init__(tqm)
        self._fanout_play_context = None
        self._fanout_blocks = {}
        self._fanout_of_task = {}
        self._fanout_break_play = False
        self._fanout_banner = None

    # -- linear's entry points ------------------------------------------------------------------

    def run(self, iterator, play_context):  # pylint: disable=arguments-differ
        self._fanout_play_context = play_context
        self._fanout_blocks = fanout_lanes.prepare_play(core_compat.iterator_blocks(iterator), core_compat.iterator_play(iterator).handlers)
        self._fanout_break_play = False
        result = super().run(iterator, play_context)
        if self._fanout_break_play:
            return self._tqm.RUN_FAILED_BREAK_PLAY
        return result

    def _get_next_task_lockstep(self, hosts, iterator):
        """linear's next lockstep step; a step that enters a fan-out block is run here, lanes and
        join, and the step after the block is returned instead."""
        while True:
            if self._fanout_break_play:
                if len(core_compat.failed_hosts(self._tqm)) >= len(hosts):
                    self._tqm.send_callback("v2_playbook_on_no_hosts_remaining")
                return []
            host_tasks = super()._get_next_task_lockstep(hosts, iterator)
            fanout = self._fanout_entered(host_tasks, iterator)
            if fanout is None or core_compat.run_terminated(self._tqm):
                return host_tasks
            self._fanout_run(fanout, [host for host, dummy in host_tasks], iterator)
            if core_compat.run_terminated(self._tqm):
                return []
            hosts = self.get_hosts_left(iterator)

    # -- fan-out -----------------------------------------------------------------------------------

    def _fanout_entered(self, host_tasks, iterator):
        if not host_tasks:
            return None
        host, task = host_tasks[0]
        if isinstance(task, Handler):
            return None
        uuid = core_compat.task_uuid(task)
        if uuid not in self._fanout_of_task:
            marked = fanout_lanes.fanout_ancestor(task)
            self._fanout_of_task[uuid] = core_compat.task_uuid(marked) if marked is not None else None
        block_uuid = self._fanout_of_task[uuid]
        if block_uuid is None:
            return None
        fanout = self._fanout_blocks.get(block_uuid)
        if fanout is None:
            # a fan-out block that came in through a dynamic include: check it now
            state = core_compat.host_state(iterator, host.name)
            path = core_compat.block_state_path(state, block_uuid)
            if path is None:
                return None
            block_state = core_compat.state_at(state, path)
            fanout = fanout_lanes.FanoutBlock(block_state.get_current_block())
            fanout_lanes.check_fanout_block(fanout)
            fanout_lanes.label_lanes(fanout)
            self._fanout_blocks[block_uuid] = fanout
        return fanout if fanout.in_body(task) else None

    def _fanout_option(self, iterator, name):
        variables = self._variable_manager.get_vars(play=core_compat.iterator_play(iterator), _hosts=self._hosts_cache, _hosts_all=self._hosts_cache_all)
        options = yaml.safe_load(DOCUMENTATION)["options"]
        return core_compat.strategy_option(PLUGIN_NAME, options, name, variables=variables)

    def _fanout_async_slots(self, iterator):
        slots = self._fanout_option(iterator, "async_slots")
        slots = int(slots or 0)
        if slots < 0:
            raise AnsibleError("The fanout strategy's async_slots must be 0 (four times forks) or more, got %d." % slots)
        return slots or 4 * core_compat.configured_forks(self)

    def _fanout_run(self, fanout, hosts, iterator):
        run = _FanoutRun(fanout, hosts)
        self._fanout_banner = None
        for host in hosts:
            state = core_compat.host_state(iterator, host.name)
            path = core_compat.block_state_path(state, fanout.uuid)
            if path is None:
                raise AnsibleError("BUG: host %s entered fan-out block %s but its iterator state is not inside it: %s"
                                   % (host.name, fanout.describe(), state))
            run.paths[host.name] = path
            block_state = core_compat.state_at(state, path)
            for lane in fanout.lanes:
                run.lanes[(host.name, lane.index)] = _LaneProgress(core_compat.lane_start_state(block_state, lane.start))

        limits = {"forks": core_compat.configured_forks(self), "async": self._fanout_async_slots(iterator)}
        run.pooled_async = bool(self._fanout_option(iterator, "pooled_async"))
        # the short worker runs of pooled async tasks (launch, status call, delivery): as many as
        # forks, and at least a few so that a small forks does not serialise the launches; never
        # more than the async slots the per-worker path would take
        limits["jobs"] = min(limits["async"], max(limits["forks"], _MIN_JOB_STEP_SLOTS)) if run.pooled_async else 0
        slots_before = core_compat.worker_count(self)
        core_compat.resize_workers(self, limits["forks"] + limits["async"] + limits["jobs"])
        display.debug("fan-out block %s: %d lanes on %d hosts, slots %r" % (fanout.describe(), len(fanout.lanes), len(hosts), limits))
        restore_callbacks = core_compat.hook_callbacks(self._tqm, lambda send, name, args: self._fanout_before_callback(run, send, name, args))
        try:
            changed = True
            while not core_compat.run_terminated(self._tqm):
                # lanes can only move on after a result or a start, or once a worker slot frees up
                # new lane tasks first: a status call or a delivery that waits a moment costs less
                dispatched, slot_wait = self._fanout_dispatch(run, iterator, limits) if changed else (False, False)
                queued_jobs_work = self._fanout_jobs_step(run, limits)
                processed = self._fanout_collect(run, iterator)
                if not run.inflight and not dispatched and not processed and not slot_wait:
                    break
                changed = dispatched or processed or slot_wait
                if not dispatched and not processed and not queued_jobs_work:
                    if self._tqm.has_dead_workers():
                        raise AnsibleError("A worker was found in a dead state")
                    time.sleep(self._fanout_pause(run))
        finally:
            restore_callbacks()
            core_compat.resize_workers(self, slots_before)
        if not core_compat.run_terminated(self._tqm):
            self._fanout_join(run, iterator)

    @staticmethod
    def _fanout_pause(run):
        """How long to sleep when nothing moved: briefly while workers run (their results come
        any moment), until the next status call is due when only jobs without a worker wait."""
        if any(run.running.values()) or not run.job_groups:
            return C.DEFAULT_INTERNAL_POLL_INTERVAL
        due = [group.due for group in run.job_groups.values() if group.jobs and group.due is not None]
        if not due:
            return C.DEFAULT_INTERNAL_POLL_INTERVAL
        return min(_IDLE_PAUSE, max(C.DEFAULT_INTERNAL_POLL_INTERVAL, min(due) - time.monotonic()))

    def _fanout_peek(self, run, iterator, host, lane):
        """Refresh what the lane does next on the host; False once the lane is over."""
        progress = run.progress(host, lane)
        if progress.done or progress.running is not None:
            return False
        if progress.next is None:
            progress.next = core_compat.next_task_in_state(iterator, progress.state, host)
        state, task = progress.next
        if task is None or core_compat.task_uuid(task) not in lane.task_uuids:
            progress.done = True
            progress.failed = core_compat.state_failed(state)
            if progress.failed:
                run.lane_failed.add(host.name)
                run.halted.add(host.name)
            return False
        return True

    def _fanout_dispatch(self, run, iterator, limits):
        """Start every lane task that may start now. Returns (started any, waiting for a worker
        slot to free up)."""
        unreachable = core_compat.unreachable_hosts(self._tqm)
        dispatched = False
        slot_wait = False
        for host in run.hosts:
            if host.name in unreachable:
                run.halted.add(host.name)
            if not run.active(host, unreachable):
                continue
            for lane in run.fanout.lanes:
                self._fanout_peek(run, iterator, host, lane)
        for host in run.hosts:
            for lane in run.fanout.lanes:
                while run.active(host, unreachable) and self._fanout_peek(run, iterator, host, lane):
                    outcome = self._fanout_start(run, iterator, host, lane, limits)
                    if outcome == "started":
                        dispatched = True
                        break
                    if outcome == "inline":
                        dispatched = True
                        continue
                    if outcome == "no-slot":
                        slot_wait = True
                    break
        return dispatched, slot_wait

    def _fanout_start(self, run, iterator, host, lane, limits):
        """Start the lane's next task on the host: 'started', 'inline' (ran here, e.g. meta noop),
        'pool-full' (forks or async slots all taken), 'no-slot' (no worker slot has exited yet),
        or 'wait' (a run_once task waiting for the other hosts)."""
        progress = run.progress(host, lane)
        state, task = progress.next
        play_context = self._fanout_play_context
        pool = _lane_pool(task)
        if pool is not None and run.running[pool] >= limits[pool]:
            return "pool-full"

        task_vars = self._variable_manager.get_vars(play=core_compat.iterator_play(iterator), host=host, task=task,
                                                    _hosts=self._hosts_cache, _hosts_all=self._hosts_cache_all)
        self.add_tqm_variables(task_vars, play=core_compat.iterator_play(iterator))
        if progress.rescue_facts:
            task_vars.update(progress.rescue_facts)
        templar = core_compat.template_engine(self._loader, task_vars)

        action_name = None
        action = None
        try:
            action_name = templar.template(task.action)
        except AnsibleValueOmittedError:
            raise AnsibleParserError("Omit is not valid for the `action` keyword.", obj=task.action) from None
        except AnsibleUndefinedVariable:
            pass
        else:
            try:
                action = action_loader.get(action_name, class_only=True, collection_list=task.collections)
            except KeyError:
                action = None

        if action_name in C._ACTION_META or action_name in C._ACTION_ALL_INCLUDES:
            # noop and a static import_role's implicit role_complete are all that pass the checks
            # made before the play; a templated action can still turn out to be something else
            fanout_lanes.check_fanout_block_task(task, run.fanout, lane, action_name)
            self._execute_meta(task, play_context, iterator, host)
            progress.state, progress.next = state, None
            return "inline"

        uuid = core_compat.task_uuid(task)
        if self._step and uuid not in run.step_answers:
            # as linear asks once per task for all hosts; an answer of "continue" ends step mode
            run.step_answers[uuid] = self._take_step(task)
        if not run.step_answers.get(uuid, True):
            progress.state, progress.next = state, None
            return "inline"

        run_once = bool(action and getattr(action, "BYPASS_HOST_LOOP", False)) or bool(templar.template(task.run_once))
        members = [(host, lane)]
        if run_once:
            waiting = [other for other in run.hosts if run.active(other, core_compat.unreachable_hosts(self._tqm))
                       and not run.progress(other, lane).done]
            for other in waiting:
                other_progress = run.progress(other, lane)
                if other_progress.running is not None or other_progress.next is None or \
                        core_compat.task_uuid(other_progress.next[1]) != core_compat.task_uuid(task):
                    return "wait"
            leader = waiting[0]
            if leader is not host:
                return "wait"
            members = [(other, lane) for other in waiting]
            task.run_once = True

        if pool is None:
            pool = _lane_pool(task, templar)
            if run.running[pool] >= limits[pool]:
                return "pool-full"
        phase = None
        poll = None
        if pool == "async" and run.pooled_async and not run_once:
            reason = fanout_async_jobs.not_pooled_reason(task, templar, play_context)
            if reason is None:
                # launched, looked at and delivered by short worker runs that obey forks
                phase, pool = "launch", "jobs"
                poll = int(templar.template(task.poll))
                if run.running[pool] >= limits[pool]:
                    return "pool-full"
            else:
                display.vvv("fan-out: async task %s runs in a worker that polls: %s" % (fanout_lanes.describe(task), reason))
        try:
            throttle = int(templar.template(task.throttle) or 0)
        except Exception as ex:
            raise AnsibleError("Failed to convert the throttle value to an integer.", obj=task.throttle) from ex
        if throttle > 0 and not run_once:
            if not core_compat.claim_free_worker(self, throttle):
                return "no-slot"
        elif not core_compat.claim_free_worker(self, core_compat.worker_count(self), from_end=True):
            return "no-slot"

        try:
            any_errors_fatal = bool(templar.template(task.any_errors_fatal))
        except AnsibleError:
            any_errors_fatal = bool(task.any_errors_fatal)

        if uuid not in run.announced:
            run.announced.add(uuid)
            task.post_validate_attribute("name", templar=templar)
            self._fanout_announce(task)

        for member_host, member_lane in members:
            member = run.progress(member_host, member_lane)
            member.state, member.next, member.running = member.next[0], None, task
        run.inflight[(host.name, uuid)] = _InFlight(task, pool, members, any_errors_fatal, run_once, phase, task_vars, poll)
        run.running[pool] += 1
        self._blocked_hosts[host.name] = True
        if phase == "launch":
            self._fanout_queue_internal(run, host, fanout_async_jobs.launch_copy(task), task, "launch", task_vars)
        else:
            self._queue_task(host, task, task_vars, play_context)
        return "started"

    # -- pooled async lane tasks --------------------------------------------------------------------

    def _fanout_queue_internal(self, run, host, copied, original, phase, task_vars):
        run.internal[id(copied)] = (phase, original)
        try:
            self._queue_task(host, copied, task_vars, self._fanout_play_context)
        finally:
            run.internal.pop(id(copied), None)

    def _fanout_jobs_step(self, run, limits):
        """Queue the deliveries of jobs that are over, then the status calls that are due, while
        forks allow. Returns True when something was queued."""
        if not run.pooled_async:
            return False
        queued = False
        while run.deliveries:
            if run.running["jobs"] >= limits["jobs"] or not core_compat.claim_free_worker(self, core_compat.worker_count(self), from_end=True):
                return queued
            inflight = run.inflight[run.deliveries.popleft()]
            host = inflight.members[0][0]
            copied = fanout_async_jobs.finish_copy(core_compat.task_with_action, inflight.task, inflight.final,
                                                   keep_when=bool(inflight.final.get("skipped")))
            inflight.phase = "finish"
            run.running["jobs"] += 1
            self._blocked_hosts[host.name] = True
            self._fanout_queue_internal(run, host, copied, inflight.task, "finish", inflight.task_vars)
            queued = True
        now = time.monotonic()
        for group in run.job_groups.values():
            if not group.jobs or group.polling is not None or group.due is None or group.due > now:
                continue
            if run.running["jobs"] >= limits["jobs"] or not core_compat.claim_free_worker(self, core_compat.worker_count(self), from_end=True):
                return queued
            job = next(iter(group.jobs.values()))
            inflight = run.inflight[job.key]
            copied = fanout_async_jobs.poll_copy(core_compat.task_with_action, core_compat.give_fresh_uuid, inflight.task,
                                                 [pending.results_file for pending in group.jobs.values()])
            group.polling = (group.host.name, core_compat.task_uuid(copied))
            group.checked_at = now
            run.polls[group.polling] = group
            run.running["jobs"] += 1
            self._fanout_queue_internal(run, group.host, copied, inflight.task, "poll", inflight.task_vars)
            queued = True
        return queued

    def _fanout_launched(self, run, key, inflight, result):
        """A pooled task's launch result (taken off the queue, never shown): a job to wait for, or
        a result to deliver at once (skipped, unreachable, failed to start)."""
        data = core_compat.result_data(result)
        inflight.launched = result.task
        failed, unreachable, dummy = core_compat.result_outcome(result)
        jid = data.get("ansible_job_id")
        if not jid or failed or unreachable or data.get("skipped"):
            inflight.final = data
            inflight.phase = "deliver"
            run.deliveries.append(key)
            return
        host = inflight.members[0][0]
        try:
            async_val = int(result.task.async_val)
        except (TypeError, ValueError):
            async_val = int(inflight.task.async_val)
        job = fanout_async_jobs.Job(key, str(jid), data.get("results_file"), async_val, inflight.poll)
        group_key = fanout_async_jobs.group_key(host, inflight.task, inflight.task_vars, job.results_file)
        group = run.job_groups.get(group_key)
        if group is None:
            group = run.job_groups[group_key] = fanout_async_jobs.HostJobs(host)
        group.add(job)
        inflight.phase = "job"

    def _fanout_job_over(self, run, group, job, final, timed_out=False):
        inflight = run.inflight[job.key]
        del group.jobs[job.jid]
        inflight.final = final
        inflight.phase = "deliver"
        run.deliveries.append(job.key)
        if final.get("unreachable"):
            return
        method = "v2_runner_on_async_failed" if final.get("failed") or timed_out else "v2_runner_on_async_ok"
        self._tqm.send_callback(method, core_compat.make_task_result(group.host, self._fanout_callback_task(inflight), final))

    def _fanout_callback_task(self, inflight):
        """The task callbacks see for a pooled task: the launch's task (the original's action and
        templated arguments) with the original's poll."""
        task = inflight.launched if inflight.launched is not None else inflight.task
        task.poll = inflight.poll
        return task

    def _fanout_polled(self, run, group, result):
        """One status call's result: ticks for the jobs still running, deliveries for the others."""
        data = core_compat.result_data(result)
        failed, unreachable, dummy = core_compat.result_outcome(result)
        now = time.monotonic()
        jobs = list(group.jobs.values())
        if unreachable:
            for job in jobs:
                self._fanout_job_over(run, group, job, fanout_async_jobs.unreachable_job_result(job, data))
        elif failed:
            unknown = set(data.get("unknown_jids") or ())
            for job in jobs:
                if unknown and job.jid not in unknown:
                    continue
                msg = data.get("msg") or "Could not look at the async job."
                if job.jid in unknown:
                    msg = "The job file %s disappeared while the job was waited for." % job.results_file
                self._fanout_job_over(run, group, job, fanout_async_jobs.failed_job_result(job, msg))
        else:
            states = {state.get("jid"): state for state in data.get("job_states") or ()}
            outcomes = [(job, fanout_async_jobs.classify(job, states[job.jid], now)) for job in jobs if job.jid in states]
            # ticks first, in the order the tasks started: a callback that only has a tick's jid
            # (core's own ticks carry no task) can then tell whose job it is, as async_log does
            running = sorted(((job, value) for job, (outcome, value) in outcomes if outcome == "running"),
                             key=lambda entry: run.inflight[entry[0].key].queued_at)
            for job, value in running:
                job.ticks += 1
                inflight = run.inflight[job.key]
                self._tqm.send_callback("v2_runner_on_async_poll",
                                        core_compat.make_task_result(group.host, self._fanout_callback_task(inflight), value))
            for job, (outcome, value) in outcomes:
                if outcome != "running":
                    self._fanout_job_over(run, group, job, value, timed_out=outcome == "timed_out")
        group.reschedule(group.checked_at)

    def _fanout_announce(self, task):
        self._tqm.send_callback("v2_playbook_on_task_start", task, is_conditional=False)

    def _fanout_before_callback(self, run, send, method_name, args):
        """Runs before every callback while lanes run (results thread included), under one lock.

        The default callback titles a result whose task is not the last announced one with the
        last announced task's name, so a lane task's result, item or retry is preceded by its own
        task start when another lane's task was announced since."""
        if method_name == "v2_playbook_on_task_start" and args:
            self._fanout_banner = core_compat.task_uuid(args[0])
            return None
        if method_name == "v2_runner_on_start" and len(args) == 2 and id(args[1]) in run.internal:
            # a pooled task's internal worker runs: only its launch is the task's own start
            phase, original = run.internal[id(args[1])]
            return (args[0], original) if phase == "launch" else False
        if method_name not in _RESULT_CALLBACKS or not args:
            return None
        task = getattr(args[0], "task", None)
        uuid = core_compat.task_uuid(task)
        if uuid is not None and uuid != self._fanout_banner and run.fanout.in_body(task):
            self._fanout_banner = uuid
            send("v2_playbook_on_task_start", task, is_conditional=False)
        return None

    def _fanout_collect(self, run, iterator):
        """Process the results that are in, each with its lane's state grafted into the host's
        iterator state so core's processing (failure, rescue, notify, register) acts on the lane."""
        processed = False
        while True:
            key = core_compat.next_result_key(self)
            if key is None:
                return processed
            processed = True
            group = run.polls.pop(key, None)
            if group is not None:
                result = core_compat.take_next_result(self)
                run.running["jobs"] -= 1
                group.polling = None
                self._fanout_polled(run, group, result)
                continue
            inflight = run.inflight.get(key)
            if inflight is not None and inflight.phase == "launch":
                result = core_compat.take_next_result(self)
                run.running["jobs"] -= 1
                self._fanout_launched(run, key, inflight, result)
                continue
            if inflight is not None and inflight.phase == "finish":
                core_compat.restore_result_task(core_compat.peek_next_result(self), inflight.launched or inflight.task,
                                                {"poll": inflight.poll, "when": inflight.task.when})
            inflight = run.inflight.pop(key, None)
            if inflight is None:
                run.results.extend(self._process_pending_results(iterator, one_pass=True))
                continue
            grafted = {}
            bystanders = {}
            member_names = {host.name for host, dummy in inflight.members}
            if inflight.run_once:
                bystanders = {host.name: core_compat.host_state(iterator, host.name) for host in run.hosts if host.name not in member_names}
            failed_results_before = {}
            for host, lane in inflight.members:
                progress = run.progress(host, lane)
                grafted[host.name] = (lane, core_compat.graft_lane_state(iterator, host.name, run.paths[host.name], progress.state))
                failed_results_before[host.name] = core_compat.rescue_facts(self._variable_manager, host.name).get("ansible_failed_result")
            try:
                results = self._process_pending_results(iterator, one_pass=True)
            finally:
                for host, lane in inflight.members:
                    progress = run.progress(host, lane)
                    progress.state = core_compat.ungraft_lane_state(iterator, host.name, run.paths[host.name], grafted[host.name][1])
                    facts = core_compat.rescue_facts(self._variable_manager, host.name)
                    if facts.get("ansible_failed_result") is not failed_results_before[host.name]:
                        progress.rescue_facts = facts
                    progress.next = None
                    progress.running = None
                for name, state in bystanders.items():
                    if core_compat.host_state(iterator, name) is not state:
                        # a failed run_once task fails every host, also those not waiting on it
                        run.lane_failed.add(name)
                        run.halted.add(name)
                        core_compat.set_host_state(iterator, name, state)
                run.running[inflight.pool] -= 1
            for result in results:
                run.results.append(result)
                failed, unreachable, ignore_errors = core_compat.result_outcome(result)
                if failed:
                    run.failed_result_hosts.add(result.host.name)
                if unreachable:
                    run.unreachable_result_hosts.add(result.host.name)
                    run.halted.add(result.host.name)
                if (failed or unreachable) and (inflight.any_errors_fatal or inflight.run_once) and not ignore_errors:
                    run.stop_all = True

    def _fanout_join(self, run, iterator):
        """Every lane is done: move each host past the block, failing those that must fail, then
        apply any_errors_fatal and max_fail_percentage as linear does after a step."""
        for host in run.hosts:
            if host.name not in core_compat.unreachable_hosts(self._tqm):
                for lane in run.fanout.lanes:
                    # settles lanes that a halt left idle: did they end in a failure?
                    self._fanout_peek(run, iterator, host, lane)
        hosts_left = self.get_hosts_left(iterator)
        fan_hosts = {host.name for host in run.hosts}
        to_fail = set(run.lane_failed)
        newly_failed = set()
        if run.stop_all and (run.failed_result_hosts or run.unreachable_result_hosts):
            for host in hosts_left:
                if host.name not in run.failed_result_hosts:
                    core_compat.failed_hosts(self._tqm)[host.name] = True
                    newly_failed.add(host.name)
        play = core_compat.iterator_play(iterator)
        if play.max_fail_percentage is not None and run.results:
            percentage = play.max_fail_percentage / 100.0
            if (len(core_compat.failed_hosts(self._tqm)) / iterator.batch_size) > percentage:
                for host in hosts_left:
                    if host.name not in run.failed_result_hosts:
                        core_compat.failed_hosts(self._tqm)[host.name] = True
                        newly_failed.add(host.name)
                self._tqm.send_callback("v2_playbook_on_no_hosts_remaining")
                self._fanout_break_play = True
        for host in run.hosts:
            unreachable = host.name in core_compat.unreachable_hosts(self._tqm)
            failed = not unreachable and (host.name in to_fail or host.name in newly_failed)
            core_compat.leave_block_body(iterator, host, run.paths[host.name], run.fanout.body_uuids, failed,
                                         failure_recorded=host.name in to_fail)
        for host in hosts_left:
            if host.name in newly_failed and host.name not in fan_hosts:
                core_compat.mark_host_failed(iterator, host)
