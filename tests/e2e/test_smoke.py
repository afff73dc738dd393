# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness itself: five SSH hosts, a login and a become, through ansible-playbook."""

from __future__ import annotations

import re


def test_two_tasks_on_five_ssh_hosts_with_become(ansible_playbook, make_inventory, playbook):
    run = ansible_playbook.run(playbook("smoke.yml"), make_inventory(5))
    assert run.rc == 0, run.explain()
    recap = {match[0]: match[1:] for match in re.findall(r"^(host\d+)\s+: ok=(\d+) .*unreachable=(\d+)\s+failed=(\d+)", run.stdout, re.M)}
    assert sorted(recap) == ["host%02d" % n for n in range(1, 6)], run.explain()
    assert set(recap.values()) == {("3", "0", "0")}, run.explain()
    assert "ESTABLISH SSH CONNECTION" not in run.stdout  # default verbosity


def test_inventory_addresses_are_loopback(ssh_hosts):
    assert ssh_hosts.hosts and all(host[1].startswith("127.") for host in ssh_hosts.hosts)
