-- wrk script: POST /coupons/COUPON/issue, each request a different user
-- (users FIRST_USER.. are distinct across threads: thread i takes i, i+T, ...).
-- BENCH_TOKENS (optional): bearer tokens, line i for user i (see order.lua); a
-- user past the end of the file is sent without one (and counts as non-2xx).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local coupon = tonumber(os.getenv("BENCH_COUPON") or "") or 1
local threads_n = tonumber(os.getenv("BENCH_THREADS") or "") or 2
local counter = 0
local tid = 0
local thread_ids = 0
local tokens = nil

function setup(thread)
  thread:set("tid", thread_ids)
  thread_ids = thread_ids + 1
end

function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  tokens = dofile(here .. "wrk_tokens.lua")(0)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local user = 1 + tid + counter * threads_n
  counter = counter + 1
  if tokens then
    wrk.headers["Authorization"] = tokens[user] and "Bearer " .. tokens[user] or nil
  end
  return wrk.format(nil, "/coupons/" .. coupon .. "/issue", nil, string.format('{"userId":%d}', user))
end

dofile(here .. "wrk_report.lua")
