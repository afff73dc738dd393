# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as it is shipped: the tarball, the docs ansible-doc renders, the changelog,
ansible-lint, and the metadata ansible-builder reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import COLLECTION_ROOT
from playbook_runner import BIN_DIR

PLUGINS = [("strategy", "org.async_jobs.fanout"), ("callback", "org.async_jobs.async_log"), ("module", "org.async_jobs.wait_jobs")]


def tool(name, *args, env=None, cwd=None):
    environment = dict(os.environ, PATH=BIN_DIR + os.pathsep + os.environ.get("PATH", ""), **(env or {}))
    return subprocess.run([os.path.join(BIN_DIR, name)] + list(args), capture_output=True, text=True, env=environment, cwd=cwd, check=False)


def test_tarball_ships_no_test_output_venvs_or_tooling(collection_tarball):
    with tarfile.open(collection_tarball) as tarball:
        names = tarball.getnames()
    manifest = json.loads(tarfile.open(collection_tarball).extractfile("MANIFEST.json").read())
    assert manifest["collection_info"]["namespace"] == "org" and manifest["collection_info"]["name"] == "async_jobs"
    assert "meta/runtime.yml" in names and "README.md" in names
    unwanted_top = {".ci", ".venv", "Makefile", "scripts", "collections", "build", "benchmarks", ".git"}
    unwanted_anywhere = {"output", ".pytest_cache", "__pycache__"}
    assert [name for name in names if name.split("/")[0] in unwanted_top or unwanted_anywhere & set(name.split("/"))
            or name.endswith(".tar.gz")] == []


@pytest.mark.parametrize("plugin_type, name", PLUGINS)
def test_ansible_doc_renders_each_plugin_without_warnings(collections_path, plugin_type, name):
    env = {"ANSIBLE_COLLECTIONS_PATH": collections_path}
    listed = tool("ansible-doc", "-t", plugin_type, "-l", "org.async_jobs", env=env)
    assert name in listed.stdout, listed.stdout + listed.stderr
    shown = tool("ansible-doc", "-t", plugin_type, name, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "EXAMPLES" in shown.stdout and "OPTIONS" in shown.stdout.upper()
    assert "WARNING" not in shown.stderr.upper(), shown.stderr


def test_execution_environment_metadata_is_read_by_ansible_builder(collections_path):
    introspected = tool("ansible-builder", "introspect", collections_path)
    assert introspected.returncode == 0, introspected.stderr
    assert "python: []" in introspected.stdout and "system: []" in introspected.stdout, introspected.stdout


def test_changelog_lints_and_releases_0_1_0(tmp_path):
    copy = tmp_path / "async_jobs"
    shutil.copytree(COLLECTION_ROOT, copy, ignore=shutil.ignore_patterns(".git", "tests", ".venv*", "collections", "build"))
    linted = tool("antsibull-changelog", "lint", cwd=copy)
    assert linted.returncode == 0 and linted.stdout.strip() == "", linted.stdout + linted.stderr
    released = tool("antsibull-changelog", "release", "--version", "0.1.0", "--date", "2026-12-03", cwd=copy)
    assert released.returncode == 0, released.stdout + released.stderr
    changelog = (copy / "CHANGELOG.rst").read_text()
    assert "v0.1.0" in changelog and "Release Summary" in changelog


def test_ansible_lint_production_profile_passes_on_collection_and_examples(collections_path):
    linted = tool("ansible-lint", "--nocolor", cwd=COLLECTION_ROOT, env={"ANSIBLE_COLLECTIONS_PATH": collections_path})
    assert linted.returncode == 0, linted.stdout[-6000:] + linted.stderr[-6000:]
    assert "Profile 'production' was required, and it passed" in linted.stderr + linted.stdout
