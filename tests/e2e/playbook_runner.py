# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run real ``ansible-playbook`` processes with the built collection, and read what they left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

BIN_DIR = os.path.dirname(sys.executable)


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    seconds: float
    command: list
    log_path: str | None = None
    events: list = field(default_factory=list)

    def events_of(self, kind, **where):
        """The log's events of one kind, optionally filtered on top-level fields."""
        return [event for event in self.events if event.get("event") == kind and all(event.get(k) == v for k, v in where.items())]

    def explain(self):
        return "%s\nrc=%s after %.1fs\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.command), self.rc, self.seconds, self.stdout[-20000:], self.stderr[-8000:])


def read_json_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]


class PlaybookRunner:
    """Runs ansible-playbook from the interpreter's own environment, in a scratch directory, with
    only the collection that the test session built and installed on ANSIBLE_COLLECTIONS_PATH."""

    def __init__(self, collections_path, work_dir, control_path_dir=None):
        self.collections_path = collections_path
        self.work_dir = work_dir
        self.control_path_dir = control_path_dir

    def environment(self, extra=None):
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.work_dir, "local-tmp"),
            "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", ""),
        })
        if self.control_path_dir:
            env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = self.control_path_dir
        env.update(extra or {})
        return env

    def run(self, playbook, inventory, *, extra_args=(), env=None, log_path=None, timeout=900, check=False, answers=None):
        """Run `playbook` against `inventory`.

        log_path: enable org.async_jobs.async_log writing to this path; the parsed events are in
        the result's ``events``. check: raise AssertionError with the output when rc != 0.
        answers: text for ansible-playbook's standard input (its prompts' answers), else none.
        """
        extra_env = dict(env or {})
        if log_path:
            enabled = [name for name in extra_env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if name]
            extra_env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join(enabled + ["org.async_jobs.async_log"])
            extra_env["ANSIBLE_ASYNC_LOG_PATH"] = log_path
        command = [os.path.join(BIN_DIR, "ansible-playbook"), "-i", str(inventory), str(playbook)] + list(extra_args)
        started = time.monotonic()
        completed = subprocess.run(
            command, cwd=self.work_dir, env=self.environment(extra_env), capture_output=True, text=True,
            timeout=timeout, check=False, **({"input": answers} if answers is not None else {"stdin": subprocess.DEVNULL}),
        )
        outcome = PlaybookRun(
            rc=completed.returncode, stdout=completed.stdout, stderr=completed.stderr,
            seconds=time.monotonic() - started, command=command, log_path=log_path,
            events=read_json_lines(log_path) if log_path else [],
        )
        if check and outcome.rc != 0:
            raise AssertionError("ansible-playbook failed:\n" + outcome.explain())
        return outcome
