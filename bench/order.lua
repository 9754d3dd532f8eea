-- wrk script: POST /orders of one unit, random user in 1..USERS, random
-- product in 1..PRODUCTS, or always product HOT when HOT is set.
local users = tonumber(os.getenv("BENCH_USERS") or "") or 1000
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "") or 1000
local hot = tonumber(os.getenv("BENCH_HOT") or "") or 0

wrk.method = "POST"
wrk.path = "/orders"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  local pid = hot > 0 and hot or math.random(products)
  local body = string.format('{"userId":%d,"items":[{"productId":%d,"quantity":1}]}',
                             math.random(users), pid)
  return wrk.format(nil, nil, nil, body)
end


done = function(summary, latency, requests)
  io.write(string.format("wrk requests=%d errors=%d req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
