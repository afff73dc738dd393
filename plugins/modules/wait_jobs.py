#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_jobs
short_description: Wait for many async jobs at once, with one status call per host per check
version_added: 0.1.0
description:
  - Waits for async jobs started with O(ignore:async) and O(ignore:poll=0), on each host, until
    every job is over or O(timeout) runs out.
  - Each check reads the job files of all the host's pending jobs with one call to the host,
    whatever the number of jobs. The first check is immediate, the next ones follow every O(delay)
    seconds.
  - Replaces the loop of M(ansible.builtin.async_status) with O(ignore:until) and O(ignore:retries).
    It prints no C(FAILED - RETRYING) lines, but one short progress line per check and host
    (C(3/8 jobs done on web1, 24s)), and the jobs' details at C(-v).
  - A job whose job file still says it runs although its C(async_wrapper) processes are gone
    (killed, out of memory, host restarted) is reported as failed at once instead of being waited
    for until the timeout. This needs the process table of the host (C(/proc), else C(ps)).
  - The job files are read from the async dir of the host, C(ansible_async_dir) (default
    C(~/.ansible_async)), as the user the task becomes, exactly as
    M(ansible.builtin.async_status) does. Run this task with the same O(ignore:become) settings
    as the task that started the jobs.
  - The task reports RV(changed) when at least one job changed something, so a handler notified
    by this task runs once the work has really been done, and only if it changed something.
