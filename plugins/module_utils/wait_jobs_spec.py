# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user-facing options of org.async_jobs.wait_jobs, shared by the action (which validates the
task with them) and the module (whose argument spec must match its documentation)."""

from __future__ import annotations

ARGUMENT_SPEC = {
    'jobs': {'type': 'raw', 'required': True},
    'timeout': {'type': 'float', 'default': 0},
    'delay': {'type': 'float', 'default': 5},
    'cleanup': {'type': 'bool', 'default': True},
    'kill_on_timeout': {'type': 'bool', 'default': False},
    'fail_on_job_failure': {'type': 'bool', 'default': True},
}
