# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Outside fan-out blocks org.async_jobs.fanout is linear: a reference playbook without fan-out
blocks gives the same recap, registered values and output lines under both strategies."""

from __future__ import annotations

import os
import re

from test_fanout import QUIET, recap, records

TIMING = re.compile(r'"(start|end|delta)": "[^"]*"')
INCLUDED_FOR = re.compile(r"^(included: \S+ for )([^=]+?)( => .*)?$")


def _hosts_sorted(match):
    return match.group(1) + ", ".join(sorted(match.group(2).split(", "))) + (match.group(3) or "")


def output_lines(run):
    """The output's lines, sorted (hosts of one step finish in any order, under linear too, and
    an include names its hosts in that order), timings blanked."""
    lines = [INCLUDED_FOR.sub(_hosts_sorted, TIMING.sub(r'"\1": "-"', line)) for line in run.stdout.splitlines()]
    return sorted(line for line in lines if line.strip() and "DEPRECATION" not in line)


def test_reference_playbook_same_under_linear_and_fanout(ansible_playbook, make_inventory, playbook, tmp_path):
    inventory = make_inventory(3)
    outcomes = {}
    for strategy in ("ansible.builtin.linear", "org.async_jobs.fanout"):
        record_dir = tmp_path / strategy
        record_dir.mkdir()
        run = ansible_playbook.run(playbook(os.path.join("fanout", "reference.yml")), inventory,
                                   extra_args=["-e", "record_dir=%s" % record_dir],
                                   env=dict(QUIET, ANSIBLE_STRATEGY=strategy))
        outcomes[strategy] = (run, {name: records(str(record_dir), name) for name in ("play1", "play2", "play3")})
    linear, linear_records = outcomes["ansible.builtin.linear"]
    fanout, fanout_records = outcomes["org.async_jobs.fanout"]
    assert linear.rc == fanout.rc == 2, linear.explain() + fanout.explain()
    assert recap(linear) == recap(fanout), linear.explain() + fanout.explain()
    assert recap(linear)["host03"]["rescued"] == 1 and recap(linear)["host01"]["failed"] == 1
    assert linear_records == fanout_records
    assert sorted(linear_records["play1"]) == ["host01", "host02", "host03"]
    assert output_lines(linear) == output_lines(fanout), fanout.explain()
