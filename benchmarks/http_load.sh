#!/usr/bin/env bash
# Load test of POST /api/analytics/events under gunicorn on 127.0.0.1, with wrk.
#
# Configurations, run interleaved (the order rotates every round) and repeated ROUNDS times:
#   a  analytics on, fastsink healthy                 (our client, production settings)
#   b  ANALYTICS_DISABLED=1                           (NoopClient: the baseline)
#   c  analytics on, fastsink blackholed              (PostHog down: queue fills, events drop)
#   d  posthog-python behind capture(), sink healthy  (comparison; COMPARE_POSTHOG=0 skips it)
# Reported: medians over rounds of requests/s and latency percentiles; targets
#   a/b throughput >= 95 %   and   p99(c) within 5 % of p99(a).
#
# Usage: benchmarks/http_load.sh        (from anywhere; needs wrk: apt-get install -y wrk)
# Knobs (env): ROUNDS=3 DURATION=10 WARMUP=2 THREADS=2 CONNECTIONS=16 WEB_CONCURRENCY=2
#              GUNICORN_THREADS=4 COMPARE_POSTHOG=1 QUIET_IDLE=0.75 QUIET_MAX=5 KEEP_WORKDIR=0 SPOOL=1
# Everything listens on 127.0.0.1 only; each wrk run is bounded by DURATION seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
COMPARE_POSTHOG=${COMPARE_POSTHOG:-1}
QUIET_IDLE=${QUIET_IDLE:-0.75}   # before each run, wait for a second with >= 75 % idle CPU ...
QUIET_MAX=${QUIET_MAX:-5}        # ... but no longer than this many seconds
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
export GUNICORN_THREADS=${GUNICORN_THREADS:-4}

command -v wrk >/dev/null || { echo "wrk not found (apt-get install -y wrk)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/multica-http-load.XXXXXX")
SINK_PID=""
GUNICORN_PID=""

cleanup() {
  if [[ -n "$GUNICORN_PID" ]] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    wait "$GUNICORN_PID" 2>/dev/null || true
  fi
  if [[ -n "$SINK_PID" ]] && kill -0 "$SINK_PID" 2>/dev/null; then
    kill -TERM "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP_WORKDIR:-0}" != "1" ]]; then rm -rf "$WORK"; else echo "work dir kept: $WORK"; fi
}
trap cleanup EXIT INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# -- the PostHog sink (separate process, loopback) -----------------------------------------------
"$PY" benchmarks/fastsink.py --port-file "$WORK/sink.port" >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/sink.port" ]] && break; sleep 0.05; done
SINK_URL="http://127.0.0.1:$(cat "$WORK/sink.port")"
sink() { curl -fsS -X "$1" "$SINK_URL$2"; }

# -- app environment: production settings, throttles off, a throwaway SQLite database -------------
export APP_ENV=production
export SECRET_KEY="benchmark-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export RATELIMIT_ENABLED=false
export DATABASE_URL="sqlite:///$WORK/bench.db"
export PROMETHEUS_MULTIPROC_DIR="$WORK/prometheus"   # gunicorn.conf.py empties it on start
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
export POSTHOG_API_KEY=phc_benchmark
export POSTHOG_SHUTDOWN_TIMEOUT=${POSTHOG_SHUTDOWN_TIMEOUT:-2}
export POSTHOG_SPOOL_DIR="$WORK/spool"
"$BIN/flask" --app app db upgrade >"$WORK/db-upgrade.log" 2>&1 || { cat "$WORK/db-upgrade.log" >&2; exit 1; }

CONFIGS=(a b c)
[[ "$COMPARE_POSTHOG" == "1" ]] && CONFIGS+=(d)

