#!/usr/bin/env python3
"""Stand-in for the source note's /opt/monitor.py: checks a web site for a while, then reports.

It "checks" a local URL-less target: every second it records a probe, for the given number of
seconds (the note's monitor runs about 5 minutes; the examples scale it down).
"""
import json
import sys
import time

seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
probes = []
# The probes, and so the report, come half a second off the whole seconds: a command that prints
# and exits just as a whole second of its run ends can lose that output (see "Development" in the
# README).
time.sleep(0.5)
for second in range(seconds):
    probes.append({"second": second, "status": "up"})
    if second < seconds - 1:
        time.sleep(1)
print(json.dumps({"probes": len(probes), "down": 0}))
