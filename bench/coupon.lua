-- wrk script: POST /coupons/COUPON/issue, each request a different user
-- (users FIRST_USER.. are distinct across threads: thread i takes i, i+T, ...).
local coupon = tonumber(os.getenv("BENCH_COUPON") or "") or 1
local threads_n = tonumber(os.getenv("BENCH_THREADS") or "") or 2
local counter = 0
local tid = 0
local thread_ids = 0

function setup(thread)
  thread:set("tid", thread_ids)
  thread_ids = thread_ids + 1
end

function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local user = 1 + tid + counter * threads_n
  counter = counter + 1
  return wrk.format(nil, "/coupons/" .. coupon .. "/issue", nil, string.format('{"userId":%d}', user))
end

done = function(summary, latency, requests)
  io.write(string.format("wrk requests=%d non2xx=%d req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
