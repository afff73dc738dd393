#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fanout strategy's pooled async lanes against the usual ways of running four async tasks
per host, on real SSH hosts, in one run.

Every play runs four ``sleep 10`` jobs (``async: 60``) on each of 20 loopback SSH hosts with
forks 5:

- ``fanout``: ``strategy: org.async_jobs.fanout``, the four tasks as the lanes of a fan-out block,
  ``poll: 2`` (pooled: launched with poll 0, one status call per host every 2 s);
- ``linear``: the same four tasks with ``poll: 2`` under linear (a worker polls each job);
- ``async_status``: the four tasks with ``poll: 0``, then an ``async_status`` loop over the four
  jobs with ``until: finished``, ``delay: 2``, then the clean-up the pattern needs;
- ``wait_jobs``: the four tasks with ``poll: 0``, then one ``org.async_jobs.wait_jobs`` task,
  ``delay: 2``.

Reported per play: the wall time of the playbook; the peak number of controller processes
(processes below ansible-playbook, sampled from /proc every 20 ms: the forked workers, and all
descendants, which adds the ssh clients and the shells they run); the controller CPU seconds (user + system of
ansible-playbook and every descendant it reaped, from wait4); the remote status calls
(async_status and wait_jobs module runs, counted from the PUT lines at -vvv, which every play is
run at). For linear, the status calls include core's one clean-up call per job.

Usage (the collection is used from this checkout):

    /root/.cache/org.async_jobs/venv-core-2.21/bin/python benchmarks/fanout_async.py [--hosts 20]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from playbook_runner import BIN_DIR, PlaybookRunner  # noqa: E402  pylint: disable=wrong-import-position
from sshd_hosts import SshHosts  # noqa: E402  pylint: disable=wrong-import-position

STATUS_CALL = re.compile(r"^<(?P<address>[0-9.]+)> PUT \S+ TO \S+/AnsiballZ_(?:wait_jobs|async_status)\.py$", re.M)

TASK = """
        - name: Job {index}
          ansible.builtin.command: "sleep {sleep}"
          async: 60
          poll: {poll}
          register: job{index}
"""

PLAYS = {
    "fanout": """
- name: fanout
  hosts: targets
  gather_facts: false
  strategy: org.async_jobs.fanout
  tasks:
    - name: Four async lanes
      vars:
        fanout: true
      block:
{tasks_poll}
""",
    "linear": """
- name: linear
  hosts: targets
  gather_facts: false
  tasks:
    - name: Four async tasks, one after the other
      block:
{tasks_poll}
""",
    "async_status": """
- name: async_status
  hosts: targets
  gather_facts: false
  tasks:
    - name: Launch four jobs
      block:
{tasks_nopoll}
    - name: Wait for them
      ansible.builtin.async_status:
        jid: "{{{{ item.ansible_job_id }}}}"
      loop: "{{{{ [job1, job2, job3, job4] }}}}"
      register: waited
      until: waited is finished
      retries: 60
      delay: {poll}
    - name: Clean up
      ansible.builtin.async_status:
        jid: "{{{{ item.ansible_job_id }}}}"
        mode: cleanup
      loop: "{{{{ [job1, job2, job3, job4] }}}}"
""",
    "wait_jobs": """
- name: wait_jobs
  hosts: targets
  gather_facts: false
  tasks:
    - name: Launch four jobs
      block:
{tasks_nopoll}
    - name: Wait for them
      org.async_jobs.wait_jobs:
        jobs: "{{{{ [job1, job2, job3, job4] }}}}"
        delay: {poll}
""",
}


def write_playbooks(directory, sleep, poll):
    tasks_poll = "".join(TASK.format(index=index, sleep=sleep, poll=poll) for index in range(1, 5))
    tasks_nopoll = "".join(TASK.format(index=index, sleep=sleep, poll=0) for index in range(1, 5))
    paths = {}
    for name, text in PLAYS.items():
        paths[name] = os.path.join(directory, "%s.yml" % name)
        with open(paths[name], "w", encoding="utf-8") as handle:
            handle.write(text.format(tasks_poll=tasks_poll, tasks_nopoll=tasks_nopoll, poll=poll))
    return paths


