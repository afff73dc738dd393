#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_jobs against the async_status until/retries loop, on real SSH hosts, in one run.

Both plays launch the same jobs (8 x ``sleep 6`` per host, ``async`` + ``poll: 0``) on 10
loopback SSH hosts with forks 10, then wait for them with the same delay: one with
``ansible.builtin.async_status`` in a loop with ``until``/``retries``, the other with
``org.async_jobs.wait_jobs``. Reported per play:

- the wall time of the wait (from the first host done launching to the last host done waiting)
  and of the whole playbook;
- the remote status calls: for the loop, the sum of ``attempts`` over every item of every host
  (each attempt is one async_status run on the host); for wait_jobs, the number of checks
  (``ticks``), each of which is one module run on the host.

Usage (with a venv that has ansible-core; the collection is used from this checkout):

    /root/.cache/org.async_jobs/venv-core-2.21/bin/python benchmarks/wait_jobs_vs_async_status.py

Options: --hosts, --jobs, --sleep, --delay, --forks, --rounds (each round runs both plays, in
alternating order), --json (also print the raw figures as JSON), --count-exec (run at -vvv and
count the module runs in the EXEC lines too, as a cross-check of the status call counts).

The loop's play ends with the clean-up loop that the pattern needs to leave no job file behind
(wait_jobs cleans up within its checks); it is outside the measured wait, inside the playbook
time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from playbook_runner import PlaybookRunner  # noqa: E402  pylint: disable=wrong-import-position
from sshd_hosts import SshHosts  # noqa: E402  pylint: disable=wrong-import-position

LAUNCH = """
- name: {name}
  hosts: targets
  gather_facts: false
  tasks:
    - name: Launch the jobs
      ansible.builtin.command: "sleep {sleep}"
      loop: "{{{{ range({jobs}) | list }}}}"
      async: 120
      poll: 0
      register: launched

    - name: Note the time the wait starts
      ansible.builtin.set_fact:
        wait_started: "{{{{ now().timestamp() }}}}"
{wait}
    - name: Note the time the wait ends
      ansible.builtin.set_fact:
        wait_ended: "{{{{ now().timestamp() }}}}"
        status_calls: "{{{{ {calls} }}}}"
        checks: "{{{{ {checks} }}}}"
{after}
    - name: Write the figures
      ansible.builtin.copy:
        dest: "{{{{ figures }}}}"
        content: "{{{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars) | map('dict2items')
                    | map('selectattr', 'key', 'in', ['wait_started', 'wait_ended', 'status_calls', 'checks'])
                    | map('items2dict'))) | to_json }}}}"
        mode: "0644"
      delegate_to: localhost
      run_once: true
"""

ASYNC_STATUS_LOOP = """
    - name: Wait with the async_status loop
      ansible.builtin.async_status:
        jid: "{{ item.ansible_job_id }}"
      loop: "{{ launched.results }}"
      register: polled
      until: polled.finished
      retries: 100
      delay: %(delay)s
"""

LOOP_CLEANUP = """
    - name: Clean up the job files, as the loop leaves them behind
      ansible.builtin.async_status:
        jid: "{{ item.ansible_job_id }}"
        mode: cleanup
      loop: "{{ launched.results }}"
"""

WAIT_JOBS = """
    - name: Wait with wait_jobs
      org.async_jobs.wait_jobs:
        jobs: "{{ launched }}"
        delay: %(delay)s
        timeout: 300
      register: waited
"""


def write_playbooks(directory, args):
    common = {"sleep": args.sleep, "jobs": args.jobs}
    plays = {
        "async_status loop": LAUNCH.format(
            name="async_status loop", wait=ASYNC_STATUS_LOOP % {"delay": args.delay}, after=LOOP_CLEANUP,
            calls="polled.results | map(attribute='attempts') | sum",
            checks="polled.results | map(attribute='attempts') | max", **common),
        "wait_jobs": LAUNCH.format(
            name="wait_jobs", wait=WAIT_JOBS % {"delay": args.delay}, after="",
            calls="waited.ticks | length", checks="waited.ticks | length", **common),
    }
    paths = {}
    for label, text in plays.items():
        paths[label] = os.path.join(directory, label.replace(" ", "_") + ".yml")
        with open(paths[label], "w", encoding="utf-8") as playbook:
            playbook.write("---" + text)
    return paths


