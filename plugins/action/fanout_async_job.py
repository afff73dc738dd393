# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal step of the fanout strategy's pooled async lane tasks: one look at a host's pending
jobs (``check``), or the final result of one job handed back as the task's own (``result``)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat

ARGUMENT_SPEC = {'check': {'type': 'list', 'elements': 'str'}, 'result': {'type': 'raw'}}
STATUS_MODULE = 'org.async_jobs.wait_jobs'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_async = True
    _supports_check_mode = False

    def run(self, tmp=None, task_vars=None):
        del tmp
        result = super().run(task_vars=task_vars)
        dummy, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC,
            mutually_exclusive=[('check', 'result')],
            required_one_of=[('check', 'result')],
        )
        if args['check'] is None:
            final = args['result']
            if not isinstance(final, dict):
                return {'failed': True, 'msg': 'No job result to deliver: %r' % (final,)}
            final = dict(final)
            if final.get('finished') and 'ansible_job_id' in final:
                # a job's own result, as ansible-core's polling reads it with a module
                core_compat.normalize_module_failure(final)
            return final

        status = self._execute_module(
            module_name=STATUS_MODULE, task_vars=task_vars,
            module_args={'jobs': args['check'], 'cleanup': True, 'kill_on_timeout': False},
        )
        result.update(status)
        result['changed'] = False
        return result
