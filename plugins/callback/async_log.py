# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: async_log
type: notification
short_description: JSON Lines log of async jobs, poll ticks and handler decisions, with a timeline page
version_added: 0.1.0
description:
  - Writes one JSON object per line for every task start and end, every async job's start, poll
    ticks and end (from core's own polling, from C(async_status) checks and from
    M(org.async_jobs.wait_jobs) results), and every handler decision - queued, suppressed (and
    why), triggered, started, ended, forced by C(force_handlers), or not run (and why).
  - Each event is appended with a single write, so the file can be followed with C(tail -f) while
    the run goes and several runs can append to one file without mixing their lines.
  - At the end of the run it draws a self-contained HTML timeline (inline SVG) next to the log.
  - Prints nothing to the console. Data of C(no_log) tasks never reaches the file; vaulted values
    are written as a marker, never decrypted.
  - The events are described by the JSON Schema C(docs/async_log.schema.json) in this collection;
    every event carries its version in C(schema).
requirements:
  - Enable it with C(callbacks_enabled = org.async_jobs.async_log) in C(ansible.cfg), or
    C(ANSIBLE_CALLBACKS_ENABLED=org.async_jobs.async_log).
options:
  path:
    description:
      - The JSON Lines file to append the events to. Created with mode C(0600) if missing; its
        directory is created if missing.
    type: path
    default: ~/.ansible/async_log/async_log.jsonl
    ini:
      - section: callback_async_log
        key: path
    env:
      - name: ANSIBLE_ASYNC_LOG_PATH
  timeline:
    description:
      - Write the timeline page of the run at the end, next to O(path) with the extension
        C(.html) (C(run.jsonl) gives C(run.html)).
    type: bool
    default: true
    ini:
      - section: callback_async_log
        key: timeline
    env:
      - name: ANSIBLE_ASYNC_LOG_TIMELINE
  max_result_bytes:
    description:
      - Results (of tasks, handlers and jobs) whose JSON is larger than this are replaced by a
        marker object with C(_truncated), the original size and the start of the JSON text.
      - V(0) writes results whole.
    type: int
    default: 16384
    ini:
      - section: callback_async_log
        key: max_result_bytes
    env:
      - name: ANSIBLE_ASYNC_LOG_MAX_RESULT_BYTES
notes:
  - Works with any strategy. A strategy that runs several async tasks on one host at once (such
    as P(org.async_jobs.fanout#strategy)) gets each poll tick attributed to the task whose next
    poll was due; core's tick carries only the job id.
  - ansible-core hides the whole result of a C(no_log) task from callbacks, job id included, so a
    C(no_log) task launched with C(poll) set to V(0) is logged as a task but its job cannot be followed.
    C(no_log) tasks with C(poll) > 0 are followed, without their output.
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = org.async_jobs.async_log
#
# [callback_async_log]
# path = ./logs/async.jsonl
# max_result_bytes = 4096

# Follow a run while it goes:
#   ANSIBLE_CALLBACKS_ENABLED=org.async_jobs.async_log ANSIBLE_ASYNC_LOG_PATH=run.jsonl ansible-playbook site.yml &
#   tail -f run.jsonl | jq -c 'select(.event | startswith("job."))'
"""

import os

from ansible import constants as C
from ansible import context
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_events import RunRecorder
from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_serialise import dumps
from ansible_collections.org.async_jobs.plugins.plugin_utils.async_log_timeline import render
from ansible_collections.org.async_jobs.plugins.plugin_utils import core_compat


def force_handlers_setting(play):
    """Whether force_handlers is on for the play, and where that comes from."""
    enabled = bool(getattr(play, "force_handlers", False))
    if "force_handlers" in core_compat.play_keywords(play):
        source = "play"
    elif enabled and C.config.get_config_value("DEFAULT_FORCE_HANDLERS"):
        source = "config"
    elif enabled and (context.CLIARGS or {}).get("force_handlers"):
        source = "cli"
    else:
        source = "default"
    return {"enabled": enabled, "source": source}


class CallbackModule(CallbackBase):
    """Append async job and handler events to a JSON Lines file, and draw a timeline."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "org.async_jobs.async_log"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._fd = None
        self._path = None
        self._recorder = None
        self._broken = False

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._path = os.path.abspath(os.path.expanduser(self.get_option("path")))
        if self._recorder is None:
            self._recorder = RunRecorder(max_result_bytes=self.get_option("max_result_bytes") or 0)

    # -- writing ---------------------------------------------------------------------------

    def _open(self):
        directory = os.path.dirname(self._path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _write(self, events):
        if self._broken or not events:
            return
        try:
            if self._fd is None:
                self._open()
            for event in events:
                # one write of one whole line per event: O_APPEND keeps concurrent writers' lines apart
                os.write(self._fd, to_bytes(dumps(event)) + b"\n")
        except OSError as error:
            self._broken = True
            self._display.warning("org.async_jobs.async_log: cannot write %s, logging stops for this run: %s"
                                  % (self._path, to_text(error)))

    def _record(self, method, *args, **kwargs):
        if self._recorder is None:
            self.set_options()
        self._write(getattr(self._recorder, method)(*args, **kwargs))

    # -- playbook and plays ----------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._record("playbook_start", to_text(core_compat.playbook_path(playbook) or ""), ansible_version)

    def v2_playbook_on_play_start(self, play):
        strategy = getattr(play, "strategy", None) or C.DEFAULT_STRATEGY
        self._record("play_start", play, force_handlers=force_handlers_setting(play), strategy=to_text(strategy))

    def v2_playbook_on_stats(self, stats):
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._record("playbook_end", recap)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.get_option("timeline") and not self._broken:
            self._write_timeline()

    def _write_timeline(self):
        target = os.path.splitext(self._path)[0] + ".html"
        page = render(self._recorder.events, title="async_log timeline: %s" % os.path.basename(self._path))
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, to_bytes(page))
            finally:
                os.close(fd)
        except OSError as error:
            self._display.warning("org.async_jobs.async_log: cannot write the timeline %s: %s" % (target, to_text(error)))

    # -- tasks and handlers ----------------------------------------------------------------

    def v2_runner_on_start(self, host, task):
        self._record("runner_start", host.get_name(), task)

    def v2_runner_on_ok(self, result):
        self._record("task_result", result.host.get_name(), result.task, "ok", result.result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("task_result", result.host.get_name(), result.task, "failed", result.result, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record("task_result", result.host.get_name(), result.task, "skipped", result.result)

    def v2_runner_on_unreachable(self, result):
        self._record("task_result", result.host.get_name(), result.task, "unreachable", result.result)

    def v2_runner_item_on_ok(self, result):
        self._record("item_result", result.host.get_name(), result.task, "ok", result.result)

    def v2_runner_item_on_failed(self, result):
        self._record("item_result", result.host.get_name(), result.task, "failed", result.result)

    def v2_runner_retry(self, result):
        self._record("retry", result.host.get_name(), result.task, result.result)

    def v2_runner_on_async_poll(self, result):
        self._record("async_poll", result.host.get_name(), result.result, task=result.task)

    def v2_runner_on_async_ok(self, result):
        self._record("async_final", result.host.get_name(), result.task, result.result, False)

    def v2_runner_on_async_failed(self, result):
        self._record("async_final", result.host.get_name(), result.task, result.result, True)

    def v2_playbook_on_notify(self, handler, host):
        self._record("notify", handler, host.get_name())
