#!/usr/bin/env python3
"""Instructions per unit spent in (inclusive of callees) the functions whose name contains
each pattern, from a callgrind output file: `callgrind-inclusive.py FILE UNITS PATTERN...`
(`=NAME`: whose name is exactly NAME). UNITS divides the counts: the connections or
messages in the file's window (see benches/profile.sh). Prints, per pattern, the sum over
the matching functions (recursive calls counted once) and the calls per unit, then the
file's total per unit. benches/README's "Where a handshake's time goes" is read this way."""
import re
import sys
from collections import Counter

path, units, patterns = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
names = {}
self_cost, inclusive, calls = Counter(), Counter(), Counter()
current = callee = None
pending = None
with open(path, errors="replace") as f:
    for line in f:
        line = line.rstrip("\n")
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3)
            if m.group(1) == "fn":
                current, pending = names.get(m.group(2), "?"), None
            else:
                callee = names.get(m.group(2), "?")
            continue
        if line.startswith("calls="):
            pending = int(line.split()[0][len("calls="):])
            continue
        if line[:1].isdigit() or line[:1] in ("+", "-", "*"):
            parts = line.split()
            if len(parts) < 2:
                continue
            cost = int(parts[1])
            if pending is not None:
                if callee != current:
                    inclusive[current] += cost
                calls[callee] += pending
                pending = None
            else:
                self_cost[current] += cost
                inclusive[current] += cost


def matches(pattern, name):
    return name == pattern[1:] if pattern.startswith("=") else pattern in name


for pattern in patterns:
    hits = [n for n in inclusive if matches(pattern, n)]
    # A function that calls another match (a wrapper and its body) is counted once:
    # keep the largest.
    cost = max((inclusive[n] for n in hits), default=0)
    count = max((calls[n] for n in hits), default=0)
    print(f"{cost / units:9.0f} {count / units:6.2f} calls  {pattern}")
print(f"{sum(self_cost.values()) / units:9.0f}        total")
