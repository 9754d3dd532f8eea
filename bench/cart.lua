-- wrk script: PUT /users/{u}/cart/items/{p} {"quantity":1}: a small write of its own
-- transaction (not the order procedures), random user in 1..BENCH_USERS, random product in
-- 1..BENCH_PRODUCTS. BENCH_TOKENS as in order.lua.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local users = tonumber(os.getenv("BENCH_USERS") or "") or 1000
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "") or 1000
local tokens = nil

wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"quantity":1}'

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  tokens = dofile(here .. "wrk_tokens.lua")(users)
end

request = function()
  local user = math.random(users)
  if tokens then
    wrk.headers["Authorization"] = "Bearer " .. tokens[user]
  end
  return wrk.format(nil, string.format("/users/%d/cart/items/%d", user, math.random(products)))
end

dofile(here .. "wrk_report.lua")