def descendants(root):
    """{pid: command name} of every process below root, from /proc."""
    children = collections.defaultdict(list)
    names = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children[ppid].append(int(entry))
        names[int(entry)] = name
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found[child] = names[child]
            todo.append(child)
    return found


def run_play(runner, playbook, inventory, forks):
    env = runner.environment({"ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_HOST_KEY_CHECKING": "False"})
    command = [os.path.join(BIN_DIR, "ansible-playbook"), "-i", inventory, "-f", str(forks), "-vvv", playbook]
    with tempfile.TemporaryFile() as output:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=runner.work_dir)
        peaks = {"workers": 0, "all": 0}
        done = threading.Event()

        def sample():
            while not done.is_set():
                below = descendants(process.pid)
                peaks["all"] = max(peaks["all"], len(below))
                peaks["workers"] = max(peaks["workers"], sum(1 for name in below.values() if name.startswith("ansible-playb")))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        dummy, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        stdout = output.read().decode("utf-8", "replace")
    calls = collections.Counter(match["address"] for match in STATUS_CALL.finditer(stdout))
    return {"rc": process.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "workers": peaks["workers"],
            "processes": peaks["all"], "calls": sum(calls.values()), "calls_max_host": max(calls.values()) if calls else 0,
            "tail": stdout[-3000:]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--forks", type=int, default=5)
    parser.add_argument("--sleep", type=int, default=10)
    parser.add_argument("--poll", type=int, default=2)
    parser.add_argument("--plays", default="fanout,wait_jobs,async_status,linear")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fanout-async-bench-")
    collections_dir = os.path.join(work, "collections", "ansible_collections", "org")
    os.makedirs(collections_dir)
    os.symlink(ROOT, os.path.join(collections_dir, "async_jobs"))
    playbooks = write_playbooks(work, args.sleep, args.poll)
    signal.signal(signal.SIGTERM, lambda *dummy: sys.exit("interrupted"))
    hosts = SshHosts(args.hosts).start()
    try:
        inventory = hosts.write_inventory(os.path.join(work, "inventory.ini"), count=args.hosts)
        runner = PlaybookRunner(os.path.join(work, "collections"), work, control_path_dir=hosts.control_dir)
        results = {}
        for name in args.plays.split(","):
            results[name] = run_play(runner, playbooks[name], inventory, args.forks)
            if results[name]["rc"] != 0:
                print(results[name]["tail"])
                raise SystemExit("%s failed with rc %d" % (name, results[name]["rc"]))
            print("%s done in %.1fs" % (name, results[name]["wall"]), file=sys.stderr)
    finally:
        hosts.stop()

    base = results.get("wait_jobs")
    linear = results.get("linear")
    version = subprocess.run([os.path.join(BIN_DIR, "ansible"), "--version"], capture_output=True, text=True, check=True).stdout
    print("%d hosts x 4 async tasks of sleep %d (poll/delay %d), forks %d, %s\n"
          % (args.hosts, args.sleep, args.poll, args.forks, version.split("\n", 1)[0]))
    print("| play | wall s | / wait_jobs | / linear | peak workers | peak processes (with ssh) | controller CPU s "
          "| status calls | max per host | per host per interval |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, row in results.items():
        intervals = row["wall"] / args.poll
        print("| %s | %.1f | %s | %s | %d | %d | %.1f | %d | %d | %.2f |" % (
            name, row["wall"], "%.2f" % (row["wall"] / base["wall"]) if base else "-",
            "%.2f" % (row["wall"] / linear["wall"]) if linear else "-", row["workers"], row["processes"], row["cpu"],
            row["calls"], row["calls_max_host"], row["calls_max_host"] / intervals))


if __name__ == "__main__":
    main()
