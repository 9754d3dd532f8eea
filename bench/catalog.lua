-- wrk script: GET /products?limit=20&after=N, a page of the catalog from a random point
-- (public: no token); a catalog read, which a replica may serve.
local products = tonumber(os.getenv("BENCH_PRODUCTS") or "") or 1000

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  return wrk.format("GET", "/products?limit=20&after=" .. math.random(1, products - 20))
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_report.lua")
