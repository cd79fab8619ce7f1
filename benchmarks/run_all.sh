#!/usr/bin/env bash
# Run the whole analytics benchmark suite and print one summary (about 4-5 minutes on 2 cores).
#
#   benchmarks/run_all.sh
#
# 1. close_budget.py starts first, in the background: it is almost entirely idle (both clients
#    sit in requests the blackholed sink never answers), so it overlaps the CPU-bound benchmarks
#    instead of adding its 90 s bound to the wall time.
# 2. test_capture_cost.py (pytest-benchmark, with and without a spool), 3. delivery.py,
# 4. spool_replay.py, 5. http_load.sh, then report.py.
# Exit status: 0 when every target is met, 1 otherwise. Results: .benchmarks/results/*.json.
# Knobs: DELIVERY_ROUNDS=2 CLOSE_BOUND=90, and http_load.sh's (ROUNDS, DURATION, COMPARE_POSTHOG ...).
set -uo pipefail

cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PY
STARTED=$(date +%s)
status=0

"$PY" -c 'import posthog, pytest_benchmark' 2>/dev/null \
  || { echo "missing tools: .venv/bin/pip install posthog pytest-benchmark" >&2; exit 2; }
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 2; }

LOGDIR=.benchmarks/results
mkdir -p "$LOGDIR"

echo "== close budget (background, bounded at ${CLOSE_BOUND:-90} s)"
"$PY" benchmarks/close_budget.py --bound "${CLOSE_BOUND:-90}" >"$LOGDIR/close_budget.log" 2>&1 &
CLOSE_PID=$!
# Wait until its CPU work (both capture bursts, our close()) is over: it prints "waiting up to"
# once only posthog-python's blocked shutdown() is left.
for _ in $(seq 300); do
  grep -q "waiting up to" "$LOGDIR/close_budget.log" 2>/dev/null && break
  kill -0 "$CLOSE_PID" 2>/dev/null || break
  sleep 0.1
done

echo "== capture cost (pytest-benchmark)"
"$PY" -m pytest benchmarks/test_capture_cost.py -p no:cacheprovider -q -s \
  --benchmark-columns=min,median,mean,iqr,rounds,iterations --benchmark-sort=name || status=1

echo "== delivery: 200 000-event burst"
"$PY" benchmarks/delivery.py --rounds "${DELIVERY_ROUNDS:-2}" || status=1

echo "== client CPU per event at an endpoint's pace (informational)"
"$PY" benchmarks/cpu_per_event.py || status=1

echo "== spool: 200 000-event outage, fill and replay"
"$PY" benchmarks/spool_replay.py || status=1

echo "== HTTP load (gunicorn + wrk)"
benchmarks/http_load.sh || status=1

echo "== close budget (waiting for the background run)"
wait "$CLOSE_PID" || status=1
cat "$LOGDIR/close_budget.log"

echo
echo "== summary ($(($(date +%s) - STARTED)) s)"
"$PY" benchmarks/report.py --since "$STARTED" || status=1
exit $status
