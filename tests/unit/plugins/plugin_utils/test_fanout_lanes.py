# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fan-out block detection, lanes and refusals, on plays loaded by ansible-core itself."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.block import Block
from ansible.playbook.play import Play
from ansible.plugins.loader import init_plugin_loader
from ansible.vars.manager import VariableManager

from ansible_collections.org.async_jobs.plugins.plugin_utils import fanout_lanes


@pytest.fixture(scope="module", autouse=True)
def plugin_loader():
    init_plugin_loader()


def load_play(tasks, handlers=None, tmp_path=None):
    loader = DataLoader()
    data = {"name": "unit", "hosts": "all", "gather_facts": False, "tasks": tasks}
    if handlers:
        data["handlers"] = handlers
    return Play.load(data, variable_manager=VariableManager(loader=loader), loader=loader)


def cmd(name, command="echo x", **keywords):
    return dict({"name": name, "ansible.builtin.command": command}, **keywords)


def fanout(name, children, **keywords):
    return dict({"name": name, "vars": {"fanout": True}, "block": children}, **keywords)


def test_only_the_blocks_own_vars_mark_it():
    play = load_play([
        {"name": "outer", "vars": {"fanout": False}, "block": [
            fanout("inner", [cmd("a"), cmd("b")]),
            {"name": "inherits", "block": [cmd("c")]},
        ]},
    ])
    blocks = play.compile()
    found = fanout_lanes.prepare_play(blocks)
    assert [f.block.name for f in found.values()] == ["inner"]
    inner_task = next(t for b in blocks for t in b.get_tasks() if t.name == "a")
    plain_task = next(t for b in blocks for t in b.get_tasks() if t.name == "c")
    assert fanout_lanes.fanout_ancestor(inner_task).name == "inner"
    assert fanout_lanes.fanout_ancestor(plain_task) is None


@pytest.mark.parametrize("value, marked", [(True, True), ("yes", True), ("true", True), (False, False), ("no", False)])
def test_marker_values(value, marked):
    block = Block.load({"block": [cmd("a")], "vars": {"fanout": value}}, play=load_play([cmd("x")]), loader=DataLoader())
    assert fanout_lanes.is_fanout_block(block) is marked


def test_templated_marker_is_refused():
    block = Block.load({"name": "templated", "block": [cmd("a")], "vars": {"fanout": "{{ go }}"}},
                       play=load_play([cmd("x")]), loader=DataLoader())
    with pytest.raises(AnsibleError, match="must be a literal boolean"):
        fanout_lanes.is_fanout_block(block)


def test_lanes_task_and_block_children():
    play = load_play([fanout("both", [
        cmd("group 1"),
        {"name": "group 2", "block": [cmd("download"), cmd("build")], "rescue": [cmd("roll back")], "always": [cmd("tidy")]},
        cmd("", "echo unnamed"),
    ], rescue=[cmd("fan-out rescue")])])
    found = list(fanout_lanes.prepare_play(play.compile()).values())
    lanes = found[0].lanes
    assert [lane.label for lane in lanes] == ["group 1", "group 2", "lane 3"]
    assert [[t.name for t in lane.tasks] for lane in lanes[:2]] == [["group 1"], ["download", "build", "roll back", "tidy"]]
    # lane tasks carry their lane, for callbacks; the fan-out block's own rescue is not a lane
    assert lanes[1].tasks[2].vars[fanout_lanes.LANE_VAR] == "group 2"
    rescue_task = found[0].block.rescue[0]
    assert fanout_lanes.LANE_VAR not in rescue_task.vars
    assert not found[0].in_body(rescue_task)
    assert found[0].lane_of(lanes[1].tasks[1]) is lanes[1]


def test_duplicate_lane_names_stay_apart():
    play = load_play([fanout("dups", [cmd("same"), cmd("same")])])
    lanes = list(fanout_lanes.prepare_play(play.compile()).values())[0].lanes
    assert [lane.label for lane in lanes] == ["same", "same (lane 2)"]


def test_static_import_stays_one_lane(tmp_path):
    tasks_file = tmp_path / "steps.yml"
    tasks_file.write_text("- name: step one\n  ansible.builtin.command: echo 1\n"
                          "- name: step block\n  block:\n    - name: step two\n      ansible.builtin.command: echo 2\n")
    play = load_play([fanout("imports", [{"name": "imported", "ansible.builtin.import_tasks": str(tasks_file)}, cmd("other")])])
    lanes = list(fanout_lanes.prepare_play(play.compile()).values())[0].lanes
    assert len(lanes) == 2
    assert [t.name for t in lanes[0].tasks] == ["step one", "step two"]
    assert lanes[0].label == "imported"


@pytest.mark.parametrize("task, message", [
    ({"name": "dynamic", "ansible.builtin.include_tasks": "x.yml"}, "include_tasks cannot run in a fan-out lane: task 'dynamic'"),
    ({"name": "role", "ansible.builtin.include_role": {"name": "r"}}, "include_role cannot run in a fan-out lane: task 'role'"),
    ({"name": "flush", "ansible.builtin.meta": "flush_handlers"}, "meta: flush_handlers cannot run in a fan-out lane: task 'flush'"),
    ({"name": "end", "meta": "end_host"}, "meta: end_host cannot run in a fan-out lane: task 'end'"),
])
def test_refused_in_lanes(task, message):
    play = load_play([fanout("fan", [cmd("fine"), {"name": "lane", "block": [task]}])])
    with pytest.raises(AnsibleError, match=message) as caught:
        fanout_lanes.prepare_play(play.compile())
    assert "in lane 'lane' of fan-out block 'fan'" in str(caught.value)


def test_noop_is_allowed():
    play = load_play([fanout("fan", [{"name": "nothing", "ansible.builtin.meta": "noop"}, cmd("b")])])
    assert len(fanout_lanes.prepare_play(play.compile())) == 1


def test_nested_fanout_is_refused():
    play = load_play([fanout("outer", [{"name": "lane", "block": [fanout("inner", [cmd("a")])]}])])
    with pytest.raises(AnsibleError, match="Fan-out block 'inner'.* is nested inside fan-out block 'outer'"):
        fanout_lanes.prepare_play(play.compile())


def test_fanout_among_handlers_is_refused():
    play = load_play([cmd("a")], handlers=[fanout("handler fan", [cmd("h")])])
    with pytest.raises(AnsibleError, match="handlers section"):
        fanout_lanes.prepare_play(play.compile(), play.handlers)


def test_describe_names_file_and_line(tmp_path):
    playbook = tmp_path / "site.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: fan\n      vars: {fanout: true}\n"
                        "      block:\n        - name: bad\n          ansible.builtin.include_tasks: x.yml\n")
    loader = DataLoader()
    data = loader.load_from_file(str(playbook))
    play = Play.load(data[0], variable_manager=VariableManager(loader=loader), loader=loader)
    with pytest.raises(AnsibleError) as caught:
        fanout_lanes.prepare_play(play.compile())
    assert "task 'bad' (%s:7)" % playbook in str(caught.value)