options:
  jobs:
    description:
      - The jobs to wait for, as a job id (C(ansible_job_id)), a registered result of an async
        task, a registered result of an async task with a loop (its C(results) are used), or a
        list of any of these.
      - Items of a loop that were skipped are left out and listed in RV(skipped_jobs).
      - A job listed twice is waited for once.
      - These are rejected before any job is touched, with the offending element named in the
        error. A value of another type. A result without C(ansible_job_id) (the task was not
        async, or failed to start). A job id that is not a plain file name. A job id for which
        there is neither a job file nor a running job on the host.
    type: raw
    required: true
  timeout:
    description:
      - Seconds to wait for all the jobs, counted from the first check.
      - V(0) waits as long as the jobs live; each job then ends at the latest at its own async
        limit, when C(async_wrapper) kills it and records a failure.
      - Jobs that still run when the timeout runs out are reported with RV(jobs[].timed_out=true),
        and killed if O(kill_on_timeout) is set; otherwise they keep running, and their job id
        can be given to a later M(org.async_jobs.wait_jobs) task.
    type: float
    default: 0
  delay:
    description:
      - Seconds between the starts of two checks. The first check is immediate; a last check is
        made when the timeout runs out.
    type: float
    default: 5
  cleanup:
    description:
      - Remove the job files of the jobs that are over, as
        M(ansible.builtin.async_status) with O(ansible.builtin.async_status#module:mode=cleanup)
        would.
      - The files of jobs left running, of jobs that died without a result and of unreadable job
        files are never removed.
    type: bool
    default: true
  kill_on_timeout:
    description:
      - When the timeout runs out, kill the whole process tree of every job that still runs (the
        C(async_wrapper) processes, the module and what it started), then remove the job files if
        O(cleanup) is set, or record in them that the job was killed.
    type: bool
    default: false
  fail_on_job_failure:
    description:
      - Fail the task when a job failed, died, was killed or did not finish in time.
      - With V(false), the task reports every job in RV(jobs) and does not fail because of them;
        bad input still fails the task.
    type: bool
    default: true
notes:
  - Works under any strategy, and with O(ignore:delegate_to) (the jobs are then looked for on
    the delegated host).
  - The job results in RV(jobs) are data; warnings, deprecations and facts that a job returned
    are not applied as those of a task would be.
  - Job ids can only be resolved on the host that ran the job, so each host waits for its own jobs;
    several hosts wait side by side, up to O(ignore:forks).
  - In check mode, the jobs are looked at once, without waiting, killing or removing anything.
seealso:
  - module: ansible.builtin.async_status
  - ref: playbooks_async
    description: Asynchronous actions and polling.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Looks at the jobs once and reports; waits for, kills and removes nothing.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author:
  - org.async_jobs developers (@org)
"""

EXAMPLES = r"""
- name: Start both library groups
  ansible.builtin.command: "/opt/install-group.sh {{ item }}"
  loop: [1, 2]
  async: 600
  poll: 0
  register: launched

- name: Wait for them, then tell the handler
  org.async_jobs.wait_jobs:
    jobs: "{{ launched }}"
    timeout: 600
    delay: 5
  notify: Restart app

- name: Wait at most a minute for two separately started jobs, kill what overran
  org.async_jobs.wait_jobs:
    jobs:
      - "{{ backup }}"
      - "{{ reindex.ansible_job_id }}"
    timeout: 60
    kill_on_timeout: true

- name: Collect whatever finished, without failing, and look at it
  org.async_jobs.wait_jobs:
    jobs: "{{ launched }}"
    timeout: 30
    fail_on_job_failure: false
  register: waited

- name: Wait again, later, for the jobs that were still running
  org.async_jobs.wait_jobs:
    jobs: "{{ waited.jobs | rejectattr('finished') | map(attribute='jid') }}"
  when: waited.jobs | rejectattr('finished') | length > 0

- name: Jobs started with become are waited for with become
  org.async_jobs.wait_jobs:
    jobs: "{{ upgrade }}"
  become: true
"""

RETURN = r"""
jobs:
  description:
    - One entry per job, in the order of O(jobs).
    - Each entry holds the job's own result (for example RV(jobs[].rc), RV(jobs[].stdout)), with
      the keys below on top.
  returned: always
  type: list
  elements: dict
  contains:
    jid:
      description: The job id.
      type: str
      sample: j246810121416.4242
    ansible_job_id:
      description: The job id, under the name M(ansible.builtin.async_status) uses.
      type: str
      sample: j246810121416.4242
    finished:
      description:
        - Whether the job is over; V(false) only for a job still running when the timeout ran out
          (and not killed), or whose job file could not be read.
      type: bool
      sample: true
    failed:
      description: Whether the job failed, died, was killed, timed out, or could not be read.
      type: bool
      sample: false
    changed:
      description: Whether the job reported a change.
      type: bool
      sample: true
    timed_out:
      description:
        - Whether the job did not finish in time, either because the timeout of this task ran out,
          or because it overran its own async limit and C(async_wrapper) stopped it.
      type: bool
      sample: false
    killed:
      description: Whether this task killed the job because of O(kill_on_timeout).
      type: bool
      sample: false
    elapsed:
      description:
        - Seconds from the first check until the job ended (V(0) if it had ended before), or until
          the timeout for a job still running.
      type: float
      sample: 12.4
    msg:
      description: Why the job failed, when it was not the job's own doing (died, killed, timed out, unreadable).
      type: str
      returned: when the job has a message
      sample: Still running when the timeout of 30 s ran out; left running.
    results_file:
      description: The job file on the host.
      type: str
      sample: /home/deploy/.ansible_async/j246810121416.4242
    cleaned_up:
      description: Whether the job file was removed.
      type: bool
      sample: true
    killed_pids:
      description: The processes killed, when RV(jobs[].killed) is true.
      type: list
      elements: int
      returned: when the job was killed
      sample: [4242, 4243, 4244]
    rc:
      description: The job's return code, when its module returns one (like M(ansible.builtin.command)).
      type: int
      returned: when the job returned it
      sample: 0
    stdout:
      description: The job's standard output, when its module returns it.
      type: str
      returned: when the job returned it
      sample: done
skipped_jobs:
  description:
    - The items of O(jobs) that were skipped (a loop item whose condition was false, or a task
      skipped in check mode), and so not waited for.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Where the item is in O(jobs).
      type: str
      sample: jobs.results[2]
    item:
      description: The loop item, when the skipped result has one.
      type: raw
      sample: group-3
    skip_reason:
      description: Why it was skipped, when the result says.
      type: str
      sample: Conditional result was False
  sample: [{path: "jobs.results[2]", item: group-3, skip_reason: Conditional result was False}]
ticks:
  description:
    - One entry per check, in order, for logs and timelines.
  returned: always
  type: list
  elements: dict
  contains:
    elapsed:
      description: Seconds from the first check to this one.
      type: float
      sample: 5.0
    pending:
      description: How many jobs still ran after this check.
      type: int
      sample: 3
    done:
      description: How many jobs were over after this check.
      type: int
      sample: 5
    finished:
      description: The job ids found over at this check.
      type: list
      elements: str
      sample: [j246810121416.4242]
    running:
      description: The job ids still running after this check.
      type: list
      elements: str
      sample: [j135791113151.4243]
elapsed:
  description: Seconds the task waited, from the first check to the last.
  returned: always
  type: float
  sample: 24.3
changed:
  description: Whether at least one job changed something.
  returned: always
  type: bool
  sample: true
failed:
  description:
    - Whether a job failed, died, was killed or did not finish in time (unless
      O(fail_on_job_failure=false)), or the input was bad.
  returned: always
  type: bool
  sample: false
msg:
  description: A summary of the wait.
  returned: always
  type: str
  sample: "8 jobs on web1 in 24.3s: 7 ok, 1 failed (j246810121416.4242)."
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.org.async_jobs.plugins.module_utils.async_job_files import is_valid_jid
from ansible_collections.org.async_jobs.plugins.module_utils.async_job_processes import process_table
from ansible_collections.org.async_jobs.plugins.module_utils.async_job_status import UnknownJobs, check_jobs
from ansible_collections.org.async_jobs.plugins.module_utils.wait_jobs_spec import ARGUMENT_SPEC


def main():
    # The org.async_jobs.wait_jobs action runs the wait; it runs this module once per check, with
    # the job files of the pending jobs in `jobs` (all in the async dir it resolved, as
    # async_status does), and with kill_on_timeout only in the call made when the timeout ran out.
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)

    job_files = module.params['jobs']
    if not isinstance(job_files, list) or not all(isinstance(path, str) and is_valid_jid(os.path.basename(path))
                                                  for path in job_files):
        module.fail_json(msg='This module is run by the org.async_jobs.wait_jobs action, which gives it a list of '
                             'job files; got %r.' % (job_files,))
    async_dirs = set(os.path.dirname(path) for path in job_files)
    if len(async_dirs) > 1:
        module.fail_json(msg='The job files are in several directories: %s.' % ', '.join(sorted(async_dirs)))
    async_dir = async_dirs.pop() if async_dirs else '.'

    try:
        states = check_jobs(
            async_dir, [os.path.basename(path) for path in job_files],
            require_known=True,
            cleanup=module.params['cleanup'],
            kill=module.params['kill_on_timeout'],
            check_mode=module.check_mode,
            read_table=lambda: process_table(run_command=module.run_command),
        )
    except UnknownJobs as error:
        module.fail_json(msg=str(error), unknown_jids=error.jids)

    changed = any(state.get('removed') or state.get('killed_pids') for state in states)
    module.exit_json(changed=changed, job_states=states)


if __name__ == '__main__':
    main()
