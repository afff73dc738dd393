# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the end-to-end suite: the collection as users install it, real SSH hosts on
loopback, and a runner for ansible-playbook."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from playbook_runner import BIN_DIR, PlaybookRunner
from sshd_hosts import SshdUnavailable, SshHosts

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "playbooks")
HOST_COUNT = int(os.environ.get("ASYNC_JOBS_E2E_HOSTS", "10"))


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """The collection built with ansible-galaxy from this checkout."""
    work = tmp_path_factory.mktemp("build")
    subprocess.run([os.path.join(BIN_DIR, "ansible-galaxy"), "collection", "build", "--output-path", str(work), COLLECTION_ROOT],
                   check=True, capture_output=True, text=True)
    return glob.glob(str(work / "org-async_jobs-*.tar.gz"))[0]


@pytest.fixture(scope="session")
def collections_path(collection_tarball, tmp_path_factory):
    """The tarball installed with ansible-galaxy, as a user would; the path to put on
    ANSIBLE_COLLECTIONS_PATH."""
    installed = tmp_path_factory.mktemp("collections")
    subprocess.run([os.path.join(BIN_DIR, "ansible-galaxy"), "collection", "install", "--offline", "-p", str(installed), collection_tarball],
                   check=True, capture_output=True, text=True)
    return str(installed)


@pytest.fixture(scope="session")
def ssh_hosts():
    """HOST_COUNT loopback hosts served by throwaway sshd processes, stopped at the end.

    Their directory is a fresh one under the system temp dir, not pytest's (whose 0700 parents
    would keep sshd, reading authorized_keys as the test account, out)."""
    try:
        hosts = SshHosts(HOST_COUNT).start()
    except SshdUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    yield hosts
    hosts.stop()


@pytest.fixture
def shared_dir():
    """A scratch directory the hosts' login account can write to (pytest's own temp dirs are
    private to the user running the tests): under the system temp dir, sticky and open to all."""
    path = tempfile.mkdtemp(prefix="async-jobs-e2e-")
    os.chmod(path, 0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_inventory(ssh_hosts, tmp_path):
    """make_inventory(count=5, host_vars=None, group="targets") -> path of an INI inventory."""
    def make(count=5, host_vars=None, group="targets"):
        return ssh_hosts.write_inventory(str(tmp_path / ("inventory-%d.ini" % count)), count=count,
                                         group=group, host_vars=host_vars)
    return make


@pytest.fixture
def ansible_playbook(collections_path, ssh_hosts, tmp_path):
    """ansible_playbook.run(playbook, inventory, extra_args=(), env=None, log_path=None)."""
    return PlaybookRunner(collections_path, str(tmp_path), control_path_dir=ssh_hosts.control_dir)


@pytest.fixture
def playbook():
    """playbook("name.yml") -> path of a playbook under tests/e2e/playbooks."""
    return lambda name: os.path.join(PLAYBOOKS, name)


def pytest_report_header(config):
    return "ansible-playbook from %s (python %s)" % (BIN_DIR, sys.version.split()[0])
