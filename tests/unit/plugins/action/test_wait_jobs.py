# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input flattening, result assembly, and the wait loop of the wait_jobs action.

The loop tests run the real wait_jobs module on real jobs of ansible-core's async_wrapper in a
local async dir; only the transport (``_execute_module``, which would ship the module to a host)
is replaced by a direct call of the module.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.module_utils.testing import patch_module_args
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.org.async_jobs.plugins.action import wait_jobs as action
from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes
from ansible_collections.org.async_jobs.plugins.modules import wait_jobs as wait_jobs_module
from ansible_collections.org.async_jobs.tests.unit.plugins.module_utils.async_wrapper_jobs import wait_until

LOOP_RESULT = {
    'changed': True,
    'msg': 'All items completed',
    'results': [
        {'ansible_job_id': 'j1.10', 'started': 1, 'finished': 0, 'item': 'a', 'ansible_loop_var': 'item'},
        {'skipped': True, 'skip_reason': 'Conditional result was False', 'item': 'b', 'ansible_loop_var': 'item'},
        {'ansible_job_id': 'j2.20', 'started': 1, 'finished': 0, 'group': 'c', 'ansible_loop_var': 'group'},
    ],
}


# --- input ----------------------------------------------------------------------------------

def test_a_registered_loop_gives_its_jobs_in_order_and_reports_skipped_items():
    jids, skipped = action.flatten_jobs(LOOP_RESULT)
    assert jids == ['j1.10', 'j2.20']
    assert skipped == [{'path': 'jobs.results[1]', 'item': 'b', 'skip_reason': 'Conditional result was False'}]


def test_a_mixed_list_is_flattened_in_order_without_repeats():
    jids, skipped = action.flatten_jobs(['j9.9', {'ansible_job_id': 'j3.3'}, LOOP_RESULT, [['j1.10', 'j5.5']]])
    assert jids == ['j9.9', 'j3.3', 'j1.10', 'j2.20', 'j5.5']
    assert [entry['path'] for entry in skipped] == ['jobs[2].results[1]']


def test_a_single_jid_and_an_empty_list():
    assert action.flatten_jobs('j1.1') == (['j1.1'], [])
    assert action.flatten_jobs([]) == ([], [])


@pytest.mark.parametrize('jobs, words', [
    (42, 'jobs: expected a job id, a registered async result, a registered loop or a list of these, got int 42'),
    (None, 'jobs: expected a job id'),
    ([True], 'jobs[0]: expected a job id'),
    ({'changed': False, 'rc': 0}, 'jobs: this result has no ansible_job_id: the task that registered it did not start an async job'),
    ({'results': [{'ansible_job_id': 'j1.1'}, {'failed': True, 'msg': 'boom'}]},
     'jobs.results[1]: this result has no ansible_job_id: the task that registered it failed before starting a job (boom)'),
    (['j1.1', '../../etc/passwd'], "jobs[1]: '../../etc/passwd' is not a job id"),
    ([{'ansible_job_id': 12}], 'jobs[0].ansible_job_id: a job id is a string'),
])
def test_bad_input_names_the_bad_element(jobs, words):
    with pytest.raises(action.JobsInputError) as raised:
        action.flatten_jobs(jobs)
    assert words in str(raised.value)


# --- result assembly ----------------------------------------------------------------------------

