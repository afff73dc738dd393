# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import pytest

from ansible import context
from ansible.executor.stats import AggregateStats
from ansible.playbook.play import Play
from ansible.plugins.loader import callback_loader

from ansible_collections.org.async_jobs.plugins.callback.async_log import force_handlers_setting


def load_callback(path, **options):
    callback = callback_loader.get("org.async_jobs.async_log")
    assert callback is not None
    callback.set_options(direct=dict(path=str(path), **options))
    return callback


class Playbook:
    _file_name = "site.yml"


@pytest.fixture
def cliargs():
    saved = context.CLIARGS
    context.CLIARGS = context.CLIArgs({"force_handlers": False})
    yield
    context.CLIARGS = saved


def play(**keywords):
    return Play.load(dict(name="web", hosts="all", gather_facts=False, tasks=[], **keywords))


def test_run_writes_private_json_lines_and_a_timeline(tmp_path, capsys, cliargs):
    log = tmp_path / "logs" / "run.jsonl"
    callback = load_callback(log)
    callback.v2_playbook_on_start(Playbook())
    callback.v2_playbook_on_play_start(play())
    stats = AggregateStats()
    stats.increment("ok", "web1")
    callback.v2_playbook_on_stats(stats)
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [event["event"] for event in events] == ["playbook.start", "play.start", "playbook.end"]
    assert events[-1]["recap"]["web1"]["ok"] == 1
    assert events[1]["strategy"] == "linear"
    page = (tmp_path / "logs" / "run.html").read_text()
    assert "<svg" in page and stat.S_IMODE(os.stat(tmp_path / "logs" / "run.html").st_mode) == 0o600
    captured = capsys.readouterr()
    assert captured.out == ""


def test_timeline_can_be_turned_off_and_runs_append(tmp_path, cliargs):
    log = tmp_path / "run.jsonl"
    for _run in range(2):
        callback = load_callback(log, timeline=False)
        callback.v2_playbook_on_start(Playbook())
        callback.v2_playbook_on_stats(AggregateStats())
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(events) == 4 and len({event["run_id"] for event in events}) == 2
    assert not (tmp_path / "run.html").exists()


def _write_many(path, marker, count):
    callback = load_callback(path, timeline=False)
    callback._write([{"event": "x", "writer": marker, "n": n, "pad": marker * 3000} for n in range(count)])


def test_concurrent_writers_do_not_interleave_lines(tmp_path):
    log = tmp_path / "shared.jsonl"
    ctx = multiprocessing.get_context("fork")
    writers = [ctx.Process(target=_write_many, args=(str(log), marker, 300)) for marker in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b""
    events = [json.loads(line) for line in lines[:-1]]
    assert sorted((event["writer"], event["n"]) for event in events) == sorted((m, n) for m in "ab" for n in range(300))


def test_unwritable_path_warns_once_and_does_not_raise(tmp_path, cliargs):
    blocker = tmp_path / "file"
    blocker.write_text("")
    callback = load_callback(blocker / "sub" / "run.jsonl")
    warnings = []
    callback._display.warning = warnings.append
    callback.v2_playbook_on_start(Playbook())
    callback.v2_playbook_on_play_start(play())
    assert len(warnings) == 1 and "cannot write" in warnings[0]


def test_force_handlers_from_the_play(cliargs, monkeypatch):
    monkeypatch.delenv("ANSIBLE_FORCE_HANDLERS", raising=False)
    assert force_handlers_setting(play(force_handlers=True)) == {"enabled": True, "source": "play"}
    assert force_handlers_setting(play(force_handlers=False)) == {"enabled": False, "source": "play"}
    assert force_handlers_setting(play()) == {"enabled": False, "source": "default"}


def test_force_handlers_from_the_command_line(monkeypatch):
    monkeypatch.delenv("ANSIBLE_FORCE_HANDLERS", raising=False)
    saved = context.CLIARGS
    context.CLIARGS = context.CLIArgs({"force_handlers": True})
    try:
        assert force_handlers_setting(play()) == {"enabled": True, "source": "cli"}
    finally:
        context.CLIARGS = saved


def test_force_handlers_from_the_configuration(monkeypatch):
    monkeypatch.setenv("ANSIBLE_FORCE_HANDLERS", "true")
    saved = context.CLIARGS
    context.CLIARGS = context.CLIArgs({"force_handlers": True})  # the CLI default comes from the configuration
    try:
        assert force_handlers_setting(play()) == {"enabled": True, "source": "config"}
    finally:
        context.CLIARGS = saved
