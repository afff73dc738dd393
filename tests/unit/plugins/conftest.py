# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests of the wait_jobs action and its module_utils."""

from __future__ import annotations

import pytest

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_processes as processes
from ansible_collections.org.async_jobs.tests.unit.plugins.module_utils.async_wrapper_jobs import start_job


@pytest.fixture
def jobs(tmp_path):
    """jobs(script) starts a job with core's real async_wrapper in a private async dir; every
    job started is killed at the end of the test."""
    started = []
    async_dir = tmp_path / 'async'

    def start(script):
        jid = start_job(async_dir, tmp_path / 'tmp', script)
        started.append(jid)
        return jid
    start.async_dir = str(async_dir)
    yield start
    for jid in started:
        processes.kill_job(jid)
