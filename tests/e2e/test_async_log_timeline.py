# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The async_log timeline page of a real run, looked at in a real browser (headless Chromium).

Set ASYNC_JOBS_TIMELINE_PNG=<path> to keep the screenshot (docs/images/timeline.png is made so)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium():
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium was not found: install it with 'apt-get install -y chromium' "
                "(scripts/install-test-deps.sh does), then rerun.", pytrace=False)


def screenshot(page, png, profile, width=1500, height=900):
    subprocess.run(
        [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--user-data-dir=%s" % profile, "--screenshot=%s" % png, "--window-size=%d,%d" % (width, height),
         "file://%s" % page],
        check=True, capture_output=True, timeout=120,
    )


def png_pixels(path):
    """(width, height, raw scanlines) of a PNG, read with the standard library only."""
    with open(path, "rb") as png:
        data = png.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def test_timeline_renders_in_chromium(ansible_playbook, make_inventory, playbook, tmp_path):
    log_path = str(tmp_path / "deploy.jsonl")
    run = ansible_playbook.run(playbook("async_log/timeline.yml"), make_inventory(6), log_path=log_path)
    assert run.rc == 2, run.explain()  # host04's smoke test fails on purpose
    # 6 hosts x (1 polled + 2 launched) in the first play; host04 failed there, so 5 x 2 lanes' jobs in the second
    assert len(run.events_of("job.end", status="ok")) == 18 + 10, run.explain()
    assert [e["host"] for e in run.events_of("handler.not_run")] == ["host04"]
    assert {e.get("lane") for e in run.events_of("task.start") if e["play"]["name"].startswith("Install")} == {"Group 1", "Group 2"}
    page = os.path.splitext(log_path)[0] + ".html"
    with open(page, encoding="utf-8") as html:
        text = html.read()
    assert re.findall(r'data-host="(host\d+)"', text) == ["host%02d" % n for n in range(1, 7)]
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert text.count("job ") >= 28  # every job has a tooltip

    png = str(tmp_path / "timeline.png")
    screenshot(page, png, str(tmp_path / "chromium-profile"))
    width, height, raw = png_pixels(png)
    assert (width, height) == (1500, 900)
    # not blank: many colours, and a good part of the page is not background white
    assert len(set(raw)) > 50
    assert raw.count(b"\xff") < len(raw) * 0.97

    keep = os.environ.get("ASYNC_JOBS_TIMELINE_PNG")
    if keep:
        shutil.copyfile(png, keep)
