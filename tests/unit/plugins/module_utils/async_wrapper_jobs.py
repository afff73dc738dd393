# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start real async jobs for the tests: ansible-core's own async_wrapper.py, run as the controller
runs it (from an ``ansible-tmp-*`` directory, with a jid prefix and a time limit), on a shell
script standing in for a module."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, distribution

import ansible

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes


def _wrapper_path():
    # The file, not the module (importing it runs its syslog and pipe set-up), from the installed
    # ansible-core: ansible-test's units put a copy of ansible without modules first on the path.
    try:
        return str(distribution('ansible-core').locate_file('ansible/modules/async_wrapper.py'))
    except PackageNotFoundError:
        return os.path.join(os.path.dirname(ansible.__file__), 'modules', 'async_wrapper.py')


WRAPPER = _wrapper_path()


def _takes_module_command():
    # ansible-core 2.21 passes "<preserve_tmp> <module_path> <command...>", 2.19/2.20 "<module_path> <argsfile>".
    with open(WRAPPER, encoding='utf-8') as source:
        return 'invocation_args' in source.read()


def start_job(async_dir, tmp_root, script, limit=60, name='job'):
    """Start ``script`` (shell code whose stdout is the module's JSON result) under async_wrapper;
    return the job id it reports."""
    tmpdir = os.path.join(str(tmp_root), 'ansible-tmp-%s-%d' % (name, time.monotonic_ns()))
    os.makedirs(tmpdir)
    wrapper = os.path.join(tmpdir, 'async_wrapper.py')
    shutil.copy(WRAPPER, wrapper)
    module = os.path.join(tmpdir, 'AnsiballZ_fake.sh')
    with open(module, 'w', encoding='utf-8') as module_file:
        module_file.write('#!/bin/sh\n' + script + '\n')
    os.chmod(module, 0o700)
    prefix = 'j%d' % (time.monotonic_ns() % 999999999999)
    if _takes_module_command():
        command = [sys.executable, wrapper, prefix, str(limit), 'false', module, '/bin/sh', module]
    else:
        command = [sys.executable, wrapper, prefix, str(limit), module, '_']
    launched = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30,
                              env=dict(os.environ, ANSIBLE_ASYNC_DIR=str(async_dir)))
    result = json.loads(launched.stdout.strip().splitlines()[-1])
    assert result.get('started'), launched
    return result['ansible_job_id']


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def only_the_supervisor_is_left(jid):
    """True once the job's module runner has exited and just its supervisor lives on (it sleeps up
    to 5 s before it notices). The runner writes the job file before it exits, so a finished file
    alone does not say the runner is gone."""
    wrappers = processes.wrapper_processes(processes.process_table(), jid)
    wrapper_pids = {process.pid for process in wrappers}
    return len(wrappers) == 1 and wrappers[0].ppid not in wrapper_pids


def kill_wrappers_only(jid):
    """What an OOM killer or a kill -9 does to a job: the module lives on as an orphan, whose
    result nobody will write. Returns the orphans, for the test to end them."""
    table = processes.process_table()
    wrappers = processes.wrapper_processes(table, jid)
    orphans = processes.job_process_tree(table, jid) - {process.pid for process in wrappers}
    for process in wrappers:
        os.kill(process.pid, signal.SIGKILL)
    return orphans
