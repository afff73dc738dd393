# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import time

import pytest

from ansible_collections.org.async_jobs.plugins.module_utils import async_job_files as files

JID = 'j123456789012.4242'


def write(async_dir, name, content):
    path = async_dir / name
    path.write_text(content)
    return path


@pytest.mark.parametrize('jid', ['j123456789012.4242', '360874038559.4169', 'job_1-a'])
def test_plain_file_names_are_job_ids(jid):
    assert files.is_valid_jid(jid)


@pytest.mark.parametrize('jid', ['', '.', '..', '../etc/passwd', 'a/b', '/abs', '.hidden', 'j1..2', 'j 1', 'j1\n', 42, None])
def test_path_like_or_odd_job_ids_are_refused(jid):
    assert not files.is_valid_jid(jid)


def test_a_finished_job_gives_its_result_and_how_long_ago_it_was_written(tmp_path):
    path = write(tmp_path, JID, json.dumps({'changed': True, 'rc': 0, 'stdout': 'done'}))
    os.utime(path, (time.time() - 30, time.time() - 30))
    state = files.read_job_file(str(tmp_path), JID)
    assert state['state'] == files.FINISHED
    assert state['result'] == {'changed': True, 'rc': 0, 'stdout': 'done'}
    assert state['path'] == str(path)
    assert 29 <= state['finished_ago'] <= 40


def test_the_wrapper_timeout_record_is_a_finished_job(tmp_path):
    write(tmp_path, JID, json.dumps({'msg': 'Timeout exceeded', 'failed': True, 'child_pid': 77}))
    assert files.read_job_file(str(tmp_path), JID)['state'] == files.FINISHED


@pytest.mark.parametrize('content', [
    json.dumps({'started': True, 'finished': False, 'ansible_job_id': JID}),
    json.dumps({'started': 1, 'ansible_job_id': JID}),  # async_status: "started" without "finished" runs
    '',
    '  \n',
])
def test_a_job_marked_started_or_not_written_yet_is_running(tmp_path, content):
    write(tmp_path, JID, content)
    assert files.read_job_file(str(tmp_path), JID) == {'state': files.RUNNING, 'path': str(tmp_path / JID)}


def test_started_and_finished_marks_a_finished_job(tmp_path):
    write(tmp_path, JID, json.dumps({'started': 1, 'finished': 1, 'rc': 0}))
    assert files.read_job_file(str(tmp_path), JID)['state'] == files.FINISHED


def test_a_missing_job_file(tmp_path):
    assert files.read_job_file(str(tmp_path), JID) == {'state': files.MISSING, 'path': str(tmp_path / JID)}


def test_an_unreadable_job_file_says_why(tmp_path):
    (tmp_path / JID).mkdir()  # unreadable as a file, even for root
    state = files.read_job_file(str(tmp_path), JID)
    assert state['state'] == files.UNREADABLE
    assert str(tmp_path / JID) in state['msg'] and 'directory' in state['msg'].lower()


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads any file')
def test_a_job_file_without_read_permission_is_unreadable(tmp_path):
    path = write(tmp_path, JID, '{}')
    path.chmod(0)
    state = files.read_job_file(str(tmp_path), JID)
    assert state['state'] == files.UNREADABLE and 'Permission denied' in state['msg']


@pytest.mark.parametrize('content, words', [('{"rc": 0', 'does not hold a JSON result'), ('[1, 2]', 'holds a JSON list')])
def test_corrupt_job_files_are_reported_with_their_path(tmp_path, content, words):
    write(tmp_path, JID, content)
    state = files.read_job_file(str(tmp_path), JID)
    assert state['state'] == files.CORRUPT
    assert words in state['msg'] and str(tmp_path / JID) in state['msg']


def test_write_then_remove_job_files(tmp_path):
    write(tmp_path, JID, json.dumps({'started': True, 'finished': False}))
    write(tmp_path, JID + '.tmp', 'half')
    files.write_job_result(str(tmp_path), JID, {'failed': True, 'killed': True})
    assert json.loads((tmp_path / JID).read_text()) == {'failed': True, 'killed': True}
    write(tmp_path, JID + '.tmp', 'half')
    assert files.remove_job_files(str(tmp_path), JID) == [str(tmp_path / JID), str(tmp_path / JID) + '.tmp']
    assert os.listdir(str(tmp_path)) == []
    assert files.remove_job_files(str(tmp_path), JID) == []
