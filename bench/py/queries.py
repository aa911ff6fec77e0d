"""Latency of the REST API's main queries, real HTTP (keep-alive), one client.

    python3 queries.py PORT REQUESTS SEED

Prints one line per query kind: `kind n p50_ms p99_ms max_ms`.
Row keys are sampled from the store through the API first (so each history
request names a row that exists); the others are fixed requests.
"""
import calendar
import http.client
import json
import random
import sys
import time

port, requests, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def get(path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"queries.py: GET {path}: HTTP {r.status}: {body[:300]!r}")
    return body


def first_and_last_time():
    oldest = json.loads(get("/api/tables/ecommerce/orders/changes?order=asc&limit=1"))
    newest = json.loads(get("/api/tables/ecommerce/orders/changes?order=desc&limit=1"))
    if not oldest or not newest:
        sys.exit("queries.py: the store has no ecommerce.orders changes")
    return oldest[0]["timestamp"], newest[0]["timestamp"]


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


lo, hi = (epoch(t) for t in first_and_last_time())
tables = ["users", "orders", "products"]
# Existing row keys: pages of changes at random times of every table.
keys = []
for _ in range(30):
    table = rnd.choice(tables)
    t = rnd.randint(lo, hi)
    for c in json.loads(get(f"/api/tables/ecommerce/{table}/changes?start_time={t}&order=asc&limit=20")):
        keys.append((table, str(c["primary_key"]["id"])))
if not keys:
    sys.exit("queries.py: found no row keys")


def window():
    t = rnd.randint(lo, max(lo, hi - 600))
    return f"start_time={t}&end_time={t + 600}"


kinds = [
    ("row_history", lambda: "/api/records/ecommerce/%s/%s/history" % rnd.choice(keys)),
    ("table_stats", lambda: f"/api/tables/ecommerce/{rnd.choice(tables)}/stats"),
    ("table_stats_10min", lambda: f"/api/tables/ecommerce/{rnd.choice(tables)}/stats?{window()}"),
    ("changes_latest", lambda: f"/api/tables/ecommerce/{rnd.choice(tables)}/changes"),
    ("changes_10min", lambda: f"/api/tables/ecommerce/{rnd.choice(tables)}/changes?{window()}"),
    ("changes_updates_page2", None),
]


def changes_page2():
    # The second page of UPDATEs: follows the cursor the first page gave.
    table = rnd.choice(tables)
    path = f"/api/tables/ecommerce/{table}/changes?operation=UPDATE&limit=100"
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    nxt = r.getheader("X-Next-Cursor")
    return path + (f"&cursor={nxt}" if nxt else "")


for name, make in kinds:
    times = []
    for i in range(requests):
        path = make() if make else changes_page2()
        t0 = time.perf_counter()
        get(path)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{name} {len(times)} {p(0.50):.2f} {p(0.99):.2f} {times[-1]:.2f}")
