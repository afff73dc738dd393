# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The strategy-internals section of core_compat, against the installed ansible-core's own play
iterator, task queue manager and result classes (run on every supported core)."""

from __future__ import annotations

import pytest

from ansible.executor.play_iterator import PlayIterator
from ansible.executor.task_queue_manager import TaskQueueManager
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play import Play
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import init_plugin_loader
from ansible.vars.manager import VariableManager

from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat, fanout_lanes


@pytest.fixture(scope="module", autouse=True)
def plugin_loader():
    init_plugin_loader()


def cmd(name):
    return {"name": name, "ansible.builtin.command": "echo %s" % name}


FANOUT = {
    "name": "fan", "vars": {"fanout": True},
    "block": [
        cmd("one"),
        {"name": "two", "block": [cmd("two a"), cmd("two b")], "rescue": [cmd("two rescue")]},
        cmd("three"),
    ],
    "rescue": [cmd("fan rescue")],
    "always": [cmd("fan always")],
}


class Play_:
    """A play, its iterator and its hosts, loaded and built by ansible-core."""

    def __init__(self, force_handlers=False):
        self.loader = DataLoader()
        self.inventory = InventoryManager(loader=self.loader, sources="h1,h2,")
        self.variable_manager = VariableManager(loader=self.loader, inventory=self.inventory)
        data = {"hosts": "all", "gather_facts": False, "force_handlers": force_handlers,
                "tasks": [cmd("before"), FANOUT, cmd("after")]}
        self.play = Play.load(data, variable_manager=self.variable_manager, loader=self.loader)
        self.iterator = PlayIterator(self.inventory, self.play, PlayContext(play=self.play), self.variable_manager, all_vars={})
        self.fanout = list(fanout_lanes.prepare_play(core_compat.iterator_blocks(self.iterator)).values())[0]
        self.host = self.inventory.get_host("h1")

    def next_task(self):
        return self.iterator.get_next_task_for_host(self.host)[1]

    def enter(self):
        """Step h1 to the first lane task, as linear's lockstep does; path to the fan-out state."""
        while self.next_task().name != "one":
            pass
        state = core_compat.host_state(self.iterator, "h1")
        return core_compat.block_state_path(state, self.fanout.uuid)

    def walk_lane(self, lane_state, lane):
        names = []
        while True:
            state, task = core_compat.next_task_in_state(self.iterator, lane_state, self.host)
            if task is None or core_compat.task_uuid(task) not in lane.task_uuids:
                return names, state
            names.append(task.name)
            lane_state = state


@pytest.mark.parametrize("force_handlers, expected", [(False, []), (True, ["tasks_child_state"])])
def test_block_state_path(force_handlers, expected):
    play = Play_(force_handlers=force_handlers)
    assert play.enter() == expected  # force_handlers wraps the tasks in a block of its own


def test_lanes_walk_from_the_fanout_state():
    play = Play_()
    path = play.enter()
    block_state = core_compat.state_at(core_compat.host_state(play.iterator, "h1"), path)
    walked = []
    for lane in play.fanout.lanes:
        names, after = play.walk_lane(core_compat.lane_start_state(block_state, lane.start), lane)
        walked.append(names)
        assert not core_compat.state_failed(after)
    assert walked == [["one"], ["two a", "two b"], ["three"]]


def test_graft_lets_core_fail_the_lane_not_the_host():
    play = Play_()
    path = play.enter()
    main = core_compat.host_state(play.iterator, "h1")
    block_state = core_compat.state_at(main, path)
    lane_one, lane_two = play.fanout.lanes[0], play.fanout.lanes[1]

    # a task lane fails: the lane ends failed, the host's own state is untouched
    state, task = core_compat.next_task_in_state(play.iterator, core_compat.lane_start_state(block_state, lane_one.start), play.host)
    saved = core_compat.graft_lane_state(play.iterator, "h1", path, state)
    play.iterator.add_notification("h1", "a handler")
    play.iterator.mark_host_failed(play.host)
    failed_lane = core_compat.ungraft_lane_state(play.iterator, "h1", path, saved)
    assert core_compat.host_state(play.iterator, "h1") is main and not play.iterator.is_failed(play.host)
    assert main.handler_notifications == ["a handler"]
    names, after = play.walk_lane(failed_lane, lane_one)
    assert names == [] and core_compat.state_failed(after)

    # a block lane with its own rescue fails: the lane goes on with the rescue and ends well
    state, task = core_compat.next_task_in_state(play.iterator, core_compat.lane_start_state(block_state, lane_two.start), play.host)
    assert task.name == "two a"
    saved = core_compat.graft_lane_state(play.iterator, "h1", path, state)
    play.iterator.mark_host_failed(play.host)
    rescued_lane = core_compat.ungraft_lane_state(play.iterator, "h1", path, saved)
    names, after = play.walk_lane(rescued_lane, lane_two)
    assert names == ["two rescue"] and not core_compat.state_failed(after)


