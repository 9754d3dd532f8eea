-- wrk script: GET /products/{id} of a random product in 1..BENCH_PRODUCTS (public: no token).
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "") or 1000

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  return wrk.format("GET", "/products/" .. math.random(products))
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
