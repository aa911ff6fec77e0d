"""Steady write load for bench/lag: ROWS row changes per transaction at a
fixed RATE of row changes per second for SECONDS, into bench.lag.

    python3 lag_writer.py PORT RATE SECONDS ROWS OUT

Each transaction first UPDATEs a fifth of its rows (rows of an earlier
transaction), then INSERTs the rest, so its last row change is the INSERT
with the highest id. Every row carries the wall-clock time of its statement
(`t_us`, microseconds). After COMMIT returns, one line goes to OUT:
`<highest id> <commit time, epoch seconds>`; bench/py/lag_report.py matches
these against what the API showed when. Transactions are started on a fixed
schedule; when the server (or this machine) cannot keep up they run back to
back and the achieved rate, printed at the end, is below RATE.
"""
import sys
import time

import pymysql

port, rate, seconds, rows, out = (
    int(sys.argv[1]),
    float(sys.argv[2]),
    float(sys.argv[3]),
    int(sys.argv[4]),
    sys.argv[5],
)
updates = rows // 5
inserts = rows - updates
conn = pymysql.connect(host="127.0.0.1", port=port, user="bench", password="bench-pw",
                       database="bench", autocommit=False)
cur = conn.cursor()
note = "steady lag workload row, 40 characters."
log = open(out, "w", buffering=1)
start = time.time()
interval = rows / rate
txns = changes = 0
last_id = 0
while True:
    due = start + txns * interval
    now = time.time()
    if due - start >= seconds:
        break
    if due > now:
        time.sleep(due - now)
    t_us = int(time.time() * 1e6)
    if last_id >= updates:
        cur.execute(f"UPDATE lag SET k = k + 1, t_us = {t_us} WHERE id > {last_id - updates} AND id <= {last_id}")
        changes += cur.rowcount
    values = ",".join(f"({t_us},{txns},'{note}')" for _ in range(inserts))
    cur.execute(f"INSERT INTO lag (t_us, k, note) VALUES {values}")
    first = cur.lastrowid  # consecutive ids for a multi-row INSERT
    changes += cur.rowcount
    conn.commit()
    last_id = first + inserts - 1
    log.write(f"{last_id} {time.time():.6f}\n")
    txns += 1
elapsed = time.time() - start
print(f"{txns} {changes} {elapsed:.3f} {last_id}")