@pytest.mark.parametrize("failed, next_name", [(False, "fan always"), (True, "fan rescue")])
def test_leave_block_body(failed, next_name):
    play = Play_()
    path = play.enter()
    removed = list(play.play._removed_hosts)
    core_compat.leave_block_body(play.iterator, play.host, path, play.fanout.body_uuids, failed, failure_recorded=failed)
    assert play.next_task().name == next_name
    assert play.play._removed_hosts == removed


@pytest.fixture
def strategy():
    from ansible_collections.org.async_jobs.plugins.strategy.fanout import StrategyModule

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources="h1,")
    tqm = TaskQueueManager(inventory=inventory, variable_manager=VariableManager(loader=loader, inventory=inventory),
                           loader=loader, passwords={}, forks=2)
    tqm._initialize_processes(1)
    module = StrategyModule(tqm)
    yield module
    module.cleanup()
    tqm.cleanup()


def test_worker_slots(strategy):
    assert core_compat.worker_count(strategy) == 1 and core_compat.configured_forks(strategy) == 2
    core_compat.resize_workers(strategy, 5)
    assert len(strategy._tqm._workers) == 5  # the TQM's own list, changed in place
    strategy._cur_worker = 4
    assert core_compat.claim_free_worker(strategy, 5, from_end=True) and strategy._cur_worker == 4
    assert core_compat.claim_free_worker(strategy, 2) and strategy._cur_worker == 0
    core_compat.resize_workers(strategy, 1)
    assert core_compat.worker_count(strategy) == 1 and strategy._cur_worker == 0


def test_run_state_of_the_task_queue_manager(strategy):
    tqm = strategy._tqm
    assert core_compat.failed_hosts(tqm) == {} and core_compat.unreachable_hosts(tqm) == {}
    assert core_compat.run_terminated(tqm) is False
    # the strategy marks hosts in the very dicts the TQM's stats and recap read
    core_compat.failed_hosts(tqm)["h1"] = True
    assert tqm._failed_hosts == {"h1": True}
    tqm.terminate()
    assert core_compat.run_terminated(tqm) is True


def test_iterator_play():
    play = Play_()
    assert core_compat.iterator_play(play.iterator) is play.play


def test_hook_callbacks(strategy):
    tqm = strategy._tqm
    seen = []
    restore = core_compat.hook_callbacks(tqm, lambda send, name, args: seen.append((name, args)))
    tqm.send_callback("v2_playbook_on_no_hosts_remaining")
    tqm.send_callback("v2_runner_on_start", "h1", "a task")
    assert seen == [("v2_playbook_on_no_hosts_remaining", ()), ("v2_runner_on_start", ("h1", "a task"))]
    restore()
    tqm.send_callback("v2_playbook_on_no_hosts_remaining")
    assert len(seen) == 2 and "send_callback" not in vars(tqm)


def make_result(host, task, return_data):
    try:
        from ansible._internal._task import HostTaskResult, UnifiedTaskResult
    except ImportError:  # 2.19, 2.20
        from ansible.executor.task_result import _RawTaskResult
        return _RawTaskResult(host=host, task=task, return_data=return_data, task_fields=task.dump_attrs())
    utr = UnifiedTaskResult.from_action_result_dict(return_data)
    utr.ignore_errors = bool(task.ignore_errors)  # as the task executor sets it
    return HostTaskResult(host=host, task=task, utr=utr)


@pytest.mark.parametrize("return_data, ignore_errors, outcome", [
    ({"failed": True, "msg": "x"}, False, (True, False, False)),
    ({"failed": True, "msg": "x"}, True, (True, False, True)),
    ({"unreachable": True, "msg": "x"}, False, (False, True, False)),
    ({"changed": True}, False, (False, False, False)),
])
def test_result_outcome_and_next_result_key(strategy, return_data, ignore_errors, outcome):
    play = Play_()
    task = play.fanout.lanes[0].tasks[0]
    task.ignore_errors = ignore_errors
    host = strategy._inventory.get_host("h1")
    result = make_result(host, task, return_data)
    assert core_compat.result_outcome(result) == outcome
    assert core_compat.next_result_key(strategy) is None
    strategy._results.append(result)
    assert core_compat.next_result_key(strategy) == ("h1", task._uuid)
    strategy._results.clear()


def test_rescue_facts_are_read_where_core_sets_them():
    play = Play_()
    assert core_compat.rescue_facts(play.variable_manager, "h1") == {}
    failed_task = {"name": "one", "uuid": "u1"}
    failed_result = {"failed": True, "rc": 1}
    # what core's result processing does when a failure sends a host into a rescue
    play.variable_manager.set_nonpersistent_facts("h1", {"ansible_failed_task": failed_task, "ansible_failed_result": failed_result})
    play.variable_manager.set_nonpersistent_facts("h1", {"unrelated": True})
    facts = core_compat.rescue_facts(play.variable_manager, "h1")
    assert facts == {"ansible_failed_task": failed_task, "ansible_failed_result": failed_result}
    assert facts["ansible_failed_result"] is failed_result
    assert core_compat.rescue_facts(play.variable_manager, "h2") == {}


