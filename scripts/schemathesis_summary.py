"""Counts the requests of a Schemathesis run (its HAR reports) by operation and response status.

    python3 scripts/schemathesis_summary.py REPORT_DIR PORT
"""

import collections
import glob
import json
import re
import sys
from urllib.parse import urlsplit

NAMED = ("stats", "export", "stream", "poll")

statuses = collections.defaultdict(collections.Counter)
total = 0
for path in glob.glob(f"{sys.argv[1]}/har-*.json") + glob.glob(f"{sys.argv[1]}/*.har"):
    with open(path) as f:
        entries = json.load(f)["log"]["entries"]
    for entry in entries:
        url = urlsplit(entry["request"]["url"])
        if url.port != int(sys.argv[2]):
            continue
        route = re.sub(r"^/api/v1", "", url.path)
        parts = route.split("/")
        if len(parts) >= 3 and parts[1] in ("events", "exports") and parts[2] not in NAMED:
            parts[2] = "{id}"
        op = f"{entry['request']['method']} {'/'.join(parts)}"
        statuses[op][entry["response"]["status"]] += 1
        total += 1
for op in sorted(statuses):
    counts = statuses[op]
    detail = " ".join(f"{s}:{n}" for s, n in sorted(counts.items()))
    print(f"{op:28} {sum(counts.values()):6}  {detail}")
print(f"{'total':28} {total:6}")
