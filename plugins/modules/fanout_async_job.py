#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fanout_async_job
short_description: Internal step of the fanout strategy's pooled async lane tasks
version_added: 0.1.0
description:
  - Used by the P(org.async_jobs.fanout#strategy) strategy only, not in playbooks. The strategy
    serves an async lane task (O(ignore:async) > 0, O(ignore:poll) > 0) without a worker that
    sleeps while the job runs - it launches the job, then looks at all the pending jobs of a host
    with one call per poll interval, and delivers each job's result when it is over. This plugin
    is the action of those internal looks and deliveries.
  - With O(check), looks once at the given job files with the M(org.async_jobs.wait_jobs) module,
    removing the files of the jobs that are over, and returns their states in RV(job_states).
  - With O(result), returns O(result) as the task's result, so that the task's own C(changed_when),
    C(failed_when), C(register) and C(notify) apply to it as if the task had polled its job itself.
  - The strategy shows callbacks the original task's action and name, never this plugin's.
options:
  check:
    description:
      - The job files (C(results_file) of the launch results) to look at.
      - Exactly one of O(check) and O(result) is given.
    type: list
    elements: str
  result:
    description:
      - The final result to return as the task's own.
    type: raw
notes:
  - Runs on the controller for O(result) (nothing is sent to the host); O(check) runs the
    M(org.async_jobs.wait_jobs) module on the host.
  - This module file only documents the action plugin; run on its own it fails.
seealso:
  - module: org.async_jobs.wait_jobs
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: full
    details: Accepts the async settings of the task it stands in for; it never starts a job.
  bypass_host_loop:
    support: none
  check_mode:
    support: none
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author:
  - org.async_jobs developers (@org)
"""

EXAMPLES = r"""
# Not for playbooks: the org.async_jobs.fanout strategy runs it for async lane tasks.
- name: An async lane task that the fanout strategy serves with this plugin
  ansible.builtin.command: /opt/build.sh
  async: 600
  poll: 5
"""

RETURN = r"""
job_states:
  description:
    - With O(check), the state of each job as the M(org.async_jobs.wait_jobs) module reads it
      (C(jid), C(state), C(path), and C(result) for a job that is over).
  returned: with O(check)
  type: list
  elements: dict
  sample: [{jid: j246810121416.4242, state: running, path: /home/deploy/.ansible_async/j246810121416.4242}]
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={'check': {'type': 'list', 'elements': 'str'}, 'result': {'type': 'raw'}},
        mutually_exclusive=[('check', 'result')],
        required_one_of=[('check', 'result')],
    )
    module.fail_json(msg='org.async_jobs.fanout_async_job is run by its action plugin for the org.async_jobs.fanout '
                         'strategy; it is not meant for playbooks.')


if __name__ == '__main__':
    main()
