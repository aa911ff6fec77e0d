"""Polls the REST API for the newest INSERT into bench.lag and writes
`<response time, epoch seconds> <highest id visible>` to OUT per poll, until
STOP_FILE exists and holds an id it has seen (or 60 s more have passed).

    python3 lag_poller.py API_PORT INTERVAL_MS OUT STOP_FILE
"""
import http.client
import json
import os
import sys
import time

port, interval, out, stop_file = int(sys.argv[1]), float(sys.argv[2]) / 1000, sys.argv[3], sys.argv[4]
path = "/api/tables/bench/lag/changes?operation=INSERT&order=desc&limit=1"
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
log = open(out, "w", buffering=1)
seen = 0
deadline = None
while True:
    t0 = time.time()
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        t = time.time()
        if r.status == 200:
            items = json.loads(body)
            if items:
                seen = max(seen, int(items[0]["primary_key"]["id"]))
            log.write(f"{t:.6f} {seen}\n")
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        # The table is unknown until its first change is stored (404), or
        # the server is still starting: keep polling.
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if os.path.exists(stop_file):
        try:
            target = int(open(stop_file).read().split()[0])
        except (ValueError, IndexError):
            target = None
        if deadline is None:
            deadline = time.time() + 60
        if (target is not None and seen >= target) or time.time() > deadline:
            break
    rest = interval - (time.time() - t0)
    if rest > 0:
        time.sleep(rest)
