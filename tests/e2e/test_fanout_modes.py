# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lanes under --check and --tags/--skip-tags behave as the same tasks do under linear."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def markers(shared_dir):
    return shared_dir


def run_lanes(ansible_playbook, make_inventory, playbook, markers, *args):
    return ansible_playbook.run(playbook("fanout_modes/lanes.yml"), make_inventory(3),
                                extra_args=["-e", "fanout_marker_dir=%s" % markers] + list(args))


def written(markers):
    return {host: sorted(os.listdir(os.path.join(markers, host))) for host in sorted(os.listdir(markers))}


def test_check_mode_reports_changes_in_lanes_and_writes_nothing(ansible_playbook, make_inventory, playbook, markers):
    os.makedirs(os.path.join(markers, "host01"))  # directories only: check mode creates none
    run = run_lanes(ansible_playbook, make_inventory, playbook, markers, "--check")
    assert run.rc == 0, run.explain()
    assert run.stdout.count("changed: [host0") >= 6, run.explain()  # both lanes on three hosts
    assert written(markers) == {"host01": []}
    assert '"msg": "one=True two=True"' in run.stdout


def test_tags_select_lanes(ansible_playbook, make_inventory, playbook, markers):
    run = run_lanes(ansible_playbook, make_inventory, playbook, markers, "--tags", "two")
    assert run.rc == 0, run.explain()
    assert written(markers) == {host: ["two"] for host in ("host01", "host02", "host03")}
    assert "Lane one writes a marker" not in run.stdout
    assert '"msg": "one=not run two=True"' in run.stdout


def test_skip_tags_skip_a_lane(ansible_playbook, make_inventory, playbook, markers):
    run = run_lanes(ansible_playbook, make_inventory, playbook, markers, "--skip-tags", "two")
    assert run.rc == 0, run.explain()
    assert written(markers) == {host: ["one"] for host in ("host01", "host02", "host03")}
    assert '"msg": "one=True two=not run"' in run.stdout
