# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module as the action runs it: one call, many jobs, started by ansible-core's async_wrapper."""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes
from ansible_collections.org.async_jobs.plugins.modules import wait_jobs
from ansible_collections.org.async_jobs.tests.unit.plugins.module_utils.async_wrapper_jobs import start_job, wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')

QUICK = 'echo \'{"changed": true, "rc": 0, "stdout": "quick"}\''
SLOW = 'sleep 60 & wait; echo \'{"rc": 0}\''


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            wait_jobs.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def async_dir(tmp_path):
    return tmp_path / 'async'


@pytest.fixture
def two_jobs(async_dir, tmp_path):
    quick = start_job(async_dir, tmp_path / 'tmp', QUICK)
    slow = start_job(async_dir, tmp_path / 'tmp', SLOW)
    assert wait_until(lambda: 'quick' in (async_dir / quick).read_text())
    yield quick, slow
    processes.kill_job(slow)


def test_one_call_reports_every_job_and_removes_finished_files(capsys, async_dir, two_jobs):
    quick, slow = two_jobs
    result = run_module(capsys, {'jobs': [str(async_dir / slow), str(async_dir / quick)]})
    assert not result.get('failed') and result['changed'] is True
    assert [(state['jid'], state['state']) for state in result['job_states']] == [(slow, 'running'), (quick, 'finished')]
    assert result['job_states'][1]['result'] == {'changed': True, 'rc': 0, 'stdout': 'quick'}
    assert os.listdir(str(async_dir)) == [slow]


def test_an_unknown_jid_on_the_first_check_fails_and_touches_nothing(capsys, async_dir, two_jobs):
    quick, slow = two_jobs
    result = run_module(capsys, {'jobs': [str(async_dir / jid) for jid in (quick, 'j4.2', slow)], 'kill_on_timeout': True})
    assert result['failed'] is True and result['unknown_jids'] == ['j4.2']
    assert 'j4.2' in result['msg'] and str(async_dir) in result['msg']
    assert sorted(os.listdir(str(async_dir))) == sorted([quick, slow])
    assert processes.is_job_alive(processes.process_table(), slow)


def test_kill_ends_what_still_runs(capsys, async_dir, two_jobs):
    quick, slow = two_jobs
    result = run_module(capsys, {'jobs': [str(async_dir / slow)], 'kill_on_timeout': True})
    state, = result['job_states']
    assert state['state'] == 'killed' and state['killed_pids']
    assert os.listdir(str(async_dir)) == [quick]


def test_check_mode_changes_nothing(capsys, async_dir, two_jobs):
    quick, slow = two_jobs
    result = run_module(capsys, {'jobs': [str(async_dir / quick), str(async_dir / slow)], 'kill_on_timeout': True,
                                 '_ansible_check_mode': True})
    assert result['changed'] is False
    assert [state['state'] for state in result['job_states']] == ['finished', 'running']
    assert sorted(os.listdir(str(async_dir))) == sorted([quick, slow])


@pytest.mark.parametrize('jobs', [['/tmp/a/..'], ['/tmp/a/.hidden'], '/tmp/a/j1.1', [{'ansible_job_id': 'j1.1'}]])
def test_anything_but_a_list_of_job_files_is_refused(capsys, jobs):
    result = run_module(capsys, {'jobs': jobs})
    assert result['failed'] is True and 'list of job files' in result['msg']


def test_job_files_in_several_directories_are_refused(capsys):
    result = run_module(capsys, {'jobs': ['/tmp/a/j1.1', '/tmp/b/j2.2']})
    assert result['failed'] is True and 'several directories' in result['msg']
