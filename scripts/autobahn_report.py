"""Summarises an Autobahn report and judges it.

Usage: autobahn_report.py AGENT RESULTS_JSON ALLOWED_TXT MODE INDEX_JSON...

Merges the reports (one per shard of the cases), prints the count of each result, writes the per-case results to RESULTS_JSON (sorted,
so that the committed file shows any change as a diff), and exits 1 if a case FAILED,
if a NON-STRICT or UNIMPLEMENTED case is not allowed in ALLOWED_TXT, or if a case is
worse than in the committed RESULTS_JSON or missing.
"""

import collections
import fnmatch
import json
import os
import sys

RANK = {"OK": 0, "INFORMATIONAL": 0, "NON-STRICT": 1, "UNIMPLEMENTED": 2, "WRONG CODE": 3, "UNCLEAN": 3, "FAILED": 4}


def case_key(case):
    return [int(part) for part in case.split(".")]


def load_allowed(path, mode):
    """Lines: MODE CASE-PATTERN RESULT reason...; '#' starts a comment."""
    allowed = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            who, pattern, result, reason = (line.split(None, 3) + [""])[:4]
            if who in (mode, "both"):
                allowed.append((pattern, result, reason))
    return allowed


def main():
    agent, results_path, allowed_path, mode = sys.argv[1:5]
    report = {}
    for index_path in sys.argv[5:]:
        with open(index_path) as f:
            report.update(json.load(f)[agent])
    results = {
        case: {"behavior": r["behavior"], "behaviorClose": r["behaviorClose"]}
        for case, r in sorted(report.items(), key=lambda kv: case_key(kv[0]))
    }
    previous = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            previous = json.load(f)
    allowed = load_allowed(allowed_path, mode)

    counts = collections.Counter(r["behavior"] for r in results.values())
    print("autobahn %s: %d cases: %s" % (mode, len(results), ", ".join(
        "%s %d" % (name, counts[name]) for name in sorted(counts, key=lambda n: RANK.get(n, 5)))))

    problems = []
    for case, r in results.items():
        for field in ("behavior", "behaviorClose"):
            result = r[field]
            if result in ("OK", "INFORMATIONAL"):
                continue
            if result in ("NON-STRICT", "UNIMPLEMENTED") and any(
                fnmatch.fnmatch(case, p) and result == res for p, res, _ in allowed
            ):
                continue
            problems.append("%s %s: %s" % (case, field, result))
        old = previous.get(case)
        if old and RANK.get(r["behavior"], 5) > RANK.get(old["behavior"], 5):
            problems.append("%s regressed: %s -> %s" % (case, old["behavior"], r["behavior"]))

    for case in previous:
        if case not in results:
            problems.append("%s is missing from the report" % case)

    with open(results_path, "w") as f:
        json.dump(results, f, indent=1, sort_keys=False)
        f.write("\n")

    if problems:
        print("autobahn %s: %d problem(s):" % (mode, len(problems)))
        for p in problems:
            print("  " + p)
        return 1
    print("autobahn %s: conformance OK" % mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
