# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of org.async_jobs.wait_jobs: the wait loop.

Per host (each host's task runs in its own worker), the action turns ``jobs`` into a list of job
ids, then checks all the pending ones with one run of the wait_jobs module per check: the first
at once, then every ``delay`` seconds, until none is left or ``timeout`` runs out. It prints one
progress line per check, and assembles the per-job results, the ``ticks`` and the verdict.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.org.async_jobs.plugins.module_utils.async_job_files import (
    CORRUPT,
    FINISHED,
    MISSING,
    RUNNING,
    UNREADABLE,
    WRAPPER_TIMEOUT_MSG,
    is_valid_jid,
)
from ansible_collections.org.async_jobs.plugins.module_utils.async_job_status import DEAD, KILLED
from ansible_collections.org.async_jobs.plugins.module_utils.wait_jobs_spec import ARGUMENT_SPEC

display = Display()

MODULE = 'org.async_jobs.wait_jobs'


class JobsInputError(ValueError):
    """``jobs`` holds something that is not a job: the message names the element."""


def _is_text(value):
    return isinstance(value, str)


def _type_name(value):
    """The plain type name of a value (templated values are subclasses of the builtin types)."""
    for kind in (bool, int, float, str, dict, list):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def _check_jid(jid, path):
    if not _is_text(jid):
        raise JobsInputError('%s: a job id is a string like "j123456789012.4242", got %s %r.'
                             % (path, _type_name(jid), jid))
    if not is_valid_jid(jid):
        raise JobsInputError('%s: %r is not a job id: job ids are plain file names in the async dir '
                             '(letters, digits, ".", "_", "-"; no "/" and no "..").' % (path, jid))
    return str(jid)


def _collect(value, path, jids, skipped):
    if _is_text(value):
        jids.append(_check_jid(value, path))
    elif isinstance(value, Mapping):
        if 'ansible_job_id' in value:
            jids.append(_check_jid(value['ansible_job_id'], path + '.ansible_job_id'))
        elif isinstance(value.get('results'), list):
            for index, item in enumerate(value['results']):
                _collect(item, '%s.results[%d]' % (path, index), jids, skipped)
        elif value.get('skipped'):
            entry = {'path': path}
            loop_var = value.get('ansible_loop_var', 'item')
            if loop_var in value:
                entry['item'] = value[loop_var]
            if 'skip_reason' in value:
                entry['skip_reason'] = value['skip_reason']
            skipped.append(entry)
        else:
            why = 'the task that registered it did not start an async job (give it async: and poll: 0)'
            if value.get('failed'):
                why = 'the task that registered it failed before starting a job (%s)' % (value.get('msg') or 'no message')
            raise JobsInputError('%s: this result has no ansible_job_id: %s.' % (path, why))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _collect(item, '%s[%d]' % (path, index), jids, skipped)
    else:
        raise JobsInputError('%s: expected a job id, a registered async result, a registered loop or a list of '
                             'these, got %s %r.' % (path, _type_name(value), value))


def flatten_jobs(value, path='jobs'):
    """(job ids in input order without repeats, skipped items) from what ``jobs`` may hold."""
    jids, skipped = [], []
    _collect(value, path, jids, skipped)
    return list(dict.fromkeys(jids)), skipped


def _label(kind, entry):
    if entry['killed']:
        return 'killed'
    if entry['timed_out']:
        return 'timed out'
    if kind == RUNNING:
        return 'running'
    if not entry['failed']:
        return 'ok'
    return {DEAD: 'died', UNREADABLE: 'unreadable', CORRUPT: 'unreadable', MISSING: 'vanished'}.get(kind, 'failed')


def job_entry(jid, state, elapsed):
    """The ``jobs[]`` entry of one job from the module's view of it (``state``: a dict with
    ``state``, ``path`` and, by state, ``result``, ``msg``, ``removed``, ``killed_pids``)."""
    kind = state['state']
    result = state.get('result') or {}
    entry = {key: value for key, value in result.items() if not key.startswith('_ansible_')}
    entry.update(
        jid=jid, ansible_job_id=jid, results_file=state.get('path'), elapsed=round(max(0.0, elapsed), 1),
        finished=kind in (FINISHED, KILLED, DEAD, CORRUPT), failed=True, changed=False, timed_out=False,
        killed=False, cleaned_up=bool(state.get('removed')),
    )
    if kind == FINISHED:
        entry.update(failed=bool(result.get('failed')), changed=bool(result.get('changed')),
                     timed_out=bool(result.get('failed')) and result.get('msg') == WRAPPER_TIMEOUT_MSG and 'child_pid' in result)
    elif kind == KILLED:
        entry.update(timed_out=True, killed=True, killed_pids=state.get('killed_pids', []))
    elif kind == RUNNING:
        # Left running at the timeout, or only looked at in check mode.
        entry.update(timed_out=bool(state.get('timed_out')), failed=bool(state.get('timed_out')))
    if state.get('msg') and kind != FINISHED:
        entry['msg'] = state['msg']
    return entry


def summarize(host, kinds, entries, skipped, elapsed):
    """The task's ``msg``: counts per outcome, and the jids of the jobs that did not go well."""
    by_label = {}
    for kind, entry in zip(kinds, entries):
        by_label.setdefault(_label(kind, entry), []).append(entry['jid'])
    parts = ['%d ok' % len(by_label.pop('ok', []))]
    for label in ('failed', 'died', 'unreadable', 'vanished', 'timed out', 'killed', 'running'):
        if label in by_label:
            parts.append('%d %s (%s)' % (len(by_label[label]), label, ', '.join(by_label[label])))
    text = '%d job%s on %s in %.1fs: %s.' % (len(entries), '' if len(entries) == 1 else 's', host, elapsed, ', '.join(parts))
    if skipped:
        text += ' %d skipped item%s not waited for.' % (len(skipped), '' if len(skipped) == 1 else 's')
    return text


def assemble(host, jids, states, elapsed_of, skipped, ticks, elapsed, fail_on_job_failure):
    """The task result from the final state of every job (``states`` and ``elapsed_of`` by jid)."""
    entries = [job_entry(jid, states[jid], elapsed_of[jid]) for jid in jids]
    return {
        'jobs': entries,
        'skipped_jobs': skipped,
        'ticks': ticks,
        'elapsed': round(elapsed, 1),
        'changed': any(entry['changed'] for entry in entries),
        'failed': fail_on_job_failure and any(entry['failed'] for entry in entries),
        'msg': summarize(host, [states[jid]['state'] for jid in jids], entries, skipped, elapsed),
    }


def _describe(jid, state):
    kind = state['state']
    if kind == FINISHED:
        result = state.get('result') or {}
        details = ['rc=%s' % result['rc']] if 'rc' in result else []
        details += ['failed'] if result.get('failed') else []
        details += ['changed'] if result.get('changed') else []
        return '%s done%s' % (jid, ' (%s)' % ', '.join(details) if details else '')
    return '%s %s' % (jid, kind)


class _CheckFailed(Exception):
    def __init__(self, result):
        super().__init__(result.get('msg'))
        self.result = result


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def _get_async_dir(self):
        # As ansible-core's async_status action: the shell's async_dir option (ansible_async_dir),
        # with "~" expanded on the host for the user the task becomes.
        return self._remote_expand_user(self.get_shell_option('async_dir', default='~/.ansible_async'))

    def _check(self, jids, task_vars, async_dir, cleanup, kill=False, first=False):
        """One run of the module on the host for all the given jobs: their states by jid.

        The module refuses jids it cannot find, touching nothing; on the first check that is bad
        input and fails the task, later it means that a job file was removed while the task
        waited: those jobs are reported as vanished and the others checked again at once."""
        vanished = {}
        while True:
            result = self._execute_module(
                module_name=MODULE, task_vars=task_vars,
                module_args={'jobs': [self._connection._shell.join_path(async_dir, jid) for jid in jids],
                             'cleanup': cleanup, 'kill_on_timeout': kill},
            )
            unknown = result.get('unknown_jids') if result.get('failed') else None
            if unknown and not first and set(unknown) <= set(jids):
                for jid in unknown:
                    path = self._connection._shell.join_path(async_dir, jid)
                    vanished[jid] = {'state': MISSING, 'path': path,
                                     'msg': 'The job file %s disappeared while this task waited for it.' % path}
                jids = [jid for jid in jids if jid not in unknown]
                if jids:
                    continue
                return vanished
            if result.get('failed'):
                raise _CheckFailed(result)
            states = {state['jid']: state for state in result['job_states']}
            states.update(vanished)
            return states

    def run(self, tmp=None, task_vars=None):
        del tmp
        result = super().run(task_vars=task_vars)
        task_vars = task_vars or {}

        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        for name in ('timeout', 'delay'):
            if args[name] < 0:
                raise AnsibleActionFail('%s must be 0 or more seconds, got %s.' % (name, args[name]), obj=self._task.args)
        try:
            jids, skipped = flatten_jobs(args['jobs'])
        except JobsInputError as error:
            raise AnsibleActionFail('Bad jobs for wait_jobs, no job was touched. %s' % error, obj=self._task.args) from None

        host = task_vars.get('inventory_hostname', 'the host')
        if not jids:
            result.update(assemble(host, [], {}, {}, skipped, [], 0.0, args['fail_on_job_failure']))
            result['msg'] = 'No job to wait for on %s%s.' % (host, ': every item was skipped' if skipped else '')
            return result

        try:
            result.update(self._wait(host, jids, skipped, args, task_vars))
        except _CheckFailed as error:
            result.update(error.result)
            result['failed'] = True
        return result

    def _wait(self, host, jids, skipped, args, task_vars):
        check_mode = self._task.check_mode
        cleanup = args['cleanup'] and not check_mode
        timeout, delay = args['timeout'], args['delay']
        async_dir = self._get_async_dir()

        states, elapsed_of, ticks = {}, {}, []
        pending = list(jids)
        start = time.monotonic()
        deadline = start + timeout if timeout else None
        while True:
            checked_at = time.monotonic()
            try:
                seen = self._check(pending, task_vars, async_dir, cleanup, first=not ticks)
            except _CheckFailed as error:
                if error.result.get('unknown_jids'):
                    error.result['msg'] = 'Bad jobs for wait_jobs on %s, no job was touched. %s' % (host, error.result['msg'])
                raise
            now = time.monotonic()
            ended = []
            for jid in pending:
                state = seen[jid]
                if state['state'] == RUNNING:
                    continue
                states[jid] = state
                elapsed_of[jid] = min(now - start, max(0.0, now - state.get('finished_ago', 0.0) - start))
                ended.append(jid)
            pending = [jid for jid in pending if jid not in ended]
            ticks.append({'elapsed': round(checked_at - start, 1), 'pending': len(pending),
                          'done': len(jids) - len(pending), 'finished': ended, 'running': list(pending)})
            display.display('%d/%d jobs done on %s, %ds' % (len(jids) - len(pending), len(jids), host, round(checked_at - start)))
            display.v('; '.join([_describe(jid, states[jid]) for jid in ended] + ['%s running' % jid for jid in pending]), host=host)

            if not pending or check_mode or (deadline is not None and now >= deadline):
                break
            next_check = max(start + len(ticks) * delay, now)
            if deadline is not None:
                next_check = min(next_check, deadline)
            time.sleep(max(0.0, next_check - time.monotonic()))

        if pending and check_mode:
            for jid in pending:
                seen[jid]['msg'] = 'Still running; in check mode this task looks once and does not wait.'
        elif pending:
            if args['kill_on_timeout']:
                seen = self._check(pending, task_vars, async_dir, cleanup, kill=True)
                display.v('; '.join(_describe(jid, seen[jid]) for jid in pending), host=host)
            else:
                for jid in pending:
                    seen[jid]['timed_out'] = True
                    seen[jid]['msg'] = ('Still running when the timeout of %gs ran out; left running with its job file, '
                                        'so that a later wait_jobs can collect it.' % timeout)
        elapsed = time.monotonic() - start
        for jid in pending:
            states[jid] = seen[jid]
            elapsed_of[jid] = elapsed
            if seen[jid]['state'] == FINISHED:  # ended between the last check and the kill
                elapsed_of[jid] = max(0.0, elapsed - seen[jid].get('finished_ago', 0.0))
        return assemble(host, jids, states, elapsed_of, skipped, ticks, elapsed, args['fail_on_job_failure'])