def test_strategy_option(monkeypatch):
    options = {"slots": {"type": "int", "default": 0, "env": [{"name": "UNIT_FANOUT_SLOTS"}], "vars": [{"name": "unit_slots"}]}}
    assert core_compat.strategy_option("unit.test.fanout", options, "slots") == 0
    monkeypatch.setenv("UNIT_FANOUT_SLOTS", "7")
    assert core_compat.strategy_option("unit.test.fanout", options, "slots") == 7
    assert core_compat.strategy_option("unit.test.fanout", options, "slots", variables={"unit_slots": 9}) == 9


def test_template_engine():
    from ansible.template import trust_as_template

    templar = core_compat.template_engine(DataLoader(), {"slots": 3})
    assert templar.template(trust_as_template("{{ slots * 2 }}")) == 6


def test_hook_callbacks_replaces_or_drops(strategy):
    tqm = strategy._tqm
    sent = []

    def before(send, name, args):
        if name == "v2_runner_on_start" and args[1] == "internal":
            return False
        if name == "v2_runner_on_start" and args[1] == "copy":
            return (args[0], "original")
        return None

    tqm.send_callback = lambda name, *args, **kwargs: sent.append((name, args))  # what reaches the callbacks
    restore = core_compat.hook_callbacks(tqm, before)
    try:
        tqm.send_callback("v2_runner_on_start", "h1", "internal")
        tqm.send_callback("v2_runner_on_start", "h1", "copy")
        tqm.send_callback("v2_playbook_on_no_hosts_remaining")
    finally:
        restore()
        vars(tqm).pop("send_callback", None)
    assert sent == [("v2_runner_on_start", ("h1", "original")), ("v2_playbook_on_no_hosts_remaining", ())]


def test_taking_results_off_the_queue(strategy):
    play = Play_()
    task = play.fanout.lanes[0].tasks[0]
    host = strategy._inventory.get_host("h1")
    result = core_compat.make_task_result(host, task, {"ansible_job_id": "j1.2", "changed": True, "results_file": "/x/j1.2"})
    assert core_compat.peek_next_result(strategy) is None
    strategy._results.append(result)
    strategy._pending_results = 1
    strategy._blocked_hosts["h1"] = True
    assert core_compat.peek_next_result(strategy) is result and len(strategy._results) == 1
    assert core_compat.take_next_result(strategy) is result
    assert not strategy._results and strategy._pending_results == 0 and "h1" not in strategy._blocked_hosts
    data = core_compat.result_data(result)
    assert data["ansible_job_id"] == "j1.2" and data["changed"] is True and data["results_file"] == "/x/j1.2"
    assert core_compat.result_outcome(result) == (False, False, False)


def test_internal_task_copies_and_restored_result_task():
    play = Play_()
    task = play.fanout.lanes[0].tasks[0]
    internal = core_compat.task_with_action(task, "org.async_jobs.fanout_async_job", {"result": {"rc": 0}})
    assert internal.action == "org.async_jobs.fanout_async_job" and internal.args == {"result": {"rc": 0}}
    assert core_compat.task_uuid(internal) == core_compat.task_uuid(task) and task.action == "ansible.builtin.command"
    assert internal._parent is not None
    core_compat.give_fresh_uuid(internal)
    assert core_compat.task_uuid(internal) != core_compat.task_uuid(task)

    launched = task.copy()
    launched._resolved_action = "ansible.builtin.command"
    host = InventoryManager(loader=DataLoader(), sources="h1,").get_host("h1")
    result = core_compat.make_task_result(host, internal, {"rc": 0})
    core_compat.restore_result_task(result, launched, {"poll": 5})
    assert result.task.action == "ansible.builtin.command" and result.task.args == launched.args
    assert result.task.resolved_action == "ansible.builtin.command" and result.task.poll == 5


def test_normalize_module_failure():
    failed = core_compat.normalize_module_failure({"failed": True, "msg": "boom", "rc": 3})
    ok = core_compat.normalize_module_failure({"changed": True})
    assert failed["failed"] and failed["msg"] == "boom" and ok == {"changed": True}
    try:
        from ansible._internal._errors._captured import AnsibleModuleCapturedError
    except ImportError:
        AnsibleModuleCapturedError = None
    if getattr(AnsibleModuleCapturedError, "normalize_result_exception", None) is not None:
        assert failed.get("exception") is not None  # as 2.19 and 2.20 read a failed module result
