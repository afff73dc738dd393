# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task-result helpers of core_compat that async_log uses, against this ansible-core's
real playbook objects."""

from __future__ import annotations

from ansible.playbook import Playbook
from ansible.playbook.block import Block
from ansible.playbook.play import Play

from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat


def test_task_uuid_is_kept_by_copy():
    block = Block.load({"block": [{"command": "true"}]})
    task = block.block[0]
    assert core_compat.task_uuid(task) and core_compat.task_uuid(task.copy()) == core_compat.task_uuid(task)
    assert core_compat.task_uuid(object()) is None


def test_task_section():
    block = Block.load({"block": [{"command": "a"}], "rescue": [{"command": "b"}], "always": [{"command": "c"}]})
    assert [core_compat.task_section(t) for t in (block.block[0], block.rescue[0], block.always[0])] == ["block", "rescue", "always"]
    assert core_compat.task_section(object()) is None


def test_play_keywords():
    play = Play.load({"hosts": "all", "force_handlers": True, "tasks": []})
    assert {"hosts", "force_handlers"} <= core_compat.play_keywords(play)
    assert "force_handlers" in core_compat.play_keywords(play.copy())
    assert core_compat.play_keywords(object()) == frozenset()


def test_playbook_path():
    playbook = Playbook(loader=None)
    playbook._file_name = "site.yml"
    assert core_compat.playbook_path(playbook) == "site.yml"
