# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fanout strategy plugin: what it is built on, its documentation and its option."""

from __future__ import annotations

import yaml

import pytest

from ansible.executor.play_iterator import PlayIterator
from ansible.executor.task_queue_manager import TaskQueueManager
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import init_plugin_loader, strategy_loader
from ansible.vars.manager import VariableManager

from ansible_collections.org.async_jobs.plugins.strategy import fanout


@pytest.fixture(scope="module", autouse=True)
def plugin_loader():
    init_plugin_loader()


def test_thin_subclass_of_builtin_linear():
    linear = strategy_loader.get("linear", class_only=True)
    assert issubclass(fanout.StrategyModule, linear)
    # linear's run loop and result processing are inherited, not copied
    overridden = {name for name in vars(fanout.StrategyModule) if not name.startswith("_fanout") and not name.startswith("__")}
    assert overridden <= {"run", "_get_next_task_lockstep"}, overridden


def test_documentation():
    doc = yaml.safe_load(fanout.DOCUMENTATION)
    assert doc["name"] == "fanout"
    option = doc["options"]["async_slots"]
    assert option["type"] == "int" and option["default"] == 0
    assert option["env"] == [{"name": "ANSIBLE_FANOUT_ASYNC_SLOTS"}]
    assert option["vars"] == [{"name": "fanout_async_slots"}]
    examples = yaml.safe_load(fanout.EXAMPLES)
    assert examples[0]["strategy"] == "org.async_jobs.fanout"
    assert examples[0]["tasks"][0]["vars"] == {"fanout": True}


@pytest.fixture
def strategy_and_iterator():
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources="h1,h2,")
    variable_manager = VariableManager(loader=loader, inventory=inventory)
    tqm = TaskQueueManager(inventory=inventory, variable_manager=variable_manager, loader=loader, passwords={}, forks=3)
    tqm._initialize_processes(2)
    play = Play.load({"hosts": "all", "gather_facts": False, "vars": {"play_level": 1},
                      "tasks": [{"ansible.builtin.command": "echo"}]},
                     variable_manager=variable_manager, loader=loader)
    iterator = PlayIterator(inventory, play, PlayContext(play=play), variable_manager, all_vars={})
    strategy = fanout.StrategyModule(tqm)
    yield strategy, iterator, play
    strategy.cleanup()
    tqm.cleanup()


def test_async_slots_default_and_sources(strategy_and_iterator, monkeypatch):
    strategy, iterator, play = strategy_and_iterator
    monkeypatch.delenv("ANSIBLE_FANOUT_ASYNC_SLOTS", raising=False)
    assert strategy._fanout_async_slots(iterator) == 12  # four times forks
    monkeypatch.setenv("ANSIBLE_FANOUT_ASYNC_SLOTS", "5")
    assert strategy._fanout_async_slots(iterator) == 5
    play.vars["fanout_async_slots"] = 2  # a play variable wins over the environment
    assert strategy._fanout_async_slots(iterator) == 2
