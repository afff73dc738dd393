# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find, and kill, the processes of an async job that ansible-core's async_wrapper started.

The job file holds no pid while the job runs (async_wrapper writes ``child_pid`` only when it
kills a job at its async limit), and the pid at the end of a jid belongs to the launching process,
which exits as soon as the job has started. What is reliable, in ansible-core 2.19 to 2.21, is
the command line: the controller runs ``<python> <tmpdir>/async_wrapper.py <jid prefix> <limit>
...`` where the jid is ``<jid prefix>.<pid>``, and async_wrapper forks without exec, so both of
the processes that live as long as the job keep that command line:

- the supervisor, daemonized with ``setsid()`` (a session of its own whose leader has exited),
  which kills the job at its async limit and then exits;
- its child, which ``setpgid()``s to a process group of its own, runs the module as a
  subprocess and writes the result to the job file before it exits.

So a job still marked running in its job file whose wrapper processes are all gone has died
without writing its result. The job's process tree is the wrappers, every descendant (through
the parent pids), and everything left in the wrapper's own session.

Processes are read from ``/proc`` (Linux), else from ``ps``; when neither can be read, liveness
is unknown (``None``) and no job is declared dead.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections import namedtuple

Process = namedtuple('Process', 'pid ppid pgid sid argv')


def _proc_table(proc='/proc'):
    table = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, 'stat'), 'rb') as stat_file:
                stat = stat_file.read().decode('utf-8', errors='replace')
            with open(os.path.join(proc, entry, 'cmdline'), 'rb') as cmdline_file:
                cmdline = cmdline_file.read()
        except OSError:
            continue  # gone meanwhile, or hidden from us
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(')') + 2:].split()
        argv = [arg.decode('utf-8', errors='surrogateescape') for arg in cmdline.split(b'\0') if arg]
        table.append(Process(int(entry), int(fields[1]), int(fields[2]), int(fields[3]), argv))
    return table


def _ps_table(run_command):
    rc, output, dummy = run_command(['ps', '-A', '-o', 'pid=', '-o', 'ppid=', '-o', 'pgid=', '-o', 'args='])
    if rc != 0:
        return None
    table = []
    for line in output.splitlines():
        fields = line.split(None, 3)
        if len(fields) < 3:
            continue
        argv = fields[3].split() if len(fields) == 4 else []
        table.append(Process(int(fields[0]), int(fields[1]), int(fields[2]), None, argv))
    return table


def process_table(run_command=None):
    """Every process this user can see, or None when the process table cannot be read.

    run_command: AnsibleModule.run_command, to ask ``ps`` where there is no ``/proc``."""
    if os.path.isdir('/proc/self'):
        try:
            return _proc_table()
        except OSError:
            pass
    if run_command is None:
        return None
    try:
        return _ps_table(run_command)
    except (OSError, ValueError):
        return None


def jid_prefix(jid):
    """The part of a jid that the controller put on async_wrapper's command line."""
    return jid.rsplit('.', 1)[0]


def _wrapper_argv_index(argv, prefix):
    for index, arg in enumerate(argv[:-1]):
        if 'async_wrapper' in os.path.basename(arg) and argv[index + 1] == prefix:
            return index
    return None


def wrapper_processes(table, jid):
    """The async_wrapper processes of this job (supervisor and module runner) in ``table``."""
    prefix = jid_prefix(jid)
    return [process for process in table if _wrapper_argv_index(process.argv, prefix) is not None]


def is_job_alive(table, jid):
    """True/False when the table says, None when there is no table to ask."""
    if table is None:
        return None
    return bool(wrapper_processes(table, jid))


def _environment(pid, proc='/proc'):
    try:
        with open(os.path.join(proc, str(pid), 'environ'), 'rb') as environ_file:
            raw = environ_file.read()
    except OSError:
        return None  # another user's process, or gone
    pairs = (entry.decode('utf-8', errors='surrogateescape').partition('=') for entry in raw.split(b'\0') if entry)
    return {name: value for name, dummy, value in pairs}


