# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where this collection reaches into ansible-core internals.

ansible-core gives strategy plugins no compatibility promise, and the shape of task results,
iterator state and the worker list changes between releases (2.19/2.20 results carry
``_return_data``, 2.21 results carry ``utr``). Everything version-dependent lives here, behind
feature detection rather than version comparisons, with a unit test per supported release.
"""

from __future__ import annotations

# Sections: each part of the collection adds what it needs under its own heading, with a unit
# test in tests/unit/plugins/plugin_utils/test_core_compat.py that runs on every supported core.

# --- task results (fanout, async_log) ---------------------------------------------------------


def task_uuid(task):
    """The uuid a task keeps across hosts and ``Task.copy()`` (core has no public accessor; the
    builtin callbacks read ``_uuid`` too). None for objects that are not playbook objects."""
    return getattr(task, "_uuid", None)


def task_section(task):
    """'block', 'rescue' or 'always': which list of its enclosing block the task is in, or None
    when that cannot be told (the parent link is internal, so this is best effort)."""
    parent = getattr(task, "_parent", None)
    for section in ("rescue", "always", "block"):
        tasks = getattr(parent, section, None)
        if isinstance(tasks, list) and any(candidate is task or task_uuid(candidate) == task_uuid(task) for candidate in tasks):
            return section
    return None


def playbook_path(playbook):
    """The file a Playbook object was loaded from (kept in ``_file_name``, as core's callbacks read it)."""
    return getattr(playbook, "_file_name", None)


def play_keywords(play):
    """The keywords the play's YAML set explicitly (its data structure's keys); empty when the
    play was not loaded from data."""
    get_ds = getattr(play, "get_ds", None)
    ds = get_ds() if callable(get_ds) else None
    return frozenset(ds) if isinstance(ds, dict) else frozenset()


# --- strategy internals (fanout) --------------------------------------------------------------
# The fanout strategy runs the lanes of a fan-out block from the play iterator's own host states
# (one HostState per host and lane, walked with the iterator's own stepping), lets core's result
# processing see the lane's state by grafting it into the host's state for the duration of one
# result, and afterwards moves the host's real state past the block. These are the pieces of that
# surgery, plus the worker list and the results queue the strategy needs to look at.

_CHILD_STATE_BY_RUN_STATE = {"TASKS": "tasks_child_state", "RESCUE": "rescue_child_state", "ALWAYS": "always_child_state"}


def _iterating_states():
    from ansible.executor.play_iterator import IteratingStates
    return IteratingStates


def _failed_states():
    from ansible.executor.play_iterator import FailedStates
    return FailedStates


def iterator_play(iterator):
    """The play a PlayIterator runs (linear and free read ``_play`` too; there is no accessor)."""
    return iterator._play


def failed_hosts(tqm):
    """The task queue manager's {host name: True} of failed hosts, which strategies update."""
    return tqm._failed_hosts


def unreachable_hosts(tqm):
    """The task queue manager's {host name: True} of unreachable hosts."""
    return tqm._unreachable_hosts


def run_terminated(tqm) -> bool:
    """True once the run was stopped (a signal, or a callback's request)."""
    return bool(tqm._terminated)


def iterator_blocks(iterator):
    """The blocks the play iterator walks (tag-filtered copies of the play's blocks)."""
    return list(getattr(iterator, "_blocks", []))


def host_state(iterator, host_name):
    """The live HostState of a host (not a copy)."""
    return iterator.get_state_for_host(host_name)


def set_host_state(iterator, host_name, state):
    iterator.set_state_for_host(host_name, state)


def block_state_path(state, block_uuid):
    """Attribute names leading from a host's state down to the nested state that is iterating the
    block ``block_uuid`` in its TASKS section, or None when the host is not inside that block."""
    states = _iterating_states()
    path = []
    current = state
    while current is not None:
        try:
            block = current._blocks[current.cur_block]
        except IndexError:
            return None
        if task_uuid(block) == block_uuid and current.run_state == states.TASKS:
            return path
        attribute = _CHILD_STATE_BY_RUN_STATE.get(getattr(current.run_state, "name", None))
        if attribute is None:
            return None
        current = getattr(current, attribute)
        path.append(attribute)
    return None


def state_at(state, path):
    for attribute in path:
        state = getattr(state, attribute)
    return state


def lane_start_state(block_state, child_index):
    """A copy of ``block_state`` (the state iterating a fan-out block) positioned at the start of
    the child ``child_index`` of the block's task list, with no failure and no child state."""
    states = _iterating_states()
    lane_state = block_state.copy()
    lane_state.run_state = states.TASKS
    lane_state.fail_state = _failed_states().NONE
    lane_state.cur_regular_task = child_index
    lane_state.cur_rescue_task = 0
    lane_state.cur_always_task = 0
    lane_state.tasks_child_state = None
    lane_state.rescue_child_state = None
    lane_state.always_child_state = None
    lane_state.did_rescue = False
    return lane_state


def next_task_in_state(iterator, state, host):
    """(state after, task) for the next task of ``state``, as the iterator would step it; ``state``
    itself is left untouched."""
    return iterator._get_next_task_from_state(state.copy(), host=host)


def state_failed(state) -> bool:
    """True when the state (a lane's state after it left the lane) carries a failure."""
    return state.fail_state != _failed_states().NONE


def graft_lane_state(iterator, host_name, path, lane_state):
    """Make the iterator see ``lane_state`` in place of the host's fan-out block state, so core's
    result processing (failure marking, rescue bookkeeping, notifications) acts on the lane.

    Notifications land in the host's real list. Returns the host's real state, to be given back
    to :func:`ungraft_lane_state`."""
    main = iterator.get_state_for_host(host_name)
    if path:
        composite = main.copy()
        setattr(state_at(composite, path[:-1]), path[-1], lane_state)
    else:
        composite = lane_state
    composite.handler_notifications = main.handler_notifications
    iterator.set_state_for_host(host_name, composite)
    return main


def ungraft_lane_state(iterator, host_name, path, main):
    """Put the host's real state back and return the lane state as core's processing left it."""
    lane_state = state_at(iterator.get_state_for_host(host_name), path)
    iterator.set_state_for_host(host_name, main)
    return lane_state


def leave_block_body(iterator, host, path, body_uuids, failed, failure_recorded=False):
    """Move a host's real state past the task list of the fan-out block it is in (whose tasks are
    ``body_uuids``), so the block's always (and, with ``failed``, its rescue) come next as linear
    would have them; ``failed`` marks the failure at the level of the fan-out block itself.

    ``failure_recorded``: core's result processing already accounted for this failure (the host's
    entry in the play's removed hosts), so marking it again must not touch that list."""
    while True:
        state, task = iterator.get_next_task_for_host(host, peek=True)
        if task is None or task_uuid(task) not in body_uuids:
            break
        iterator.set_state_for_host(host.name, state)
    block_state = state_at(iterator.get_state_for_host(host.name), path)
    block_state.tasks_child_state = None
    block_state.cur_regular_task = max(block_state.cur_regular_task, len(block_state.get_current_block().block))
    if failed:
        removed = list(iterator._play._removed_hosts)
        iterator.mark_host_failed(host)
        if failure_recorded:
            iterator._play._removed_hosts[:] = removed


def mark_host_failed(iterator, host):
    iterator.mark_host_failed(host)


def rescue_facts(variable_manager, host_name):
    """``ansible_failed_task`` and ``ansible_failed_result`` as core last set them for the host
    (non-persistent facts, set when a failure sends the host into a rescue); empty if never."""
    facts = getattr(variable_manager, "_nonpersistent_fact_cache", {}).get(host_name) or {}
    return {name: facts[name] for name in ("ansible_failed_task", "ansible_failed_result") if name in facts}


def template_engine(loader, variables):
    """The templar linear uses to resolve a task's action, run_once, throttle and so on."""
    from ansible._internal._templating._engine import TemplateEngine

    return TemplateEngine(loader=loader, variables=variables)


def hook_callbacks(tqm, before):
    """Make ``before(send, method_name, args)`` run before each callback the TQM sends, from the
    strategy's thread and from its results thread alike, under one lock (``send`` sends a callback
    without the hook). ``before`` returns None to send the callback as it is, a tuple of other
    arguments to send instead, or False to drop it. Returns the function that removes the hook.

    Core has no hook for this; the TQM's ``send_callback`` is shadowed on the instance only."""
    import threading

    send = tqm.send_callback
    lock = threading.RLock()

    def send_callback(method_name, *args, **kwargs):
        with lock:
            replaced = before(send, method_name, args)
            if replaced is False:
                return None
            if replaced is not None:
                args = replaced
            return send(method_name, *args, **kwargs)

    tqm.send_callback = send_callback

    def restore():
        with lock:
            if tqm.__dict__.get("send_callback") is send_callback:
                del tqm.send_callback

    return restore


def configured_forks(strategy) -> int:
    """The play's ``forks`` (the TQM sizes its worker list to min(forks, batch size) instead)."""
    return strategy._tqm._forks


def worker_count(strategy) -> int:
    return len(strategy._workers)


def resize_workers(strategy, count, wait=2.0):
    """Grow or shrink the worker slot list the TQM sized to min(forks, batch) (the list object is
    shared with the TQM, so it is changed in place). Shrinking waits up to ``wait`` seconds for
    the workers of the dropped slots to exit."""
    import time

    workers = strategy._workers
    if count > len(workers):
        workers.extend([None] * (count - len(workers)))
        return
    deadline = time.monotonic() + wait
    while any(worker is not None and worker.is_alive() for worker in workers[count:]) and time.monotonic() < deadline:
        time.sleep(0.01)
    del workers[count:]
    if strategy._cur_worker >= len(workers):
        strategy._cur_worker = 0


def claim_free_worker(strategy, limit, from_end=False) -> bool:
    """Point the strategy's next-worker cursor at a free slot below ``limit`` so that
    ``_queue_task`` starts the task there at once (instead of spinning); False when none is free.
    Unthrottled tasks take slots from the end, keeping the low ones for throttled tasks."""
    workers = strategy._workers
    limit = min(limit, len(workers))
    indexes = range(limit - 1, -1, -1) if from_end else range(limit)
    for index in indexes:
        worker = workers[index]
        if worker is None or not worker.is_alive():
            strategy._cur_worker = index
            return True
    return False


def next_result_key(strategy):
    """(host name, task uuid) of the next result ``_process_pending_results`` will take, or None."""
    with strategy._results_lock:
        if not strategy._results:
            return None
        result = strategy._results[0]
    return result.host.name, task_uuid(result.task)


def result_outcome(result):
    """(failed, unreachable, ignore_errors) of a processed task result (2.21: ``utr``; 2.19 and
    2.20: ``_RawTaskResult`` methods, with ignore_errors on the rebuilt task)."""
    utr = getattr(result, "utr", None)
    if utr is not None:
        return bool(utr.failed), bool(utr.unreachable), bool(utr.ignore_errors)
    return bool(result.is_failed()), bool(result.is_unreachable()), bool(result.task.ignore_errors)


def peek_next_result(strategy):
    """The next result ``_process_pending_results`` will take (left in the queue), or None."""
    with strategy._results_lock:
        return strategy._results[0] if strategy._results else None


def take_next_result(strategy):
    """Take the next result off the results queue without core processing it (no callbacks, no
    stats, no register), with the bookkeeping ``_process_pending_results`` does for each result."""
    with strategy._results_lock:
        result = strategy._results.popleft()
    strategy._pending_results -= 1
    strategy._blocked_hosts.pop(result.host.name, None)
    return result


def result_data(result):
    """The result dictionary a task returned (2.21: from ``utr``; 2.19 and 2.20: ``_return_data``)."""
    utr = getattr(result, "utr", None)
    if utr is not None:
        return dict(utr.as_result_dict())
    return dict(result._return_data)


def make_task_result(host, task, data):
    """A task result for callbacks, of the kind the results thread hands to ``send_callback``."""
    try:
        from ansible._internal._task import HostTaskResult, UnifiedTaskResult
    except ImportError:
        from ansible.executor.task_result import _RawTaskResult

        return _RawTaskResult(host, task, dict(data), task.dump_attrs())
    return HostTaskResult(host=host, task=task, utr=UnifiedTaskResult.from_action_result_dict(dict(data)))


def give_fresh_uuid(task):
    """Give a task copy a uuid of its own (``Task.copy()`` keeps the original's), so that its
    result cannot be mistaken for the original's on the same host."""
    from ansible.utils.vars import get_unique_id

    task._uuid = get_unique_id()
    return task


def task_with_action(task, action, args):
    """A copy of ``task`` that runs ``action`` with ``args`` (its parent link kept)."""
    copied = task.copy()
    copied.action = action
    copied.args = args
    copied._resolved_action = None
    return copied


def restore_result_task(result, launched_task, attributes):
    """Make a result's task (rebuilt from the task that ran, which had another action) report the
    action, arguments and resolved action of ``launched_task`` (the copy of the original task that
    launched the job, as its worker left it) and the given other attributes of the original."""
    task = result.task
    task.action = launched_task.action
    task.args = launched_task.args
    task._resolved_action = getattr(launched_task, "_resolved_action", None)
    for name, value in attributes.items():
        setattr(task, name, value)
    return result


def normalize_module_failure(result):
    """Give a failed module result (a job's own result, delivered by an action rather than read
    by ``_execute_module``) the captured-error summary 2.19 and 2.20 attach to every failed module
    result, so ``failed_when`` and the callbacks see what they see after core's own polling. 2.21
    does this when the result becomes a task result, so there is nothing to do."""
    try:
        from ansible._internal._errors._captured import AnsibleModuleCapturedError
    except ImportError:
        return result
    normalize = getattr(AnsibleModuleCapturedError, "normalize_result_exception", None)
    if normalize is not None and result.get("failed") and "exception" not in result:
        normalize(result)
    return result


def strategy_option(plugin_name, options, name, variables=None):
    """Read option ``name`` of a strategy plugin from ansible.cfg, the environment or variables.

    ansible-core does not configure strategy plugins (they are not among its configurable plugin
    types), so the option definitions of the plugin's DOCUMENTATION are registered with core's
    config manager here, and read through it as every configurable plugin's are."""
    from ansible import constants as C

    if not C.config.has_configuration_definition("strategy", plugin_name):
        C.config.initialize_plugin_configuration_definitions("strategy", plugin_name, options)
    return C.config.get_config_value(name, plugin_type="strategy", plugin_name=plugin_name, variables=variables)
