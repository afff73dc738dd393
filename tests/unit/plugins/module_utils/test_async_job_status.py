# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One check over many jobs, against ansible-core's real async_wrapper."""

from __future__ import annotations

import json
import os
import signal

import pytest

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_files as files
from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes
from ansible_collections.org.async_jobs.plugins.module_utils.async_job_status import DEAD, KILLED, UnknownJobs, check_jobs
from ansible_collections.org.async_jobs.tests.unit.plugins.module_utils.async_wrapper_jobs import (
    kill_wrappers_only, only_the_supervisor_is_left, wait_until)

pytestmark = pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')

QUICK = 'echo \'{"changed": true, "rc": 0, "stdout": "quick"}\''
FAILING = 'echo \'{"failed": true, "rc": 3, "msg": "non-zero return code"}\''
SLOW = 'sleep 60 & wait; echo \'{"rc": 0}\''


def finished(async_dir, jid):
    return lambda: files.read_job_file(async_dir, jid)['state'] == files.FINISHED


def test_one_check_reads_every_job_in_order_and_cleans_up_only_finished_ones(jobs):
    quick, failing, slow = jobs(QUICK), jobs(FAILING), jobs(SLOW)
    assert wait_until(finished(jobs.async_dir, quick)) and wait_until(finished(jobs.async_dir, failing))
    states = check_jobs(jobs.async_dir, [slow, quick, failing], cleanup=True)
    assert [state['jid'] for state in states] == [slow, quick, failing]
    assert [state['state'] for state in states] == [files.RUNNING, files.FINISHED, files.FINISHED]
    assert states[1]['result']['stdout'] == 'quick' and states[2]['result']['rc'] == 3
    assert states[1]['removed'] == [os.path.join(jobs.async_dir, quick)]
    assert sorted(os.listdir(jobs.async_dir)) == [slow]


def test_a_job_whose_wrapper_died_is_dead_and_its_file_is_left(jobs):
    slow = jobs(SLOW)
    orphans = kill_wrappers_only(slow)
    try:
        assert wait_until(lambda: not processes.wrapper_processes(processes.process_table(), slow), timeout=5)
        state, = check_jobs(jobs.async_dir, [slow], cleanup=True)
        assert state['state'] == DEAD
        assert 'died without writing its result' in state['msg'] and state['path'] in state['msg']
        assert os.listdir(jobs.async_dir) == [slow]
    finally:
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)


def test_an_unknown_jid_fails_the_first_check_before_anything_is_touched(jobs):
    quick, slow = jobs(QUICK), jobs(SLOW)
    assert wait_until(finished(jobs.async_dir, quick))
    with pytest.raises(UnknownJobs) as raised:
        check_jobs(jobs.async_dir, [quick, 'j999.1', slow], require_known=True, cleanup=True, kill=True)
    assert raised.value.jids == ['j999.1']
    assert 'j999.1' in str(raised.value) and 'become' in str(raised.value)
    assert sorted(os.listdir(jobs.async_dir)) == sorted([quick, slow])
    assert processes.is_job_alive(processes.process_table(), slow)
    # Later checks report a vanished job instead of failing the others.
    assert [state['state'] for state in check_jobs(jobs.async_dir, ['j999.1', quick])] == [files.MISSING, files.FINISHED]


def test_kill_stops_the_running_jobs_and_cleans_up(jobs):
    slow = jobs(SLOW)
    tree = processes.job_process_tree(processes.process_table(), slow)
    state, = check_jobs(jobs.async_dir, [slow], cleanup=True, kill=True)
    assert state['state'] == KILLED and set(state['killed_pids']) >= tree
    assert os.listdir(jobs.async_dir) == []
    # SIGKILL is delivered at once, but a process takes a moment to be gone from /proc
    assert wait_until(lambda: not processes.is_job_alive(processes.process_table(), slow), timeout=5)


def test_kill_without_cleanup_records_the_kill_in_the_job_file(jobs):
    slow = jobs(SLOW)
    state, = check_jobs(jobs.async_dir, [slow], kill=True)
    assert state['state'] == KILLED
    recorded = json.loads(open(os.path.join(jobs.async_dir, slow)).read())
    assert recorded['killed'] is True and recorded['failed'] is True
    assert check_jobs(jobs.async_dir, [slow])[0]['state'] == files.FINISHED


def test_check_mode_neither_kills_nor_removes(jobs):
    quick, slow = jobs(QUICK), jobs(SLOW)
    assert wait_until(finished(jobs.async_dir, quick))
    states = check_jobs(jobs.async_dir, [quick, slow], cleanup=True, kill=True, check_mode=True)
    assert [state['state'] for state in states] == [files.FINISHED, files.RUNNING]
    assert 'removed' not in states[0]
    assert sorted(os.listdir(jobs.async_dir)) == sorted([quick, slow])
    assert processes.is_job_alive(processes.process_table(), slow)


def test_a_job_whose_file_is_not_written_yet_but_whose_wrapper_runs_is_running(jobs):
    slow = jobs(SLOW)
    os.unlink(os.path.join(jobs.async_dir, slow))
    state, = check_jobs(jobs.async_dir, [slow], require_known=True)
    assert state['state'] == files.RUNNING


def test_a_finished_job_whose_file_was_removed_is_unknown_though_its_supervisor_lingers(jobs):
    # The supervisor notices the runner's exit at its next 5 s wake-up; on a busy machine the
    # runner can take longer than that, leaving no moment with only the supervisor: try again.
    for dummy in range(3):
        quick = jobs(QUICK)
        assert wait_until(finished(jobs.async_dir, quick))
        if wait_until(lambda: only_the_supervisor_is_left(quick), timeout=6):
            break
    else:
        pytest.fail('three quick jobs in a row never had their supervisor outlive the runner')
    os.unlink(os.path.join(jobs.async_dir, quick))
    with pytest.raises(UnknownJobs):
        check_jobs(jobs.async_dir, [quick], require_known=True)


def test_a_running_job_of_another_async_dir_is_unknown_here(jobs, tmp_path):
    # As when the job was started with become and the wait is not, or with another ansible_async_dir.
    slow = jobs(SLOW)
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    with pytest.raises(UnknownJobs):
        check_jobs(str(elsewhere), [slow], require_known=True)


def test_corrupt_and_unreadable_files_are_reported_and_left(tmp_path):
    (tmp_path / 'j1.1').write_text('{"rc"')
    (tmp_path / 'j2.2').mkdir()
    states = check_jobs(str(tmp_path), ['j1.1', 'j2.2'], cleanup=True)
    assert [state['state'] for state in states] == [files.CORRUPT, files.UNREADABLE]
    assert sorted(os.listdir(str(tmp_path))) == ['j1.1', 'j2.2']


def test_without_a_process_table_a_running_job_is_never_declared_dead(tmp_path):
    (tmp_path / 'j1.1').write_text(json.dumps({'started': True, 'finished': False}))
    state, = check_jobs(str(tmp_path), ['j1.1'], read_table=lambda: None)
    assert state['state'] == files.RUNNING
