# -*- coding: utf-8 -*-
# Copyright: (c) 2026, org.async_jobs developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An ssh ProxyCommand that relays to a test host until a file appears, as a network cut would:
then it drops the connection it carries and refuses new ones, so the host is unreachable.

usage (in ssh's options): ProxyCommand=<python> cuttable_proxy.py %h %p <cut file>
"""

from __future__ import annotations

import os
import select
import socket
import sys

CHECK_EVERY = 0.2  # seconds between looks at the cut file while the connection is idle


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def relay(address, port, cut_file):
    if os.path.exists(cut_file):
        return "cut off: %s exists" % cut_file
    upstream = socket.create_connection((address, port), timeout=10)
    upstream.settimeout(None)
    sources = [sys.stdin.fileno(), upstream]
    while sources and not os.path.exists(cut_file):
        ready = select.select(sources, [], [], CHECK_EVERY)[0]
        for source in ready:
            if source is upstream:
                data = upstream.recv(65536)
                if not data:
                    return None
                _write_all(sys.stdout.fileno(), data)
            else:
                data = os.read(source, 65536)
                if data:
                    upstream.sendall(data)
                else:
                    upstream.shutdown(socket.SHUT_WR)
                    sources.remove(source)
    upstream.close()
    return "cut off: %s exists" % cut_file


if __name__ == "__main__":
    sys.exit(relay(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
