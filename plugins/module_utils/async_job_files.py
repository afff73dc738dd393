# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read, write and remove the job files that ansible-core's async_wrapper leaves in the async dir.

async_wrapper writes ``<async_dir>/<jid>`` twice, each time through ``<jid>.tmp`` and a rename:
``{"started": true, "finished": false, "ansible_job_id": jid}`` when the job starts, then the
module's own result when it ends (or ``{"failed": true, "msg": "Timeout exceeded", "child_pid":
...}`` when it had to kill the job at its async limit). The reading rules are those of
ansible-core's ``async_status`` module: a file without ``started`` holds a result; one with
``started`` but without ``finished`` is a job that still runs; an empty file has not been
written yet.
"""

from __future__ import annotations

import json
import os
import re
import time

# async_wrapper's jids are "j<digits>.<pid>"; anything that could step out of the async dir
# (a slash, "..", a leading dot) is refused before a path is built from it.
_JID_PATTERN = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]*')

RUNNING = 'running'
FINISHED = 'finished'
MISSING = 'missing'
UNREADABLE = 'unreadable'
CORRUPT = 'corrupt'

# What async_wrapper writes when it kills a job that overran its async limit.
WRAPPER_TIMEOUT_MSG = 'Timeout exceeded'


def is_valid_jid(jid):
    """True if jid is a plain file name that async_wrapper could have made."""
    return isinstance(jid, str) and bool(_JID_PATTERN.fullmatch(jid)) and '..' not in jid


def job_file_path(async_dir, jid):
    return os.path.join(async_dir, jid)


def read_job_file(async_dir, jid):
    """The state of one job as its job file tells it.

    Returns a dict with ``state`` (one of RUNNING, FINISHED, MISSING, UNREADABLE, CORRUPT),
    ``path``, and, by state: ``result`` (FINISHED: the job's own result), ``finished_ago``
    (FINISHED: seconds since the result was written, from the file's mtime, so that the
    controller can place the job's end without trusting the target's clock), ``msg``
    (UNREADABLE, CORRUPT).
    """
    path = job_file_path(async_dir, jid)
    try:
        with open(path, 'rb') as job_file:
            stat = os.fstat(job_file.fileno())
            raw = job_file.read()
    except FileNotFoundError:
        return {'state': MISSING, 'path': path}
    except OSError as error:
        return {'state': UNREADABLE, 'path': path,
                'msg': 'Cannot read the job file %s: %s.' % (path, error.strerror or error)}

    if not raw.strip():
        # async_status's rule: a file that exists but holds nothing yet belongs to a job that runs.
        return {'state': RUNNING, 'path': path}
    try:
        data = json.loads(raw.decode('utf-8', errors='surrogateescape'))
    except ValueError as error:
        return {'state': CORRUPT, 'path': path,
                'msg': 'The job file %s does not hold a JSON result (%s); it starts with %r.' % (path, error, raw[:80])}
    if not isinstance(data, dict):
        return {'state': CORRUPT, 'path': path,
                'msg': 'The job file %s holds a JSON %s, not a job result.' % (path, type(data).__name__)}

    if 'started' in data and not data.get('finished'):
        return {'state': RUNNING, 'path': path}
    return {'state': FINISHED, 'path': path, 'result': data,
            'finished_ago': max(0.0, time.time() - stat.st_mtime)}


def write_job_result(async_dir, jid, result):
    """Replace the job file with a final result, as async_wrapper does: write, then rename."""
    path = job_file_path(async_dir, jid)
    temporary = path + '.tmp'
    with open(temporary, 'w') as job_file:
        json.dump(result, job_file)
    os.rename(temporary, path)
    return path


def remove_job_files(async_dir, jid):
    """Remove the job file and a leftover ``.tmp``; returns the paths actually removed."""
    removed = []
    for path in (job_file_path(async_dir, jid), job_file_path(async_dir, jid) + '.tmp'):
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