def test_job_entries_carry_the_jobs_own_result_under_the_common_keys():
    states = {
        'j1.1': {'state': 'finished', 'path': '/a/j1.1', 'removed': ['/a/j1.1'],
                 'result': {'changed': True, 'rc': 0, 'stdout': 'ok', '_ansible_no_log': False}},
        'j2.2': {'state': 'finished', 'path': '/a/j2.2', 'result': {'failed': True, 'rc': 2, 'msg': 'non-zero return code'}},
        'j3.3': {'state': 'finished', 'path': '/a/j3.3', 'result': {'failed': True, 'msg': 'Timeout exceeded', 'child_pid': 7}},
        'j4.4': {'state': 'killed', 'path': '/a/j4.4', 'killed_pids': [8, 9], 'msg': 'Killed'},
        'j5.5': {'state': 'running', 'path': '/a/j5.5', 'timed_out': True, 'msg': 'Still running'},
        'j6.6': {'state': 'dead', 'path': '/a/j6.6', 'msg': 'died'},
    }
    jids = list(states)
    result = action.assemble('web1', jids, states, dict.fromkeys(jids, 1.234), [], [], 9.87, True)
    jobs = {entry['jid']: entry for entry in result['jobs']}
    assert [entry['jid'] for entry in result['jobs']] == jids
    assert jobs['j1.1'] == {'jid': 'j1.1', 'ansible_job_id': 'j1.1', 'results_file': '/a/j1.1', 'elapsed': 1.2, 'finished': True,
                            'failed': False, 'changed': True, 'timed_out': False, 'killed': False, 'cleaned_up': True,
                            'rc': 0, 'stdout': 'ok'}
    assert jobs['j2.2']['failed'] and not jobs['j2.2']['timed_out'] and jobs['j2.2']['msg'] == 'non-zero return code'
    assert jobs['j3.3']['failed'] and jobs['j3.3']['timed_out'] and not jobs['j3.3']['killed']
    assert jobs['j4.4']['killed'] and jobs['j4.4']['timed_out'] and jobs['j4.4']['finished'] and jobs['j4.4']['killed_pids'] == [8, 9]
    assert not jobs['j5.5']['finished'] and jobs['j5.5']['timed_out'] and jobs['j5.5']['failed']
    assert jobs['j6.6']['finished'] and jobs['j6.6']['failed'] and jobs['j6.6']['msg'] == 'died'
    assert result['changed'] is True and result['failed'] is True and result['elapsed'] == 9.9
    assert result['msg'] == ('6 jobs on web1 in 9.9s: 1 ok, 1 failed (j2.2), 1 died (j6.6), '
                             '2 timed out (j3.3, j5.5), 1 killed (j4.4).')


def test_without_fail_on_job_failure_the_task_reports_but_does_not_fail():
    states = {'j1.1': {'state': 'finished', 'path': '/a/j1.1', 'result': {'failed': True, 'changed': True}}}
    result = action.assemble('web1', ['j1.1'], states, {'j1.1': 0}, [{'path': 'jobs[1]'}], [], 1, False)
    assert result['failed'] is False and result['changed'] is True and result['jobs'][0]['failed'] is True
    assert result['msg'].endswith('1 skipped item not waited for.')


def test_unchanged_jobs_make_an_unchanged_task():
    states = {'j1.1': {'state': 'finished', 'path': '/a/j1.1', 'result': {'rc': 0}}}
    assert action.assemble('web1', ['j1.1'], states, {'j1.1': 0}, [], [], 1, True)['changed'] is False


# --- the wait loop ---------------------------------------------------------------------------------

class LocalWaitJobs(action.ActionModule):
    """The action, with the module's code run here instead of on a host."""

    def __init__(self, args, async_dir, check_mode=False):
        task = Task()
        task.args = args
        task.check_mode = check_mode
        connection = mock.Mock()
        connection._shell.join_path = os.path.join
        super().__init__(task, connection, PlayContext(), None, None, None)
        self.async_dir = async_dir
        self.calls = []

    def _get_async_dir(self):
        return self.async_dir

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        assert module_name == 'org.async_jobs.wait_jobs'
        self.calls.append(dict(module_args))
        output = io.StringIO()
        with patch_module_args(dict(module_args, _ansible_check_mode=self._task.check_mode)):
            with contextlib.redirect_stdout(output), pytest.raises(SystemExit):
                wait_jobs_module.main()
        return json.loads(output.getvalue())


