#!/usr/bin/env python3
"""Sums the calls recorded in a callgrind output file to functions whose name contains
a pattern: `callgrind-calls.py FILE PATTERN` (`=NAME`: whose name is exactly NAME). benches/profile.sh counts the echoes a server
made in its window this way (one `push_frame` per echoed message), which is exact, where
the load generator's own count covers a window a little off the profiler's."""
import re
import sys

path, pattern = sys.argv[1], sys.argv[2]
names = {}
total = 0
target = None
with open(path, errors="replace") as f:
    for line in f:
        if line.startswith(("cfn=", "cfi=", "cfl=")) and line.startswith("cfn="):
            m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                target = names.get(m.group(1), "")
        elif line.startswith("fn="):
            m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
        elif line.startswith("calls=") and target is not None:
            if (target == pattern[1:]) if pattern.startswith("=") else (pattern in target):
                total += int(line.split()[0][len("calls="):])
            target = None
print(total)
