#!/usr/bin/env python3
"""Recompute yongxin's three rates (三率) from the public case list, independently.

Usage: verify_rates.py CASES.csv [--compare STATS.json]

CASES.csv is the list the public appeals page offers (/public/appeals.csv): a first row with the
instant it was taken (as_of) and its period, a header row, then one row per case with its category,
the day it was filed, its contact and resolution deadlines and when they were met, its status and
its rating. This script uses the Python standard library only and shares no code with yongxin on
purpose: it applies the published definitions to the rows, as of the list's instant.

- response rate   = contacted by the contact deadline / cases whose contact is due (contacted, or
                    the deadline passed while the case was neither declined nor merged)
- resolution rate = answered by the resolution deadline / cases whose answer is due (likewise)
- satisfaction    = rated satisfied or basically satisfied / rated
- rating coverage = rated / answered at least once (answered now, or rated)

It prints the counts and rates per category and overall as JSON. With --compare, it reads the
server's figures (the JSON of GET /api/v1/appeals/stats?group_by=category for the same period, or
any {"rows": [{"key", counts...}]}) and exits 1 naming every count that differs.
"""

import csv
import json
import sys

COUNTS = [
    "total",
    "contact_due",
    "contacted_on_time",
    "resolution_due",
    "answered_on_time",
    "answered",
    "rated",
    "satisfied",
]


def read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    head = dict(zip(rows[0][0::2], rows[0][1::2]))
    columns = rows[1]
    cases = [dict(zip(columns, r)) for r in rows[2:] if any(r)]
    return head, cases


def count(cases, as_of):
    # Times are written alike (UTC, microseconds, Z), so comparing the text compares the instants.
    groups = {}
    for c in cases:
        g = groups.setdefault(c["category"], {k: 0 for k in COUNTS})
        live = c["status"] not in ("declined", "merged")
        contacted, answered, rating = c["contacted_at"], c["answered_at"], c["rating"]
        g["total"] += 1
        g["contact_due"] += bool(contacted or (c["contact_due"] < as_of and live))
        g["contacted_on_time"] += bool(contacted and contacted <= c["contact_due"])
        g["resolution_due"] += bool(answered or (c["resolution_due"] < as_of and live))
        g["answered_on_time"] += bool(answered and answered <= c["resolution_due"])
        g["answered"] += bool(answered or rating)
        g["rated"] += bool(rating)
        g["satisfied"] += rating in ("satisfied", "basically_satisfied")
    return groups


def rates(g):
    share = lambda part, whole: (g[part] / g[whole]) if g[whole] else None
    return {
        "response_rate": share("contacted_on_time", "contact_due"),
        "resolution_rate": share("answered_on_time", "resolution_due"),
        "satisfaction_rate": share("satisfied", "rated"),
        "rating_coverage": share("rated", "answered"),
    }


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--compare"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    head, cases = read(argv[1])
    groups = count(cases, head["as_of"])
    overall = {k: sum(g[k] for g in groups.values()) for k in COUNTS}
    report = {
        "as_of": head["as_of"],
        "from": head.get("from"),
        "to": head.get("to"),
        "categories": {k: {**g, **rates(g)} for k, g in sorted(groups.items())},
        "overall": {**overall, **rates(overall)},
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if len(argv) == 4:
        with open(argv[3], encoding="utf-8") as f:
            server = json.load(f)
        theirs = {r["key"]: r for r in server["rows"]}
        differ = []
        for key in sorted(set(theirs) | set(groups)):
            mine = groups.get(key, {k: 0 for k in COUNTS})
            for k in COUNTS:
                if theirs.get(key, {}).get(k, 0) != mine[k]:
                    differ.append(f"{key}.{k}: server {theirs.get(key, {}).get(k, 0)}, list {mine[k]}")
        if differ:
            print("the server's figures differ from the list:\n  " + "\n  ".join(differ), file=sys.stderr)
            return 1
        print(f"the server's figures agree with the list ({len(cases)} cases)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
