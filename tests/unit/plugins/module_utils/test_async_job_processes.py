# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Against ansible-core's real async_wrapper, started as the controller starts it."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes
from ansible_collections.org.async_jobs.tests.unit.plugins.module_utils.async_wrapper_jobs import kill_wrappers_only, start_job, wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='needs a Linux process table')

LONG_JOB = 'sleep 60 & wait; echo \'{"rc": 0}\''


def pids_alive(pids):
    alive = set()
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as stat:
                if stat.read().rsplit(')', 1)[1].split()[0] != 'Z':
                    alive.add(pid)
        except OSError:
            pass
    return alive


@pytest.fixture
def job(tmp_path):
    jid = start_job(tmp_path / 'async', tmp_path / 'tmp', LONG_JOB)
    yield jid
    processes.kill_job(jid)


def test_the_wrapper_of_a_running_job_is_found_by_its_jid(job):
    table = processes.process_table()
    wrappers = processes.wrapper_processes(table, job)
    assert len(wrappers) == 2  # the supervisor and the module runner
    assert {process.ppid for process in wrappers} & {process.pid for process in wrappers}
    assert processes.is_job_alive(table, job) is True
    assert processes.is_job_alive(table, 'j1.1') is False
    assert processes.is_job_alive(None, job) is None


def test_the_wrapper_says_where_it_writes_its_job_file(job, tmp_path):
    table = processes.process_table()
    assert {processes.wrapper_async_dir(process) for process in processes.wrapper_processes(table, job)} == {
        os.path.realpath(str(tmp_path / 'async'))}
    assert processes.is_job_starting_in(table, job, str(tmp_path / 'async'))
    assert not processes.is_job_starting_in(table, job, str(tmp_path))
    assert not processes.is_job_starting_in(None, job, str(tmp_path / 'async'))


def test_the_process_tree_holds_the_module_and_its_children(job):
    table = processes.process_table()
    tree = processes.job_process_tree(table, job)
    commands = [' '.join(process.argv) for process in table if process.pid in tree]
    assert any(command == 'sleep 60' for command in commands), commands
    assert os.getpid() not in tree and 1 not in tree


def test_kill_job_kills_the_whole_tree_and_removes_the_tmpdir(job, tmp_path):
    table = processes.process_table()
    tree = processes.job_process_tree(table, job)
    tmpdir = processes.job_tmpdir(table, job)
    assert tmpdir and os.path.isdir(tmpdir)
    killed = processes.kill_job(job)
    assert set(killed) >= tree
    assert wait_until(lambda: not pids_alive(tree), timeout=5)
    assert processes.is_job_alive(processes.process_table(), job) is False
    assert not os.path.exists(tmpdir)
    assert processes.kill_job(job) == []


def test_a_preserved_tmpdir_is_kept():
    argv = ['/usr/bin/python3', '/home/u/.ansible/tmp/ansible-tmp-1-2/async_wrapper.py', 'j5', '60', 'true', 'm.py']
    table = [processes.Process(10, 1, 10, 10, argv)]
    assert processes.job_tmpdir(table, 'j5.9') is None
    argv_2_19 = ['/usr/bin/python3', '/home/u/.ansible/tmp/ansible-tmp-1-2/async_wrapper.py', 'j5', '60', 'm.py', '_', '-preserve_tmp']
    assert processes.job_tmpdir([processes.Process(10, 1, 10, 10, argv_2_19)], 'j5.9') is None
    argv[4] = 'false'
    assert processes.job_tmpdir(table, 'j5.9') == '/home/u/.ansible/tmp/ansible-tmp-1-2'


def test_the_login_session_is_not_part_of_a_job_that_is_still_being_launched():
    # Before async_wrapper daemonizes, it shares the session of the login shell (pid 100): that
    # session's other processes are not the job's.
    wrapper = ['python3', '/t/ansible-tmp-1/async_wrapper.py', 'j7', '60']
    table = [
        processes.Process(100, 1, 100, 100, ['-bash']),
        processes.Process(101, 100, 101, 100, wrapper),
        processes.Process(102, 100, 102, 100, ['vim']),
        processes.Process(103, 101, 101, 100, ['sleep', '5']),
    ]
    assert processes.job_process_tree(table, 'j7.101') == {101, 103}
    # Daemonized: the session leader is gone, so the whole session is the job's.
    table = [
        processes.Process(201, 1, 200, 200, wrapper),
        processes.Process(202, 201, 202, 200, wrapper),
        processes.Process(204, 1, 204, 200, ['orphan']),
    ]
    assert processes.job_process_tree(table, 'j7.150') == {201, 202, 204}


def test_a_dead_wrapper_is_seen_as_dead(job):
    orphans = kill_wrappers_only(job)
    try:
        assert wait_until(lambda: processes.is_job_alive(processes.process_table(), job) is False, timeout=5)
    finally:
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)


def test_ps_is_the_fallback_table():
    def run_command(argv):
        completed = subprocess.run(argv, capture_output=True, text=True, check=False)
        return completed.returncode, completed.stdout, completed.stderr
    table = processes._ps_table(run_command)
    assert any(process.pid == os.getpid() and process.argv for process in table)
    assert processes._ps_table(lambda argv: (1, '', 'no ps')) is None