def wrapper_async_dir(process, proc='/proc'):
    """The async dir a wrapper process writes its job file in, or None if it cannot be told.

    async_wrapper takes it from ANSIBLE_ASYNC_DIR (default ``~/.ansible_async``) and expands ``~``
    with its own HOME; its environment is readable only by its user and root."""
    environment = _environment(process.pid, proc)
    if environment is None:
        return None
    async_dir = environment.get('ANSIBLE_ASYNC_DIR', '~/.ansible_async')
    if (async_dir == '~' or async_dir.startswith('~/')) and environment.get('HOME'):
        async_dir = environment['HOME'] + async_dir[1:]
    return os.path.realpath(os.path.expanduser(async_dir))


def is_job_starting_in(table, jid, async_dir):
    """True if this job may still be about to write its job file in ``async_dir``.

    That is while the launching wrapper (whose pid ends the jid) lives, or the module runner
    (the wrapper whose parent is a wrapper), which writes the file first thing and exits when
    the job is over; not when only the supervisor is left (it lingers a few seconds after the
    job). A wrapper writing elsewhere (another ansible_async_dir, another become user), or whose
    environment cannot be read, does not count."""
    if table is None:
        return False
    wrappers = wrapper_processes(table, jid)
    wrapper_pids = {process.pid for process in wrappers}
    launcher = jid.rsplit('.', 1)[-1]
    wanted = os.path.realpath(async_dir)
    return any(wrapper_async_dir(process) == wanted for process in wrappers
               if str(process.pid) == launcher or process.ppid in wrapper_pids)


def _protected_pids(table):
    """This process and its ancestors: never part of a job's tree, whatever the table says."""
    parents = {process.pid: process.ppid for process in table}
    protected = set()
    pid = os.getpid()
    while pid and pid not in protected:
        protected.add(pid)
        pid = parents.get(pid)
    protected.add(1)
    return protected


def job_process_tree(table, jid):
    """Pids of the job's wrappers, their descendants, and their daemon session's members."""
    wrappers = wrapper_processes(table, jid)
    members = {process.pid for process in wrappers}
    live_pids = {process.pid for process in table}
    # The session is the job's own only once async_wrapper has daemonized (its leader exited);
    # during the launch the wrapper still shares the login session, which must be left alone.
    sessions = {process.sid for process in wrappers if process.sid is not None and process.sid not in live_pids}
    groups = {process.pid for process in wrappers if process.pgid == process.pid}
    members.update(process.pid for process in table if process.sid in sessions or process.pgid in groups)
    children = {}
    for process in table:
        children.setdefault(process.ppid, []).append(process.pid)
    queue = list(members)
    while queue:
        for child in children.get(queue.pop(), ()):
            if child not in members:
                members.add(child)
                queue.append(child)
    return members - _protected_pids(table)


def _signal(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def job_tmpdir(table, jid):
    """The controller's remote tmpdir the job runs from, if async_wrapper would remove it itself.

    A killed supervisor cannot remove it, so the killer does; kept when the controller asked to
    keep remote files (2.21+: ``true`` after the limit; 2.19/2.20: ``-preserve_tmp``)."""
    prefix = jid_prefix(jid)
    for process in wrapper_processes(table, jid):
        index = _wrapper_argv_index(process.argv, prefix)
        tmpdir = os.path.dirname(process.argv[index])
        arguments = process.argv[index + 1:]
        preserve = '-preserve_tmp' in arguments or (len(arguments) > 2 and arguments[2] == 'true')
        if not preserve and os.path.basename(tmpdir).startswith('ansible-tmp-'):
            return tmpdir
    return None


def kill_job(jid, read_table=process_table):
    """Kill the job's whole process tree; return the pids signalled (empty: nothing was running).

    Every member is stopped first, then the tree is read again until it holds no new process (a
    stopped process cannot fork), and only then is everything killed, so that no child escapes
    by being born between the listing and the kill. The supervisor goes first, so that it
    cannot write its own "Timeout exceeded" result meanwhile."""
    table = read_table()
    if table is None:
        return []
    tmpdir = job_tmpdir(table, jid)
    supervisors = sorted(process.pid for process in wrapper_processes(table, jid))
    stopped = set()
    for _attempt in range(10):
        tree = job_process_tree(table, jid) | (stopped - _protected_pids(table))
        new = [pid for pid in supervisors if pid in tree and pid not in stopped]
        new += sorted(tree - stopped - set(new))
        if not new:
            break
        _signal(new, signal.SIGSTOP)
        stopped.update(new)
        table = read_table() or []
    _signal(sorted(stopped), signal.SIGKILL)
    if tmpdir and stopped:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return sorted(stopped)
