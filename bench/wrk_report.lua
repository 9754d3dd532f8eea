-- Shared by the bench wrk scripts (loaded with dofile): the `done` that prints one line
-- bench/run parses. Counts come from wrk's summary: requests are completed responses,
-- non2xx the responses with status >= 400 (wrk's errors.status), connect/read/write/timeout
-- its socket errors; ok = requests - non2xx; latencies are over every response.
function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local ok = summary.requests - e.status
  io.write(string.format(
    "wrk requests=%d ok=%d non2xx=%d connect=%d read=%d write=%d timeout=%d errors=%d " ..
    "req_per_s=%.0f ok_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, ok, e.status, e.connect, e.read, e.write, e.timeout,
    e.status + e.connect + e.read + e.write + e.timeout,
    summary.requests / secs, ok / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
