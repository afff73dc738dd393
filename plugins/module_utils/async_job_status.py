# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One look at many async jobs: what the target side of org.async_jobs.wait_jobs does per check.

Reads every job file once, asks the process table (once, and only if some job still looks like
it runs) whether the job's async_wrapper lives, and then, as asked, kills what still runs and
removes the files of the jobs that are over.
"""

from __future__ import annotations

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_files as files
from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes

# States beyond those of a job file alone.
DEAD = 'dead'
KILLED = 'killed'

KILLED_MSG = 'Killed by org.async_jobs.wait_jobs when its timeout ran out.'


class UnknownJobs(Exception):
    """Some jids have neither a job file nor a live async_wrapper in this async dir."""

    def __init__(self, jids, async_dir):
        self.jids = jids
        self.async_dir = async_dir
        super().__init__(
            'No async job %s in %s: there is no job file and no async_wrapper process for %s. The job file '
            'may have been removed already (by a task with poll > 0, async_status mode=cleanup or an earlier '
            'wait_jobs), or the job was started with other become settings or another ansible_async_dir than '
            'this task uses.' % (', '.join(jids), async_dir, 'it' if len(jids) == 1 else 'them'))


def _dead(path):
    return {'state': DEAD, 'path': path,
            'msg': 'The job died without writing its result: its job file %s still says it runs, but no '
                   'async_wrapper process of it is left (it was killed, ran out of memory, or the host '
                   'restarted).' % path}


def check_jobs(async_dir, jids, require_known=False, cleanup=False, kill=False, check_mode=False,
               read_table=processes.process_table):
    """The state of each job, in the order of ``jids``, as a list of dicts (``jid``, ``state``,
    ``path`` and what async_job_files.read_job_file gives, plus ``killed_pids`` and ``removed``).

    require_known: raise UnknownJobs, before anything is changed, if a jid is unknown.
    kill: kill the process tree of each job that still runs (then write a result saying so).
    cleanup: remove the job files of the jobs that are over (finished or killed).
    check_mode: change nothing, whatever kill and cleanup say.
    """
    states = {jid: files.read_job_file(async_dir, jid) for jid in jids}
    cache = []

    def table():
        if not cache:
            cache.append(read_table())
        return cache[0]

    for jid, state in states.items():
        if state['state'] not in (files.RUNNING, files.MISSING):
            continue
        if state['state'] == files.MISSING:
            if processes.is_job_starting_in(table(), jid, async_dir):
                # Launched so recently that async_wrapper has not written the job file yet.
                states[jid] = {'state': files.RUNNING, 'path': state['path']}
            continue
        if processes.is_job_alive(table(), jid) is False:
            # The result is written before the wrapper exits, so read once more to be sure.
            again = files.read_job_file(async_dir, jid)
            states[jid] = again if again['state'] != files.RUNNING else _dead(state['path'])

    unknown = [jid for jid, state in states.items() if state['state'] == files.MISSING]
    if require_known and unknown:
        raise UnknownJobs(unknown, async_dir)

    if kill and not check_mode:
        for jid, state in states.items():
            if state['state'] != files.RUNNING:
                continue
            pids = processes.kill_job(jid, read_table)
            after = files.read_job_file(async_dir, jid)
            if after['state'] not in (files.RUNNING, files.MISSING):
                states[jid] = after  # it ended by itself before the kill
            elif pids:
                states[jid] = {'state': KILLED, 'path': state['path'], 'killed_pids': pids, 'msg': KILLED_MSG}
                if not cleanup:
                    files.write_job_result(async_dir, jid, {'failed': True, 'killed': True, 'msg': KILLED_MSG,
                                                            'killed_pids': pids})
            else:
                states[jid] = _dead(state['path'])

    if cleanup and not check_mode:
        for jid, state in states.items():
            if state['state'] in (files.FINISHED, KILLED):
                state['removed'] = files.remove_job_files(async_dir, jid)

    return [dict(states[jid], jid=jid) for jid in jids]
