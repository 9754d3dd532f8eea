-- wrk script: POST /orders of one unit, random user in 1..BENCH_USERS, random
-- product in 1..BENCH_PRODUCTS, or always product BENCH_HOT when it is set.
-- BENCH_TOKENS (optional) names a file of bearer tokens, one a line, line i for
-- user i: each request then carries `Authorization: Bearer <token of its user>`.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local users = tonumber(os.getenv("BENCH_USERS") or "") or 1000
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "") or 1000
local hot = tonumber(os.getenv("BENCH_HOT") or "") or 0
local tokens = nil

wrk.method = "POST"
wrk.path = "/orders"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  tokens = dofile(here .. "wrk_tokens.lua")(users)
end

request = function()
  local user = math.random(users)
  local pid = hot > 0 and hot or math.random(products)
  local body = string.format('{"userId":%d,"items":[{"productId":%d,"quantity":1}]}', user, pid)
  if tokens then
    wrk.headers["Authorization"] = "Bearer " .. tokens[user]
  end
  return wrk.format(nil, nil, nil, body)
end

dofile(here .. "wrk_report.lua")