def run(args, async_dir, check_mode=False):
    plugin = LocalWaitJobs(args, async_dir, check_mode)
    with mock.patch.object(action, 'display') as display:
        result = plugin.run(task_vars={'inventory_hostname': 'web1'})
    return result, plugin.calls, [call.args[0] for call in display.display.call_args_list]


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')
def test_one_call_per_check_until_all_jobs_are_done(jobs):
    quick = jobs('echo \'{"changed": false, "rc": 0}\'')
    slower = jobs('sleep 1.5; echo \'{"changed": true, "rc": 0}\'')
    result, calls, lines = run({'jobs': [{'ansible_job_id': slower}, quick], 'delay': 0.5, 'timeout': 30}, jobs.async_dir)
    assert not result['failed'] and result['changed'] is True
    assert [entry['jid'] for entry in result['jobs']] == [slower, quick]
    assert len(calls) == len(result['ticks']) >= 2
    assert all(call['jobs'][0].startswith(jobs.async_dir + '/') for call in calls)
    assert all(len(call['jobs']) == result['ticks'][index - 1]['pending'] for index, call in enumerate(calls) if index)
    assert result['ticks'][0]['elapsed'] == 0.0 and result['ticks'][-1]['pending'] == 0
    assert lines[-1].startswith('2/2 jobs done on web1, ') and len(lines) == len(calls)
    assert os.listdir(jobs.async_dir) == []


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')
def test_on_timeout_a_job_is_left_running_or_killed(jobs):
    slow = jobs('sleep 60 & wait; echo \'{"rc": 0}\'')
    result, calls, dummy = run({'jobs': slow, 'delay': 0.5, 'timeout': 1.2}, jobs.async_dir)
    entry, = result['jobs']
    assert result['failed'] is True and entry['timed_out'] and not entry['finished'] and not entry['killed']
    assert 1.2 <= result['ticks'][-1]['elapsed'] < 10
    assert processes.is_job_alive(processes.process_table(), slow) and os.listdir(jobs.async_dir) == [slow]

    result, calls, dummy = run({'jobs': slow, 'delay': 0.5, 'timeout': 0.5, 'kill_on_timeout': True}, jobs.async_dir)
    entry, = result['jobs']
    assert entry['killed'] and entry['timed_out'] and entry['finished'] and entry['failed']
    assert calls[-1]['kill_on_timeout'] is True and not any(call['kill_on_timeout'] for call in calls[:-1])
    assert wait_until(lambda: not processes.is_job_alive(processes.process_table(), slow), timeout=5)
    assert os.listdir(jobs.async_dir) == []


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')
def test_an_unknown_jid_fails_at_once_and_touches_nothing(jobs):
    quick = jobs('echo \'{"rc": 0}\'')
    assert wait_until(lambda: '"rc"' in open(os.path.join(jobs.async_dir, quick)).read())
    result, calls, dummy = run({'jobs': [quick, 'j77.7']}, jobs.async_dir)
    assert result['failed'] is True and result['unknown_jids'] == ['j77.7'] and len(calls) == 1
    assert 'no job was touched' in result['msg']
    assert os.listdir(jobs.async_dir) == [quick]


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')
def test_check_mode_looks_once_and_touches_nothing(jobs):
    slow = jobs('sleep 60 & wait; echo \'{"rc": 0}\'')
    result, calls, dummy = run({'jobs': slow, 'timeout': 5, 'kill_on_timeout': True}, jobs.async_dir, check_mode=True)
    assert len(calls) == 1 and calls[0]['cleanup'] is False
    assert result['failed'] is False and result['jobs'][0]['finished'] is False and result['jobs'][0]['timed_out'] is False
    assert processes.is_job_alive(processes.process_table(), slow) and os.listdir(jobs.async_dir) == [slow]


def test_nothing_to_wait_for_makes_no_call(tmp_path):
    result, calls, dummy = run({'jobs': {'results': [{'skipped': True, 'item': 1}]}}, str(tmp_path))
    assert calls == [] and result['jobs'] == [] and result['failed'] is False
    assert result['skipped_jobs'] == [{'path': 'jobs.results[0]', 'item': 1}]


@pytest.mark.parametrize('args, words', [
    ({'jobs': 'j1.1', 'timeout': -1}, 'timeout must be 0 or more seconds'),
    ({'jobs': 'j1.1', 'delay': -0.5}, 'delay must be 0 or more seconds'),
    ({'jobs': [{'rc': 0}]}, 'Bad jobs for wait_jobs, no job was touched. jobs[0]: this result has no ansible_job_id'),
    ({'jobs': 'j1.1', 'retries': 3}, 'retries'),
])
def test_bad_options_fail_before_any_call(tmp_path, args, words):
    plugin = LocalWaitJobs(args, str(tmp_path))
    with pytest.raises(AnsibleActionFail) as raised:
        plugin.run(task_vars={'inventory_hostname': 'web1'})
    assert words in str(raised.value) and plugin.calls == []


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')
def test_a_job_file_removed_during_the_wait_is_reported_and_the_others_go_on(jobs):
    slow = jobs('sleep 60 & wait; echo \'{"rc": 0}\'')
    other = jobs('sleep 1; echo \'{"changed": true, "rc": 0}\'')
    plugin = LocalWaitJobs({'jobs': [slow, other], 'delay': 0.3, 'timeout': 20}, jobs.async_dir)
    real_execute = plugin._execute_module

    def execute(**kwargs):
        if len(plugin.calls) == 1:
            processes.kill_job(slow)
            os.unlink(os.path.join(jobs.async_dir, slow))
        return real_execute(**kwargs)
    plugin._execute_module = execute
    with mock.patch.object(action, 'display'):
        result = plugin.run(task_vars={'inventory_hostname': 'web1'})
    vanished, finished = result['jobs']
    assert vanished['failed'] and not vanished['finished'] and 'disappeared' in vanished['msg']
    assert finished['changed'] and not finished['failed'] and finished['finished']
    assert '1 vanished (%s)' % slow in result['msg']
