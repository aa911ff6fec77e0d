"""Source commit → visible through the API, per transaction.

    python3 lag_report.py WRITER_LOG POLLER_LOG WARMUP_SECONDS

A transaction (highest id I, committed at C) is visible at the first poll
response whose newest visible id is >= I (the store commits whole
transactions in binlog order, so everything up to I is visible then).
Transactions committed in the first WARMUP_SECONDS are left out.
Prints: `<transactions> <never seen> <p50 ms> <p99 ms> <max ms>`.
"""
import bisect
import sys

writer = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
polls = [tuple(map(float, line.split())) for line in open(sys.argv[2]) if line.strip()]
warmup = float(sys.argv[3])
if not writer:
    sys.exit("lag_report.py: the writer committed nothing")
start = writer[0][1]
times, best, running = [], [], 0.0
for t, seen in sorted(polls):
    running = max(running, seen)
    times.append(t)
    best.append(running)
lags, missing = [], 0
for last_id, committed in writer:
    if committed - start < warmup:
        continue
    i = bisect.bisect_left(best, last_id)
    # the first poll that shows the id and was answered after the commit
    while i < len(times) and times[i] < committed:
        i += 1
    if i >= len(times):
        missing += 1
        continue
    lags.append((times[i] - committed) * 1000)
lags.sort()
if not lags:
    sys.exit("lag_report.py: no transaction became visible")
p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print(f"{len(lags)} {missing} {p(0.50):.1f} {p(0.99):.1f} {lags[-1]:.1f}")
