-- wrk script for benchmarks/http_load.sh: POST one browser event to /api/analytics/events.
-- The endpoint answers 202; wrk counts anything outside 2xx/3xx as a status error.
-- On exit it writes one JSON line (to $WRK_JSON, or stdout) with throughput and latency
-- percentiles in microseconds.

wrk.method = "POST"
wrk.path = "/api/analytics/events"
wrk.body = '{"events":[{"event":"download_intent_expressed","properties":{"source":"landing_hero"}}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "multica_anon_id=anon-0b6f3c1e-wrk-benchmark"

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local line = string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}',
    summary.requests, seconds, summary.requests / seconds,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout)
  local path = os.getenv("WRK_JSON")
  if path and path ~= "" then
    local f = assert(io.open(path, "w"))
    f:write(line, "\n")
    f:close()
  else
    io.write(line, "\n")
  end
end