def count_module_runs(stdout):
    """Module runs on the hosts, from the EXEC lines of -vvv output, by module."""
    runs = {}
    for line in stdout.splitlines():
        if " EXEC " in line:
            if "chmod" in line or "rm -f -r" in line:
                continue
            # an async launch names its module twice (for async_wrapper and to run it): once a line
            for name in set(re.findall(r"AnsiballZ_(\w+)\.py", line)):
                runs[name] = runs.get(name, 0) + 1
    return runs


def run_play(runner, playbook, inventory, figures_path, forks, verbose=False):
    extra = ["--forks", str(forks), "-e", "figures=" + figures_path] + (["-vvv"] if verbose else [])
    run = runner.run(playbook, inventory, extra_args=extra)
    if run.rc != 0:
        raise SystemExit("The play failed:\n" + run.explain())
    with open(figures_path, encoding="utf-8") as figures_file:
        per_host = json.load(figures_file)
    return {
        "playbook_seconds": run.seconds,
        "wait_seconds": max(float(h["wait_ended"]) for h in per_host.values()) - min(float(h["wait_started"]) for h in per_host.values()),
        "status_calls": sum(int(h["status_calls"]) for h in per_host.values()),
        "max_checks_per_host": max(int(h["checks"]) for h in per_host.values()),
        "hosts": len(per_host),
        "failed_retrying_lines": run.stdout.count("FAILED - RETRYING"),
        **({"module_runs": count_module_runs(run.stdout)} if verbose else {}),
    }


def table(rows):
    loop, wait = rows["async_status loop"], rows["wait_jobs"]
    lines = ["%-20s %11s %11s %13s %10s %15s" % ("", "wait wall s", "playbook s", "status calls", "per host", "RETRYING lines")]
    for label, row in (("async_status loop", loop), ("wait_jobs", wait)):
        lines.append("%-20s %11.1f %11.1f %13d %10.1f %15d" % (label, row["wait_seconds"], row["playbook_seconds"], row["status_calls"],
                                                               row["status_calls"] / float(row["hosts"]), row["failed_retrying_lines"]))
    lines.append("%-20s %11.2f %11.2f %13.2f" % ("wait_jobs / loop", wait["wait_seconds"] / loop["wait_seconds"],
                                                 wait["playbook_seconds"] / loop["playbook_seconds"],
                                                 wait["status_calls"] / float(loop["status_calls"])))
    if "module_runs" in loop:
        lines.append("module runs seen at -vvv: loop %s, wait_jobs %s" % (loop["module_runs"], wait["module_runs"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--sleep", type=float, default=6)
    parser.add_argument("--delay", type=float, default=2)
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--count-exec", action="store_true",
                        help="run at -vvv and also count the module runs from the EXEC lines (slower; a cross-check)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="wait-jobs-bench-")
    collections = os.path.join(work, "collections", "ansible_collections", "org")
    os.makedirs(collections)
    os.symlink(ROOT, os.path.join(collections, "async_jobs"))
    playbooks = write_playbooks(work, args)
    hosts = SshHosts(args.hosts).start()
    try:
        inventory = hosts.write_inventory(os.path.join(work, "inventory.ini"), count=args.hosts)
        runner = PlaybookRunner(os.path.join(work, "collections"), work, control_path_dir=hosts.control_dir)
        print("%d hosts x %d jobs of sleep %g, forks %d, delay %g s, %d round(s)" % (
            args.hosts, args.jobs, args.sleep, args.forks, args.delay, args.rounds))
        results = []
        for round_number in range(args.rounds):
            order = list(playbooks) if round_number % 2 == 0 else list(reversed(list(playbooks)))
            rows = {label: run_play(runner, playbooks[label], inventory, os.path.join(work, "figures.json"), args.forks,
                                    verbose=args.count_exec)
                    for label in order}
            results.append(rows)
            print("\nround %d (%s first)\n%s" % (round_number + 1, order[0], table(rows)))
        if args.rounds > 1:
            median = {label: {key: statistics.median(rows[label][key] for rows in results)
                              for key in results[0][label] if key != "module_runs"}
                      for label in playbooks}
            print("\nmedian of %d rounds\n%s" % (args.rounds, table(median)))
        if args.json:
            print(json.dumps(results, indent=2))
    finally:
        hosts.stop()


if __name__ == "__main__":
    main()