run_one() {
  local config=$1 round=$2 port app_args=() disabled="" host="$SINK_URL"
  port=$(free_port)
  case "$config" in
    a) sink POST /_mode/healthy >/dev/null; app_args=(app:app) ;;
    b) disabled=1; host=""; app_args=(app:app) ;;
    c) sink POST /_mode/blackhole >/dev/null; app_args=(app:app) ;;
    d) sink POST /_mode/healthy >/dev/null; app_args=(--pythonpath benchmarks posthog_app:app) ;;
  esac
  local before
  before=$(sink GET /_stats)
  # The spool is on, as in production, in a directory of this run's own (nothing crosses runs);
  # SPOOL=0 turns it off to compare.
  local spool_dir="$WORK/spool-$config-$round"
  [[ "${SPOOL:-1}" == "0" ]] && spool_dir=""
  ANALYTICS_DISABLED=$disabled POSTHOG_HOST=$host BIND="127.0.0.1:$port" POSTHOG_SPOOL_DIR="$spool_dir" \
    "$BIN/gunicorn" -c gunicorn.conf.py "${app_args[@]}" \
    >/dev/null 2>"$WORK/gunicorn-$config-$round.log" &
  GUNICORN_PID=$!
  local ready=""
  for _ in $(seq 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/analytics/events" \
      -H 'Content-Type: application/json' -b 'multica_anon_id=anon-readiness' \
      --data '{"events":[{"event":"download_intent_expressed","properties":{"source":"landing_hero"}}]}' || true)
    if [[ "$code" == "202" ]]; then ready=1; break; fi
    sleep 0.1
  done
  if [[ -z "$ready" ]]; then
    echo "gunicorn ($config) did not become ready:" >&2; tail -20 "$WORK/gunicorn-$config-$round.log" >&2; exit 1
  fi
  WRK_JSON="$WORK/warmup-$config-$round.json" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s benchmarks/ingest.lua "http://127.0.0.1:$port" >/dev/null
  # The machine is shared: wait (bounded) for a quiet second, then measure wall clock and the
  # CPU time gunicorn (master + workers) spent per request, plus how busy the machine was.
  local idle snap0 snap1
  idle=$("$PY" benchmarks/_procstat.py quiet --idle "$QUIET_IDLE" --max "$QUIET_MAX")
  "$PY" benchmarks/_procstat.py busy "$DURATION" >"$WORK/busy-$config-$round.txt" &
  local busy_pid=$!
  snap0=$("$PY" benchmarks/_procstat.py snap "$GUNICORN_PID")
  WRK_JSON="$WORK/wrk-$config-$round.json" "$PY" benchmarks/_procstat.py run \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s benchmarks/ingest.lua \
    "http://127.0.0.1:$port" >"$WORK/wrk-$config-$round.txt" 2>"$WORK/wrkcpu-$config-$round.txt"
  snap1=$("$PY" benchmarks/_procstat.py snap "$GUNICORN_PID")
  wait "$busy_pid" || true
  kill -TERM "$GUNICORN_PID"
  wait "$GUNICORN_PID" || true
  GUNICORN_PID=""
  [[ "$config" == "c" ]] && sink POST /_mode/healthy >/dev/null
  local after
  after=$(sink GET /_stats)
  "$PY" - "$WORK/wrk-$config-$round.json" "$before" "$after" "$snap0" "$snap1" "$idle" \
    "$(cat "$WORK/busy-$config-$round.txt")" "$(tail -1 "$WORK/wrkcpu-$config-$round.txt")" <<'PY'
import json, os, sys
path, before, after = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
(cpu0, ctx0), (cpu1, ctx1) = (map(float, sys.argv[4].split())), (map(float, sys.argv[5].split()))
idle, busy, wrk_cpu = map(float, sys.argv[6:9])
data = json.load(open(path))
n, capacity = max(1, data["requests"]), (os.cpu_count() or 1) * data["duration_s"]
data["sink_events_delta"] = after["events"] - before["events"]
data["app_cpu_s"] = round(cpu1 - cpu0, 2)
data["app_cpu_us_per_request"] = round((cpu1 - cpu0) / n * 1e6, 1)
data["app_ctxsw_per_request"] = round((ctx1 - ctx0) / n, 2)
data["wrk_cpu_s"] = wrk_cpu
data["idle_before"] = idle
data["machine_busy"] = busy
# CPU the machine spent on anything but this app and wrk during the run (other users' jobs).
data["other_load"] = round(max(0.0, busy * capacity - (cpu1 - cpu0) - wrk_cpu) / capacity, 3)
json.dump(data, open(path, "w"))
PY
  "$PY" - "$config" "$round" "$WORK/wrk-$config-$round.json" <<'PY'
import json, sys
c, r, d = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
l = d["latency_us"]
print(f"  round {r} config {c}: {d['rps']:>8,.0f} req/s  p50 {l['p50']/1000:6.2f} ms  p99 {l['p99']/1000:6.2f} ms  "
      f"app CPU {d['app_cpu_us_per_request']:4.0f} us/req  vol. ctx sw {d['app_ctxsw_per_request']:4.1f}/req  "
      f"errors {sum(d['errors'].values())}  sink +{d['sink_events_delta']} events  "
      f"(other load {d['other_load']:.0%} of the machine)", flush=True)
PY
}

echo "http load: $ROUNDS rounds x configs ${CONFIGS[*]} (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s after ${WARMUP}s warm-up;" \
     "gunicorn $WEB_CONCURRENCY workers x $GUNICORN_THREADS threads)"
n=${#CONFIGS[@]}
for ((round = 1; round <= ROUNDS; round++)); do
  for ((i = 0; i < n; i++)); do
    run_one "${CONFIGS[$(((i + round - 1) % n))]}" "$round"
  done
done

"$PY" benchmarks/http_summary.py "$WORK" \
  --rounds "$ROUNDS" --duration "$DURATION" --threads "$THREADS" --connections "$CONNECTIONS" \
  --workers "$WEB_CONCURRENCY" --gunicorn-threads "$GUNICORN_THREADS"
