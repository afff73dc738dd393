# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_events import EventBuilder, RunRecorder
from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_timeline import render

_uuids = itertools.count(1)


class Task:
    def __init__(self, name, action="ansible.builtin.command", async_val=0, poll=15, notify=None, lane=None):
        self._uuid = "t-%d" % next(_uuids)
        self.name, self.action, self.async_val, self.poll, self.notify, self.no_log = name, action, async_val, poll, notify, False
        self._async_jobs_lane = lane

    def get_name(self, include_role_fqcn=True):
        return self.name


class Handler(Task):
    def __init__(self, name):
        super().__init__(name, action="ansible.builtin.debug")
        self.listen, self.notified_hosts = [], []


class Block:
    def __init__(self, tasks):
        self.block = tasks


class Play:
    def __init__(self, handlers):
        self._uuid, self.name, self.handlers, self.serial, self.hosts = "p", "big play", [Block(handlers)], [], ["all"]


def big_run(hosts=50, tasks=40):
    clock = [0.0]
    recorder = RunRecorder(EventBuilder(clock=lambda: 1_790_000_000 + clock[0]), monotonic=lambda: clock[0])
    handler = Handler("restart <app> & reload")
    recorder.play_start(Play([handler]), force_handlers={"enabled": False, "source": "default"}, strategy="linear")
    names = ["host%02d" % n for n in range(1, hosts + 1)]
    for number in range(tasks):
        task = Task("task %d" % number, async_val=30 if number % 10 == 3 else 0, poll=2, notify=["restart <app> & reload"] if number == 5 else None)
        for index, host in enumerate(names):
            recorder.runner_start(host, task)
        if task.async_val:
            for tick in range(2):
                clock[0] += 2
                for host in names:
                    recorder.async_poll(host, {"ansible_job_id": "j%d-%s" % (number, host)})
            for host in names:
                recorder.async_final(host, task, {"ansible_job_id": "j%d-%s" % (number, host), "finished": 1, "changed": True}, False)
        clock[0] += 0.5 + (number % 4) * 0.3
        for index, host in enumerate(names):
            status = "failed" if (index == 7 and number == 38) else "ok"
            recorder.task_result(host, task, status, {"changed": index % 3 == 0})
    for host in names:
        recorder.notify(handler, host)
        recorder.runner_start(host, handler)
    clock[0] += 0.3
    for host in names:
        recorder.task_result(host, handler, "ok", {"changed": False})
    recorder.playbook_end({})
    return recorder.events


def test_page_is_self_contained_and_has_a_row_per_host():
    page = render(big_run(), title="big <run>")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "src=" not in page and "@import" not in page and "url(" not in page
    assert "big &lt;run&gt;" in page and "restart &lt;app&gt; &amp; reload" in page
    hosts = re.findall(r'data-host="(host\d+)"', page)
    assert hosts == ["host%02d" % n for n in range(1, 51)]
    svg = re.search(r"<svg.*</svg>", page, re.S).group(0)
    ET.fromstring(svg)  # well-formed
    assert svg.count("<line") > 400  # poll ticks and the time axis


def test_lanes_and_background_jobs_get_sub_rows():
    clock = [0.0]
    recorder = RunRecorder(EventBuilder(clock=lambda: 1_790_000_000 + clock[0]), monotonic=lambda: clock[0])
    recorder.play_start(Play([]), force_handlers={"enabled": False, "source": "default"}, strategy="org.async_jobs.fanout")
    lane_a, lane_b = Task("a", lane="lane-1"), Task("b", lane="lane-2")
    recorder.runner_start("h", lane_a)
    recorder.runner_start("h", lane_b)
    launch = Task("bg", async_val=10, poll=0)
    recorder.task_result("h", launch, "ok", {"ansible_job_id": "bg1", "started": 1})
    clock[0] += 3
    recorder.task_result("h", lane_a, "ok", {})
    recorder.task_result("h", lane_b, "ok", {})
    page = render(recorder.events)
    ys = sorted({int(y) for y in re.findall(r'<rect x="[\d.]+" y="(\d+)" width="[\d.]+" height="\d+" rx="2"', page)})
    assert len(ys) == 3  # the launch task, and the two lanes side by side below it
    assert "job bg1" in page


def test_empty_run_renders():
    assert "<svg" in render([])
