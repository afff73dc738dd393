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
for second in range(seconds):
    probes.append({"second": second, "status": "up"})
    time.sleep(1)
print(json.dumps({"probes": len(probes), "down": 0}))
